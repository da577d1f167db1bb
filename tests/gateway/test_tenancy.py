"""Tenant isolation (G5): the organisation filter on every ORM statement, writes stamped
from the session, and global IDs of another organisation resolving like missing ones."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, true, update

from fiche.accounts import models
from fiche.db import TenantError
from fiche.relay import SortKey, encode_id, paginate_grouped
from tests.support import TestOrg

NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on User { handle } } }"
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on User { handle } } }"
USERS = "{ users(first: 100) { nodes { handle } } }"
TEAM_SET_MEMBERS = """
mutation SetMembers($team: ID!, $users: [ID!]!) {
  teamSetMembers(teamId: $team, userIds: $users) { team { name } errors { code path } }
}
"""


def user_ids(tenant: TestOrg) -> set[int]:
    return {user.id for user in tenant.users.values()}


# ------------------------------------------------------------------ reads


async def test_column_select_sees_only_the_session_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when
    async with org.state.db.reader(org.organization_id) as session:
        rows = (await session.execute(select(models.User.id, models.User.name))).all()
    # then
    assert {row.id for row in rows} == user_ids(org)


async def test_entity_select_sees_only_the_session_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when
    async with org.state.db.reader(org.organization_id) as session:
        users = (await session.scalars(select(models.User))).all()
    # then
    assert {user.id for user in users} == user_ids(org)
    assert {user.organization_id for user in users} == {org.organization_id}


async def test_session_get_of_another_organisation_row_is_none(org: TestOrg, other_org: TestOrg) -> None:
    # when
    async with org.state.db.session(organization_id=org.organization_id) as session:
        foreign = await session.get(models.User, other_org.users["admin"].id)
        own = await session.get(models.User, org.users["admin"].id)
    # then
    assert foreign is None
    assert own is not None


async def test_joined_entity_is_filtered_too(org: TestOrg, other_org: TestOrg) -> None:
    # given: a join whose ON clause lets every team of every organisation through
    stmt = (
        select(models.Team.id)
        .select_from(models.User)
        .join(models.Team, true())
        .where(models.User.id == org.users["admin"].id)
    )
    # when
    async with org.state.db.reader(org.organization_id) as session:
        team_ids = set((await session.scalars(stmt)).all())
    # then
    assert team_ids == {team.id for team in org.teams.values()}


async def test_subquery_is_filtered_too(org: TestOrg, other_org: TestOrg) -> None:
    # given
    inner = select(models.User.id).subquery()
    # when
    async with org.state.db.reader(org.organization_id) as session:
        count = await session.scalar(select(func.count()).select_from(inner))
    # then
    assert count == len(org.users)


async def test_scalar_subquery_is_filtered_too(org: TestOrg, other_org: TestOrg) -> None:
    # given
    users_in_total = select(func.count(models.User.id)).scalar_subquery()
    # when
    async with org.state.db.reader(org.organization_id) as session:
        counts = (await session.scalars(select(users_in_total).select_from(models.Team))).all()
    # then
    assert counts == [len(org.users)] * len(org.teams)


async def test_paginate_grouped_pages_only_the_session_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # given: groups asked for include the other organisation's teams
    stmt = select(models.TeamMembership.user_id)
    groups = [team.id for team in [*org.teams.values(), *other_org.teams.values()]]
    # when
    async with org.state.db.reader(org.organization_id) as session:
        pages = await paginate_grouped(
            session,
            stmt,
            models.TeamMembership.team_id,
            groups,
            [SortKey(models.TeamMembership.id)],
            first=10,
            after=None,
            build=lambda row: row.user_id,
        )
    # then
    for team in other_org.teams.values():
        assert pages[team.id].edges == []
    assert {edge.node for team in org.teams.values() for edge in pages[team.id].edges} <= user_ids(org)
    assert all(pages[team.id].edges for team in org.teams.values())


async def test_session_without_organisation_refuses_orm_statements(org: TestOrg) -> None:
    # given
    session = org.state.db.session()
    # when / then
    with pytest.raises(TenantError):
        await session.execute(select(models.User.id))
    await session.close()


async def test_reader_without_organisation_refuses_orm_statements(org: TestOrg) -> None:
    # when / then
    async with org.state.db.reader(None) as session:
        with pytest.raises(TenantError):
            await session.scalars(select(models.User))


async def test_system_session_sees_every_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when
    async with org.state.db.reader(None, system=True) as session:
        ids = set((await session.scalars(select(models.User.id).where(models.User.id.in_(user_ids(org) | user_ids(other_org))))).all())
    # then
    assert ids == user_ids(org) | user_ids(other_org)


# ------------------------------------------------------------------ writes


async def test_orm_update_changes_only_the_session_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when: an UPDATE with no WHERE clause at all
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(update(models.User).values(name="Renamed").execution_options(synchronize_session=False))
    # then
    async with org.state.db.reader(other_org.organization_id) as session:
        names = set((await session.scalars(select(models.User.name))).all())
    assert "Renamed" not in names
    async with org.state.db.reader(org.organization_id) as session:
        assert set((await session.scalars(select(models.User.name))).all()) == {"Renamed"}


async def test_orm_delete_removes_only_the_session_organisation_rows(org: TestOrg, other_org: TestOrg) -> None:
    # when: a DELETE with no WHERE clause at all
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(delete(models.TeamMembership).execution_options(synchronize_session=False))
    # then
    async with org.state.db.reader(other_org.organization_id) as session:
        remaining = await session.scalar(select(func.count()).select_from(models.TeamMembership))
    assert remaining == 4
    async with org.state.db.reader(org.organization_id) as session:
        assert await session.scalar(select(func.count()).select_from(models.TeamMembership)) == 0


async def test_new_row_takes_the_organisation_of_the_session_not_the_forged_one(org: TestOrg, other_org: TestOrg) -> None:
    # given
    async with org.state.db.session(organization_id=org.organization_id, user_id=org.users["admin"].id) as session:
        async with session.begin():
            team = models.Team(name="Forged", organization_id=other_org.organization_id)
            session.add(team)
        # then
        assert team.organization_id == org.organization_id
    async with org.state.db.reader(other_org.organization_id) as session:
        assert await session.scalar(select(func.count()).select_from(models.Team).where(models.Team.name == "Forged")) == 0


async def test_moving_a_row_to_another_organisation_is_refused(org: TestOrg, other_org: TestOrg) -> None:
    # given
    async with org.state.db.session(organization_id=org.organization_id) as session:
        team = await session.get(models.Team, org.teams["north"].id)
        assert team is not None
        team.organization_id = other_org.organization_id
        # when / then
        with pytest.raises(TenantError):
            await session.flush()


# ------------------------------------------------------------------ global IDs


async def test_node_of_another_organisation_is_null_like_a_missing_id(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = encode_id("User", other_org.users["admin"].id)
    missing = encode_id("User", 2_000_000_000)
    # when
    foreign_result = await org.gql(NODE, {"id": foreign})
    missing_result = await org.gql(NODE, {"id": missing})
    # then
    assert foreign_result.data == {"node": None}
    assert foreign_result.errors == []
    assert (foreign_result.data, foreign_result.errors) == (missing_result.data, missing_result.errors)


async def test_nodes_of_another_organisation_are_null_like_missing_ids(org: TestOrg, other_org: TestOrg) -> None:
    # given
    ids = [
        encode_id("User", org.users["member"].id),
        encode_id("User", other_org.users["member"].id),
        encode_id("User", 2_000_000_000),
        encode_id("Team", other_org.teams["north"].id),
    ]
    # when
    data = await org.ok(NODES, {"ids": ids})
    # then
    assert data["nodes"] == [{"__typename": "User", "handle": "member"}, None, None, None]


async def test_users_list_shows_only_the_viewer_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # when
    data = await org.ok(USERS, as_="member")
    # then
    assert sorted(node["handle"] for node in data["users"]["nodes"]) == sorted(org.users)
    assert len(data["users"]["nodes"]) == len(org.users)


async def test_mutation_cannot_reach_another_organisation_user(org: TestOrg, other_org: TestOrg) -> None:
    # given
    variables = {"team": encode_id("Team", org.teams["north"].id), "users": [encode_id("User", other_org.users["member"].id)]}
    # when
    data = await org.ok(TEAM_SET_MEMBERS, variables)
    # then
    assert data["teamSetMembers"] == {"team": None, "errors": [{"code": "NOT_FOUND", "path": ["userIds", "0"]}]}
