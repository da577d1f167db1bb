"""The database layer under concurrency: pooled connections (on SQLite, no thread started
per request), read sessions that see every commit, writers that wait for each other."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update

from fiche import db as fiche_db
from fiche.accounts import models
from fiche.db import SQLITE_BUSY_TIMEOUT_MS, Database, TenantError, in_keys
from tests.support import TestOrg

# Ten root fields, each opening a read session of its own at the same time: more than
# SQLAlchemy's default pool of five connections, as a busy page's loader batches do.
PAGE = "{ " + " ".join(f"u{i}: users(first: 5) {{ nodes {{ handle }} }} t{i}: teams {{ name }}" for i in range(5)) + " }"


class CheckoutGauge:
    """The most connections checked out of an engine's pool at once."""

    def __init__(self) -> None:
        self.out = 0
        self.peak = 0

    def checkout(self, *_: Any) -> None:
        self.out += 1
        self.peak = max(self.peak, self.out)

    def checkin(self, *_: Any) -> None:
        self.out -= 1


@pytest.fixture
def gauge(org: TestOrg) -> Iterator[CheckoutGauge]:
    pool = org.state.db.sync_engine.pool
    gauge = CheckoutGauge()
    event.listen(pool, "checkout", gauge.checkout)
    event.listen(pool, "checkin", gauge.checkin)
    yield gauge
    event.remove(pool, "checkout", gauge.checkout)
    event.remove(pool, "checkin", gauge.checkin)


