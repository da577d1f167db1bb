"""gateway core: notifications numbered per recipient in commit order

Revision ID: gateway0003
Revises: gateway0002
Create Date: 2026-11-29 10:05:00

Every inbox row gets ``recipient_seq`` (1, 2, 3... per recipient) and every user who has
notifications a ``notification_counters`` row holding the last number given. Existing rows
are numbered in ID order, which was the only order known for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from fiche.migration_ops import rebuild_with_autoincrement

revision: str = 'gateway0003'
down_revision: str | Sequence[str] | None = 'gateway0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE_SEQ = 'uq_notifications_recipient_id_recipient_seq'


def upgrade() -> None:
    op.create_table('notification_counters',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_notification_counters_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_counters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_counters'))
    )
    with op.batch_alter_table('notification_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_counters_organization_id'), ['organization_id'], unique=False)

    op.add_column('notifications', sa.Column('recipient_seq', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE notifications SET recipient_seq = numbered.seq FROM ("
        " SELECT id, row_number() OVER (PARTITION BY recipient_id ORDER BY id) AS seq FROM notifications"
        ") AS numbered WHERE numbered.id = notifications.id"
    )
    op.execute(
        "INSERT INTO notification_counters (user_id, organization_id, seq)"
        " SELECT notifications.recipient_id, users.organization_id, max(notifications.recipient_seq)"
        " FROM notifications JOIN users ON users.id = notifications.recipient_id"
        " GROUP BY notifications.recipient_id, users.organization_id"
    )

    def require_seq(batch: BatchOperations) -> None:
        batch.alter_column('recipient_seq', existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(UNIQUE_SEQ, ['recipient_id', 'recipient_seq'])

    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot add NOT NULL or a constraint in place; the rebuild keeps AUTOINCREMENT.
        rebuild_with_autoincrement(['notifications'], {'notifications': require_seq})
    else:
        with op.batch_alter_table('notifications', schema=None) as batch_op:
            require_seq(batch_op)


def downgrade() -> None:
    def drop_seq(batch: BatchOperations) -> None:
        batch.drop_constraint(UNIQUE_SEQ, type_='unique')
        batch.drop_column('recipient_seq')

    if op.get_bind().dialect.name == 'sqlite':
        rebuild_with_autoincrement(['notifications'], {'notifications': drop_seq})
    else:
        with op.batch_alter_table('notifications', schema=None) as batch_op:
            drop_seq(batch_op)
    with op.batch_alter_table('notification_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_counters_organization_id'))
    op.drop_table('notification_counters')
