"""On SQLite, a read runs on the event loop's thread and a write is one trip to aiosqlite's
connection thread (cursor, execute, rows and close together), and the cursor SQLAlchemy sees still behaves as a DB-API cursor:
rows, row counts, ``lastrowid``, ``executemany``, errors.

SQLite only: the cursor is the aiosqlite adapter's; PostgreSQL has no such thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from fiche.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/cursor.db")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The functions sent to aiosqlite's threads, by name."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield sent


async def test_a_select_runs_without_a_trip_to_the_connection_thread(db: Database, trips: list[str]) -> None:
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the pool's first connection is made here
        trips.clear()
        rows = (await connection.execute(text("SELECT 1, 'a' UNION ALL SELECT 2, 'b'"))).all()
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]
    assert "_run_statement" not in trips
    assert "cursor" not in trips and "fetchall" not in trips and "close" not in trips


async def test_a_write_is_one_trip_to_the_connection_thread(db: Database, trips: list[str]) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("SELECT 1"))
        trips.clear()
        await connection.execute(text("INSERT INTO t (name) VALUES ('one')"))
        assert trips.count("_run_statement") == 1
        assert "cursor" not in trips and "fetchall" not in trips and "close" not in trips


async def test_a_read_sees_its_own_transaction_and_what_others_committed(db: Database) -> None:
    async with db.engine.connect() as reader:
        async with db.engine.begin() as writer:
            await writer.execute(text("INSERT INTO t (name) VALUES ('one')"))
            # the writer's own read, on its connection, sees its uncommitted row; the reader does not
            assert (await writer.execute(text("SELECT name FROM t"))).scalars().all() == ["one"]
            assert (await reader.execute(text("SELECT name FROM t"))).scalars().all() == []
            await reader.rollback()
        assert (await reader.execute(text("SELECT name FROM t"))).scalars().all() == ["one"]


async def test_a_refused_read_is_the_usual_error(db: Database) -> None:
    async with db.engine.connect() as connection:
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM missing"))
        # the connection is still usable
        assert (await connection.execute(text("SELECT 2"))).scalar() == 2


async def test_writes_report_row_counts_and_new_ids(db: Database) -> None:
    async with db.engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('one')"))
        assert inserted.lastrowid == 1
        many = await connection.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "two"}, {"name": "three"}])
        assert many.rowcount == 2
        updated = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
    async with db.engine.connect() as connection:
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.fetchone() == (1, "one")
        assert result.fetchmany(1) == [(2, "two!")]
        assert result.fetchall() == [(3, "three!")]


async def test_a_refused_write_is_the_usual_error_and_rolls_back(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('one')"))
    with pytest.raises(IntegrityError):
        async with db.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (name) VALUES ('two')"))
            await connection.execute(text("INSERT INTO t (name) VALUES ('one')"))
    async with db.engine.connect() as connection:
        assert (await connection.execute(text("SELECT name FROM t"))).scalars().all() == ["one"]
