"""Write helpers of ``fiche.db`` on both databases: ``lock`` makes writers of one resource
take turns and shows the next one what the previous one committed; a unique constraint's
violation becomes the CONFLICT it declares (``conflict_info``) through ``context.mutate``,
and an undeclared one stays an error."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.accounts import models
from fiche.context import operation_context
from fiche.db import conflict_info, integrity_conflict, lock
from fiche.errors import UserError
from tests.support import TestOrg


async def _teams_named(session: AsyncSession, name: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(models.Team).where(models.Team.name == name)) or 0)


async def test_lock_makes_the_second_writer_wait_and_see_the_first_ones_commit(org: TestOrg) -> None:
    # given: the first writer holds the lock
    db = org.state.db
    first = db.session(organization_id=org.organization_id)
    second = db.session(organization_id=org.organization_id)
    try:
        await lock(first, "probe")
        locked = asyncio.Event()

        async def second_writer() -> int:
            await lock(second, "probe")
            locked.set()
            return await _teams_named(second, "Written while locked")

        waiting = asyncio.create_task(second_writer())
        await asyncio.sleep(0.3)  # room for the second writer to get past the lock, were it free
        # when: the first writer writes and commits only now
        passed_early = locked.is_set()
        first.add(models.Team(name="Written while locked"))
        await first.commit()
        seen = await asyncio.wait_for(waiting, timeout=15)
    finally:
        await first.close()
        await second.close()
    # then: the second writer waited for the commit, and its check reads it
    assert not passed_early
    assert seen == 1


async def test_locks_of_different_resources_do_not_wait_for_each_other(org: TestOrg, db_kind: str) -> None:
    # given
    if db_kind == "sqlite":
        pytest.skip("SQLite has one write lock for the whole database")
    db = org.state.db
    first = db.session(organization_id=org.organization_id)
    second = db.session(organization_id=org.organization_id)
    try:
        await lock(first, "probe-a")
        # when: the first writer still holds its lock
        await asyncio.wait_for(lock(second, "probe-b"), timeout=15)
    finally:
        await first.close()
        await second.close()
    # then: the second one got its own (wait_for did not time out)


async def _duplicate_team(org: TestOrg) -> IntegrityError:
    """The error of creating the fixture organisation's "North" team a second time."""
    async with org.state.db.session(organization_id=org.organization_id) as session:
        session.add(models.Team(name="North"))
        with pytest.raises(IntegrityError) as raised:
            await session.flush()
    return raised.value


async def test_an_undeclared_constraint_violation_is_not_hidden(org: TestOrg) -> None:
    # given: the teams' unique name declares no CONFLICT
    async with operation_context(org.state, org.viewer("admin")) as context:

        async def change() -> list[UserError]:
            session = await context.session()
            session.add(models.Team(name="North"))
            await session.flush()
            return []

        # when / then: a bug, not a client's mistake
        with pytest.raises(IntegrityError):
            await context.mutate(change, lambda errors: errors)


async def test_a_declared_constraint_violation_reads_as_its_conflict(org: TestOrg) -> None:
    # given: the same constraint, declared with conflict_info (in a copy of the table)
    metadata = MetaData()
    Table(
        "teams",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("organization_id", Integer),
        Column("name", String(120)),
        UniqueConstraint(
            "organization_id", "name", name="uq_teams_organization_id_name", info=conflict_info("A team has this name.", "input", "name")
        ),
    )
    error = await _duplicate_team(org)
    # when
    conflict = integrity_conflict(error, metadata)
    # then: PostgreSQL names the constraint, SQLite its columns; both are recognised
    assert conflict == ("A team has this name.", ("input", "name"))
    assert integrity_conflict(error) is None
