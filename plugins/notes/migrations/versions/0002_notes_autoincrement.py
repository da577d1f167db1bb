"""notes: IDs never reused on SQLite

Revision ID: notes0002
Revises: notes0001
Create Date: 2026-11-29 09:20:00

SQLite tables are rebuilt with AUTOINCREMENT, so that a deleted note's ID (and its
``#note-…`` deep link) is never given to a new note. Nothing changes on PostgreSQL, whose
sequences never reuse values.
"""

from __future__ import annotations

from collections.abc import Sequence

from fiche.migration_ops import rebuild_with_autoincrement

revision: str = 'notes0002'
down_revision: str | Sequence[str] | None = 'notes0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("note_categories", "notes", "note_mentions", "customer_follows")


def upgrade() -> None:
    rebuild_with_autoincrement(TABLES)


def downgrade() -> None:
    pass  # AUTOINCREMENT is harmless to older code
