"""customers: IDs never reused on SQLite; references unique whatever their case

Revision ID: customers0002
Revises: customers0001
Create Date: 2026-11-29 09:20:00

SQLite tables are rebuilt with AUTOINCREMENT (a deleted customer's ID is never given to a
new one); nothing changes on PostgreSQL, whose sequences never reuse values. The unique
constraint on ``(organization_id, reference)`` becomes a unique index on
``(organization_id, lower(reference))``. References that differed only by case are made
distinct first: the oldest customer keeps its reference, the others get `` (<id>)``
appended, and their timeline records the change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fiche.db import utcnow
from fiche.migration_ops import rebuild_with_autoincrement, rename_case_duplicates
from fiche.text import fold

revision: str = 'customers0002'
down_revision: str | Sequence[str] | None = 'customers0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "customers",
    "customer_sequences",
    "customer_events",
    "customer_memos",
    "customer_contacts",
    "customer_addresses",
    "customer_relations",
    "customer_custom_fields",
    "customer_custom_values",
    "customer_documents",
)
OLD_CONSTRAINT = "uq_customers_organization_id_reference"
NEW_INDEX = "uq_customers_organization_id_lower_reference"


def _record_renames() -> None:
    bind = op.get_bind()
    for organization_id, customer_id, old, new in rename_case_duplicates("customers", "reference", 40):
        name = bind.execute(sa.text("SELECT display_name FROM customers WHERE id = :id"), {"id": customer_id}).scalar_one()
        bind.execute(
            sa.text("UPDATE customers SET search_text = :search WHERE id = :id"),
            {"search": fold(f"{name} {new}")[:300], "id": customer_id},
        )
        occurred_at = utcnow()
        bind.execute(
            sa.text(
                "INSERT INTO customer_events (organization_id, customer_id, kind, occurred_at, details) "
                "VALUES (:organization_id, :customer_id, 'UPDATED', :occurred_at, :details)"
            ),
            {
                "organization_id": organization_id,
                "customer_id": customer_id,
                "occurred_at": occurred_at.replace(tzinfo=None) if bind.dialect.name == "sqlite" else occurred_at,
                "details": f"Reference {old} renamed to {new}: another customer's differs only by case.",
            },
        )


def upgrade() -> None:
    _record_renames()
    if op.get_bind().dialect.name == "sqlite":
        rebuild_with_autoincrement(TABLES, {"customers": lambda batch: batch.drop_constraint(OLD_CONSTRAINT, type_="unique")})
    else:
        op.drop_constraint(OLD_CONSTRAINT, "customers", type_="unique")
    op.create_index(NEW_INDEX, "customers", ["organization_id", sa.text("lower(reference)")], unique=True)


def downgrade() -> None:
    op.drop_index(NEW_INDEX, table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.create_unique_constraint(OLD_CONSTRAINT, ["organization_id", "reference"])