@pytest.fixture
def thread_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads started while the test runs (aiosqlite starts one per connection)."""
    started: list[str] = []
    start = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    return started


async def _readers_at_once(org: TestOrg, count: int) -> None:
    """``count`` read sessions open at the same time, each having read: on SQLite the page's
    own reads run one after the other (they do not leave the event loop's thread), so the
    sessions a busy process holds at once are opened here."""

    async def read() -> None:
        async with org.state.db.reader(org.organization_id) as session:
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.005)  # still holding its connection while the others open

    await asyncio.gather(*(read() for _ in range(count)))


async def test_requests_start_no_thread_after_warm_up(org: TestOrg, gauge: CheckoutGauge, thread_starts: list[str]) -> None:
    # given: the pool has served the page, and several sessions at once, once
    await org.ok(PAGE)
    await _readers_at_once(org, 8)
    warm = len(thread_starts)
    idents = {thread.ident for thread in threading.enumerate()}
    active = threading.active_count()
    # when
    for _ in range(20):
        await org.ok(PAGE)
        await _readers_at_once(org, 8)
    # then
    assert gauge.peak > 5, "the page must hold several read sessions at once"
    assert thread_starts[warm:] == []
    assert threading.active_count() == active
    assert {thread.ident for thread in threading.enumerate()} == idents


async def test_a_read_session_sees_each_commit_at_once(org: TestOrg) -> None:
    # given: a read session that has already read
    db = org.state.db
    count = select(func.count()).select_from(models.Team)
    async with db.reader(org.organization_id) as reader:
        before = await reader.scalar(count)
        # when: a writer commits while the read session stays open
        async with db.session(organization_id=org.organization_id) as writer, writer.begin():
            writer.add(models.Team(name="Committed meanwhile"))
        after = await reader.scalar(count)
    # then: no snapshot held between statements
    assert after == before + 1


async def test_concurrent_writers_and_readers_all_succeed(org: TestOrg) -> None:
    # given
    db = org.state.db

    async def write(index: int) -> None:
        async with db.session(organization_id=org.organization_id) as session, session.begin():
            session.add(models.Team(name=f"Concurrent {index}"))
            await session.flush()
            await asyncio.sleep(0)  # hold the write lock while the others queue for it

    async def read() -> int:
        async with db.reader(org.organization_id) as session:
            return len((await session.execute(select(models.Team.id))).all())

    # when
    results = await asyncio.gather(*(write(index) for index in range(15)), *(read() for _ in range(15)))
    # then
    assert all(isinstance(result, int) for result in results[15:])
    async with db.reader(org.organization_id) as session:
        names = set((await session.scalars(select(models.Team.name).where(models.Team.name.like("Concurrent %")))).all())
    assert names == {f"Concurrent {index}" for index in range(15)}


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_sqlite_connections_use_wal_and_wait_for_the_writer_lock(database_url: str) -> None:
    # given
    db = Database(database_url)
    try:
        # when
        async with db.engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            busy_timeout = await connection.scalar(text("PRAGMA busy_timeout"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
    finally:
        await db.dispose()
    # then
    assert journal == "wal"
    assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS
    assert foreign_keys == 1


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_sqlite_connections_write_planner_statistics_once_used(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the pool reaches a threshold of returned connections (SQLite writes no
    # statistics of its own)
    db = org.state.db
    optimizer = next(listener for listener in db.sync_engine.pool.dispatch.checkin if isinstance(listener, fiche_db._SQLiteOptimizer))
    monkeypatch.setattr(fiche_db, "SQLITE_OPTIMIZE_AT", (optimizer.returns + 5,))
    async with db.engine.begin() as connection:
        if await connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")):
            await connection.execute(text("DELETE FROM sqlite_stat1"))  # written during set-up
    # when
    for _ in range(6):
        async with db.reader(org.organization_id) as session:
            await session.scalars(select(models.User.id).where(models.User.handle == "nobody"))
    # then: the tables have statistics, and reads go on as before
    async with db.engine.connect() as connection:
        analysed = set((await connection.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1"))).all())
    assert {"users", "team_memberships"} <= analysed
    async with db.reader(org.organization_id) as session:
        assert len((await session.scalars(select(models.User.id))).all()) == len(org.users)


async def test_statements_of_two_organisations_each_see_their_own_rows(org: TestOrg, other_org: TestOrg) -> None:
    # given: the same statement, whose organisation travels as a parameter
    db = org.state.db
    stmt = select(models.User.id).order_by(models.User.id)
    # when
    async with db.reader(org.organization_id) as first, db.reader(other_org.organization_id) as second:
        own = set((await first.scalars(stmt)).all())
        other = set((await second.scalars(stmt)).all())
        own_again = set((await first.scalars(stmt)).all())
    # then
    assert own == own_again == {user.id for user in org.users.values()}
    assert other == {user.id for user in other_org.users.values()}


async def test_in_keys_binds_one_parameter_and_keeps_the_organisation_filter(org: TestOrg, other_org: TestOrg) -> None:
    # given: keys of both organisations, a duplicate, a missing one, and more keys than
    # SQLite accepts parameters in one statement
    db = org.state.db
    own = sorted(user.id for user in org.users.values())
    foreign = sorted(user.id for user in other_org.users.values())
    keys = [*own, *foreign, own[0], 2**31 - 1, *range(10**6, 10**6 + 40_000)]
    bound: list[Any] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        bound.append(parameters)

    event.listen(db.sync_engine, "before_cursor_execute", remember)
    try:
        # when
        async with db.reader(org.organization_id) as session:
            found = (await session.scalars(select(models.User.id).where(in_keys(session, models.User.id, keys)))).all()
            none = (await session.scalars(select(models.User.id).where(in_keys(session, models.User.id, [])))).all()
            mixed = (await session.scalars(select(models.User.handle).where(in_keys(session, models.User.handle, ["nobody", "no-one"])))).all()
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", remember)
    # then: the organisation's rows only, each once, from one key parameter (plus the
    # organisation's); an empty list matches nothing; keys that are not integers still work
    assert sorted(found) == own
    assert none == [] and mixed == []
    assert len(bound[0]) == 2


async def test_an_update_keeps_the_sessions_objects_in_step(org: TestOrg) -> None:
    # given: a team loaded in the session
    db = org.state.db
    async with db.session(organization_id=org.organization_id) as session, session.begin():
        team = await session.get_one(models.Team, org.teams["north"].id)
        # when: a criteria UPDATE synchronised by evaluating its WHERE (organisation included)
        await session.execute(
            update(models.Team).where(models.Team.id == team.id).values(name="Nord").execution_options(synchronize_session="evaluate")
        )
        # then
        assert team.name == "Nord"


async def test_a_bulk_update_by_primary_key_is_refused_on_an_organisation_session(org: TestOrg, other_org: TestOrg) -> None:
    # given: executemany-style parameters (SQLAlchemy applies no loader criteria to them)
    db = org.state.db
    foreign = other_org.teams["north"].id
    own = org.teams["north"].id
    # when
    with pytest.raises(TenantError):
        async with db.session(organization_id=org.organization_id) as session, session.begin():
            await session.execute(update(models.Team), [{"id": own, "name": "Renamed"}, {"id": foreign, "name": "Hijacked"}])
    # then
    async with db.reader(None, system=True) as session:
        rows = (await session.execute(select(models.Team.id, models.Team.name).where(models.Team.id.in_([own, foreign])))).all()
    assert {row.id: row.name for row in rows} == {own: "North", foreign: "North"}
