"""activities: IDs never reused on SQLite; type and form names unique whatever their case

Revision ID: activities0002
Revises: activities0001
Create Date: 2026-11-29 09:20:00

SQLite tables are rebuilt with AUTOINCREMENT (nothing changes on PostgreSQL, whose
sequences never reuse values). Activity type names and report form names get a unique
index on ``(organization_id, lower(name))``; names that differed only by case are made
distinct first: the oldest keeps its name, the others get `` (<id>)`` appended.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fiche.migration_ops import rebuild_with_autoincrement, rename_case_duplicates

revision: str = 'activities0002'
down_revision: str | Sequence[str] | None = 'activities0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "activity_types",
    "activity_report_forms",
    "activity_report_form_fields",
    "activity_type_forms",
    "activities",
    "activity_location_checks",
    "activity_reports",
    "activity_attachments",
)
NAME_INDEXES = {
    "activity_types": ("uq_activity_types_organization_id_lower_name", 80),
    "activity_report_forms": ("uq_activity_report_forms_organization_id_lower_name", 120),
}


def upgrade() -> None:
    for table, (_index, length) in NAME_INDEXES.items():
        rename_case_duplicates(table, "name", length)
    rebuild_with_autoincrement(TABLES)
    for table, (index, _length) in NAME_INDEXES.items():
        op.create_index(index, table, ["organization_id", sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    for table, (index, _length) in NAME_INDEXES.items():
        op.drop_index(index, table_name=table)
