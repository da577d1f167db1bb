"""gateway core: IDs never reused on SQLite

Revision ID: gateway0002
Revises: gateway0001
Create Date: 2026-11-29 09:20:00

SQLite tables are rebuilt with AUTOINCREMENT, so that a deleted user's, team's or
notification's ID is never given to a new one (a kept global ID would point elsewhere).
Nothing changes on PostgreSQL, whose sequences never reuse values.
"""

from __future__ import annotations

from collections.abc import Sequence

from fiche.migration_ops import rebuild_with_autoincrement

revision: str = 'gateway0002'
down_revision: str | Sequence[str] | None = 'gateway0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "organizations",
    "users",
    "teams",
    "team_memberships",
    "organization_settings",
    "notifications",
    "notification_preferences",
)


def upgrade() -> None:
    rebuild_with_autoincrement(TABLES)


def downgrade() -> None:
    pass  # AUTOINCREMENT is harmless to older code
