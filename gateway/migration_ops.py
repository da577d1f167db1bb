"""Operations that migrations of the gateway and of plugins share.

``rebuild_with_autoincrement`` turns SQLite tables created without ``AUTOINCREMENT`` into
tables that never reuse an ID (see ``fiche.db.Base``): SQLite cannot add the keyword to an
existing table, so each one is rebuilt (new table, rows copied, old one dropped, new one
renamed), keeping every row, index and constraint. PostgreSQL never reuses sequence values,
so there it does nothing.

``rename_case_duplicates`` prepares a column for a unique index on ``lower(column)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

__all__ = ["rebuild_with_autoincrement", "rename_case_duplicates"]


def rebuild_with_autoincrement(
    tables: Sequence[str], alter: Mapping[str, Callable[[BatchOperations], None]] | None = None
) -> None:
    """Rebuild each SQLite table of ``tables`` with ``AUTOINCREMENT`` on its ``id``;
    ``alter[table]`` may change the table in the same rebuild (e.g. drop a constraint)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in tables:
        # Reflection loses the WHERE of a partial index and the expression of an expression
        # index, so the table's own indexes are dropped and re-created from their SQL.
        indexes = bind.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL"),
            {"table": table},
        ).all()
        for name, _sql in indexes:
            op.drop_index(name, table_name=table)
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}) as batch:
            if alter and table in alter:
                alter[table](batch)
        for _name, sql in indexes:
            op.execute(sql)


def rename_case_duplicates(table: str, column: str, length: int) -> list[tuple[int, int, str, str]]:
    """Make ``column`` unique per organisation ignoring case, before a unique index on
    ``lower(column)``: of rows whose values differ only by case, the oldest (lowest ID)
    keeps its value and the others get `` (<id>)`` appended (cut to ``length``).

    Returns ``(organization_id, id, old, new)`` of each renamed row, so that the caller may
    record what changed."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT id, organization_id, {column} AS value, lower({column}) AS folded FROM {table} ORDER BY id")
    ).all()
    seen: set[tuple[int, str]] = set()
    renamed: list[tuple[int, int, str, str]] = []
    for row in rows:
        key = (row.organization_id, row.folded)
        if key not in seen:
            seen.add(key)
            continue
        suffix = f" ({row.id})"
        new = row.value[: length - len(suffix)] + suffix
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :new WHERE id = :id"), {"new": new, "id": row.id})
        renamed.append((row.organization_id, row.id, row.value, new))
    return renamed
