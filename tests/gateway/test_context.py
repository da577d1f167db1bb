"""The per-operation context lets go of what its operation loaded as soon as it closes, and
passes the read sessions its loader batches give back on to the next ones."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from sqlalchemy import select, update

from fiche.accounts import models
from fiche.context import operation_context
from tests.support import TestOrg


async def test_what_an_operation_loaded_is_freed_when_it_closes_without_the_cyclic_collector(org: TestOrg) -> None:
    # given: an operation that loaded a user through a loader (the loaders hold the
    # context, the context holds the loaders)
    viewer = org.viewer("admin")
    gc.disable()
    try:
        async with operation_context(org.state, viewer) as context:
            user = await context.loaders["users_by_id"].load(viewer.user_id)
            loaded = weakref.ref(user)
            del user
            assert loaded() is not None
        # when: the operation is over, nothing else refers to its context, and the event
        # loop has run the callbacks that still held the load's future
        del context
        for _ in range(3):
            await asyncio.sleep(0)
        # then: reference counting alone freed the loaded object
        assert loaded() is None
    finally:
        gc.enable()


# ------------------------------------------------------------------ read sessions kept for the next reader


async def test_an_operation_reuses_a_read_session_given_back_and_closes_it_at_the_end(org: TestOrg) -> None:
    pool = org.state.db.sync_engine.pool
    async with operation_context(org.state, org.viewer("admin")) as context:
        context.reuse_reads = True  # as OperationScope sets it for queries and mutations
        # given: a loader batch's session, given back
        async with context.read() as first:
            await first.execute(select(models.User.id))
        # when: the next batches read, one after the other and then two at once
        async with context.read() as second:
            await second.execute(select(models.User.id))
        async with context.read() as third, context.read() as beside:
            await third.execute(select(models.User.id))
            await beside.execute(select(models.User.id))
        # then: the session was passed on, and two at once are two sessions
        assert second is first and third is first and beside is not first
        assert pool.checkedout() == 2  # kept open for the operation's next readers
    # and: the operation's end closes them
    assert pool.checkedout() == 0


async def test_without_reuse_each_reader_has_a_session_of_its_own(org: TestOrg) -> None:
    pool = org.state.db.sync_engine.pool
    async with operation_context(org.state, org.viewer("admin")) as context:
        async with context.read() as first:
            await first.execute(select(models.User.id))
        assert pool.checkedout() == 0
        async with context.read() as second:
            assert second is not first


async def test_a_kept_read_session_reads_what_was_committed_since(org: TestOrg) -> None:
    async with operation_context(org.state, org.viewer("admin")) as context:
        context.reuse_reads = True
        # given: a reader loaded the member as an object, and gave its session back
        member_id = org.users["member"].id
        async with context.read() as session:
            before = await session.get(models.User, member_id)
            assert before is not None
            name = before.name
        # when: the operation's write transaction renames them
        writer = await context.session()
        await writer.execute(update(models.User).where(models.User.id == member_id).values(name="Renamed meanwhile"))
        await context.commit()
        # then: the next reader, on the kept session, sees the new name
        async with context.read() as session:
            after = await session.get(models.User, member_id)
        assert after is not None and (name, after.name) == (name, "Renamed meanwhile")


async def test_a_read_session_whose_reader_failed_is_not_passed_on(org: TestOrg) -> None:
    async with operation_context(org.state, org.viewer("admin")) as context:
        context.reuse_reads = True
        with pytest.raises(RuntimeError):
            async with context.read() as failed:
                await failed.execute(select(models.User.id))
                raise RuntimeError("the batch failed")
        async with context.read() as next_one:
            assert next_one is not failed
            assert (await next_one.execute(select(models.User.id))).first() is not None


async def test_a_query_passes_its_read_sessions_on_and_closes_them(org: TestOrg) -> None:
    # given: a query of six readers
    query = "{ " + " ".join(f"t{i}: teams {{ name }}" for i in range(6)) + " }"
    await org.ok(query)
    sessions: list[Any] = []
    real = org.state.db.read_session

    def counted(*args: Any, **kwargs: Any) -> Any:
        sessions.append(real(*args, **kwargs))
        return sessions[-1]

    org.state.db.read_session = counted  # type: ignore[method-assign]
    try:
        # when
        await org.ok(query)
    finally:
        del org.state.db.read_session
    # then: on SQLite the readers share one session (on PostgreSQL they run side by side,
    # each with its own); either way, every session is closed once the operation is over
    if org.state.db.is_sqlite:
        assert len(sessions) == 1, sessions
    assert sessions and org.state.db.sync_engine.pool.checkedout() == 0
