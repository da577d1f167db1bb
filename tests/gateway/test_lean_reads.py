"""The lean read path (``fiche.db.read_rows``) and kept statements (``fiche.db.prepared``):
the organisation predicate is compiled into every statement it runs, a statement that
would read a tenant table without it is refused, and another organisation's rows never
come back — through joins, subqueries, kept statements and bound keys alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, true

from fiche.accounts import models
from fiche.db import TenantError, bound_keys, keys_parameter, prepared, read_rows, tenant_statement
from fiche.relay import SortKey, paginate_grouped, rows_by_id
from tests.support import TestOrg, count_statements


def user_ids(tenant: TestOrg) -> set[int]:
    return {user.id for user in tenant.users.values()}


def everyone(org: TestOrg, other_org: TestOrg) -> list[int]:
    return sorted(user_ids(org) | user_ids(other_org))


async def test_read_rows_sees_only_the_session_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when: every user of both organisations asked for by id
    async with org.state.db.reader(org.organization_id) as session:
        rows = await read_rows(session, select(models.User.id, models.User.name).where(models.User.id.in_(everyone(org, other_org))))
    # then
    assert {row.id for row in rows} == user_ids(org)


async def test_read_rows_compiles_the_organisation_predicate_into_the_sql(org: TestOrg, other_org: TestOrg) -> None:
    # when
    with count_statements(org.state.db) as counter:
        async with org.state.db.reader(org.organization_id) as session:
            await read_rows(session, select(models.User.id))
    # then
    (sql,) = counter.statements
    assert "users.organization_id = " in " ".join(sql.split())


async def test_read_rows_filters_joined_entities_and_subqueries(org: TestOrg, other_org: TestOrg) -> None:
    # given: a join whose ON clause lets every team of every organisation through, in a subquery
    inner = select(models.Team.id).select_from(models.User).join(models.Team, true()).where(models.User.id == org.users["admin"].id).subquery()
    # when
    async with org.state.db.reader(org.organization_id) as session:
        rows = await read_rows(session, select(inner.c.id))
    # then
    assert {row.id for row in rows} == {team.id for team in org.teams.values()}


async def test_read_rows_refuses_a_core_table_statement(org: TestOrg, other_org: TestOrg) -> None:
    # given: the users table as a Core table, which the ORM's criteria never reach
    users = models.User.__table__
    # when / then
    async with org.state.db.reader(org.organization_id) as session:
        with pytest.raises(TenantError):
            await read_rows(session, select(users.c.id))


async def test_read_rows_refuses_a_core_table_joined_to_an_entity(org: TestOrg, other_org: TestOrg) -> None:
    # given: an ORM statement (teams get the predicate) joined to the Core users table (which would not)
    users = models.User.__table__
    stmt = select(models.Team.id, users.c.id.label("user_id")).join(users, true())
    # when / then
    async with org.state.db.reader(org.organization_id) as session:
        with pytest.raises(TenantError):
            await read_rows(session, stmt)


async def test_read_rows_refuses_a_session_without_organisation(org: TestOrg) -> None:
    # when / then
    async with org.state.db.reader(None) as session:
        with pytest.raises(TenantError):
            await read_rows(session, select(models.User.id))


async def test_read_rows_on_a_system_session_reads_every_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when
    async with org.state.db.reader(None, system=True) as session:
        rows = await read_rows(session, select(models.User.id).where(models.User.id.in_(everyone(org, other_org))))
    # then
    assert {row.id for row in rows} == user_ids(org) | user_ids(other_org)


async def test_a_kept_statement_serves_each_organisation_its_own_rows(org: TestOrg, other_org: TestOrg) -> None:
    # given: one statement, built once, with the ids a bound parameter
    dialect = org.state.db.engine.dialect.name
    ids = everyone(org, other_org)

    def build() -> object:
        return select(models.User.id).where(bound_keys(dialect, models.User.id, ids))

    stmt = prepared(("test_lean_reads", dialect, len(ids) > 100), build)  # type: ignore[arg-type]
    # when: the same object run for one organisation, then the other
    async with org.state.db.reader(org.organization_id) as session:
        mine = await read_rows(session, stmt, {"fiche_keys": keys_parameter(dialect, ids)})
    async with org.state.db.reader(other_org.organization_id) as session:
        theirs = await read_rows(session, stmt, {"fiche_keys": keys_parameter(dialect, ids)})
    # then
    assert prepared(("test_lean_reads", dialect, len(ids) > 100), build) is stmt  # type: ignore[arg-type]
    assert {row.id for row in mine} == user_ids(org)
    assert {row.id for row in theirs} == user_ids(other_org)


async def test_bound_keys_past_the_short_list_on_sqlite(org: TestOrg, other_org: TestOrg) -> None:
    # given: more keys than SQLite's plain IN list takes (then a JSON array), most of them missing
    dialect = org.state.db.engine.dialect.name
    ids = [*everyone(org, other_org), *range(10_000, 10_200)]
    stmt = tenant_statement(select(models.User.id).where(bound_keys(dialect, models.User.id, ids)))  # type: ignore[arg-type]
    # when
    async with org.state.db.reader(org.organization_id) as session:
        rows = await read_rows(session, stmt, {"fiche_keys": keys_parameter(dialect, ids)})
    # then
    assert {row.id for row in rows} == user_ids(org)


async def test_kept_paginate_grouped_pages_each_organisation_alone(org: TestOrg, other_org: TestOrg) -> None:
    # given: a page per team of every organisation, with a statement kept between calls
    membership = models.TeamMembership
    teams = sorted({team.id for team in org.teams.values()} | {team.id for team in other_org.teams.values()})
    order = (SortKey(models.User.id),)

    async def page(tenant: TestOrg, after: str | None = None) -> set[int]:
        async with tenant.state.db.reader(tenant.organization_id) as session:
            pages = await paginate_grouped(
                session,
                lambda: select(models.User.id).join(membership, membership.user_id == models.User.id),
                membership.team_id,
                teams,
                order,
                first=100,
                after=after,
                build=lambda row: row.id,
                shape="test_lean_reads.members",
            )
        return {user for connection in pages.values() for user in connection.nodes()}

    # when
    mine, theirs, again = await page(org), await page(other_org), await page(org)
    # then
    assert mine and mine <= user_ids(org)
    assert theirs and theirs <= user_ids(other_org)
    assert again == mine


async def test_count_statement_of_a_kept_page_is_filtered(org: TestOrg, other_org: TestOrg) -> None:
    # given
    async with org.state.db.reader(org.organization_id) as session:
        pages = await paginate_grouped(
            session,
            lambda: select(models.User.id),
            models.User.organization_id,
            [org.organization_id, other_org.organization_id],
            (SortKey(models.User.id),),
            first=1,
            after=None,
            build=lambda row: row.id,
            shape="test_lean_reads.by_org",
        )
        total = pages[org.organization_id].total
        assert total is not None
        (counts, _), = total.parts
        # when
        rows = await read_rows(session, counts.count_statement())
    # then
    assert dict((group, count) for group, count in rows) == {org.organization_id: len(org.users)}
    assert pages[other_org.organization_id].edges == []


async def test_count_via_func_count_of_a_subquery(org: TestOrg, other_org: TestOrg) -> None:
    # when
    async with org.state.db.reader(org.organization_id) as session:
        rows = await read_rows(session, select(func.count()).select_from(select(models.User.id).subquery()))
    # then
    assert rows[0][0] == len(org.users)


async def test_a_statement_built_anew_is_kept_per_values(org: TestOrg) -> None:
    # given: the same statement twice but for a value (no shape given: the values decide)
    async def page(name: str) -> set[int]:
        async with org.state.db.reader(org.organization_id) as session:
            pages = await paginate_grouped(
                session,
                select(models.User.id).where(models.User.name == name),
                models.User.organization_id,
                [org.organization_id],
                (SortKey(models.User.id),),
                first=10,
                after=None,
                build=lambda row: row.id,
            )
        return set(pages[org.organization_id].nodes())

    # when
    admin, member, admin_again = await page("Admin Test"), await page("Member Test"), await page("Admin Test")
    # then
    assert admin == admin_again == {org.users["admin"].id}
    assert member == {org.users["member"].id}


async def test_rows_by_id_built_anew_is_kept_per_values(org: TestOrg) -> None:
    # given
    ids = sorted(user_ids(org))

    async def named(name: str) -> list[int | None]:
        async with org.state.db.reader(org.organization_id) as session:
            return await rows_by_id(session, select(models.User.id).where(models.User.name == name), models.User.id, ids, lambda row: row.id)

    # when
    admin, member = await named("Admin Test"), await named("Member Test")
    # then
    assert [pk for pk in admin if pk] == [org.users["admin"].id]
    assert [pk for pk in member if pk] == [org.users["member"].id]
