"""loyalty cards

Revision ID: loyalty0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "loyalty0001"
down_revision = None
branch_labels = ("loyalty",)
depends_on = "gateway0001"


def upgrade() -> None:
    op.create_table(
        "loyalty_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], name=op.f("fk_loyalty_cards_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_cards")),
    )
    op.create_index(op.f("ix_loyalty_cards_customer_id"), "loyalty_cards", ["customer_id"])
    op.create_index(op.f("ix_loyalty_cards_organization_id"), "loyalty_cards", ["organization_id"])


def downgrade() -> None:
    op.drop_table("loyalty_cards")
