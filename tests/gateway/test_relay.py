"""Conventions (G4): opaque global IDs, ``node`` / ``nodes``, keyset-paginated
connections, and typed ``UserError`` payloads that leave nothing half-written."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from fiche.accounts import models
from fiche.notifications import models as inbox
from fiche.relay import MAX_PK, Edge, InvalidID, SortKey, connection_of, decode_cursor, decode_id, encode_cursor, encode_id, paginate, paginate_grouped, ranked
from fiche.relay import _edge  # noqa: PLC2701 - the page edge builder itself
from tests.gateway.conftest import PROBE
from tests.support import TestOrg, count_statements

NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on User { handle } ... on Team { name } } }"
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
VIEWER_ID = "{ viewer { user { id handle } } }"
USERS_PAGE = """
query Users($first: Int, $after: String) {
  users(first: $first, after: $after) {
    edges { cursor node { handle name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
USER_CREATE = """
mutation UserCreate($input: UserCreateInput!) {
  userCreate(input: $input) { user { id handle email } errors { code message path } }
}
"""
USER_UPDATE = """
mutation UserUpdate($input: UserUpdateInput!) {
  userUpdate(input: $input) { user { name isActive } errors { code path } }
}
"""
PROBE_MUTATION_BOOM = "mutation { probeMutationBoom { errors { code } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def add_users(tenant: TestOrg, names: list[str]) -> None:
    async with tenant.state.db.session(organization_id=tenant.organization_id) as session, session.begin():
        for index, name in enumerate(names):
            session.add(models.User(name=name, email=f"extra{index}@example.test", handle=f"extra{index}"))


async def all_pages(tenant: TestOrg, first: int) -> list[dict[str, Any]]:
    pages, after = [], None
    while True:
        data = await tenant.ok(USERS_PAGE, {"first": first, "after": after})
        page = data["users"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


# ------------------------------------------------------------------ global IDs


def test_global_id_is_opaque() -> None:
    # when
    global_id = encode_id("User", 42)
    # then
    assert "User" not in global_id
    assert "42" not in global_id
    assert global_id.isascii() and "=" not in global_id


def test_global_id_round_trips() -> None:
    # when / then
    assert decode_id(encode_id("Notification", 123456789)) == ("Notification", 123456789)


def test_global_id_of_an_unexpected_type_is_invalid() -> None:
    # when / then
    with pytest.raises(InvalidID):
        decode_id(encode_id("Team", 1), "User")


@pytest.mark.parametrize("key", ["05", "+5", " 5", "5 ", "1_0", "٥", "5.0", "0x5", "", "0"])
def test_only_the_canonical_decimal_key_is_an_id(key: str) -> None:
    # when / then
    with pytest.raises(InvalidID):
        decode_id(raw_id(f"Customer:{key}"))


@pytest.mark.parametrize("spelling", ["Q3VzdG9tZXI6NQ=", "Q3VzdG9tZXI6NQ==", "Q3Vzd!G9tZXI6NQ==", "Q3VzdG9tZXI6NR", "Q3VzdG9tZXI6NQ==\n"])
def test_only_the_unpadded_encoding_is_an_id(spelling: str) -> None:
    # given: each of these decodes to "Customer:5" when base64 is read leniently
    assert encode_id("Customer", 5) == "Q3VzdG9tZXI6NQ"
    assert base64.urlsafe_b64decode(spelling + "=" * (-len(spelling) % 4)) == b"Customer:5"
    # when / then
    with pytest.raises(InvalidID):
        decode_id(spelling)


@pytest.mark.parametrize("key", [MAX_PK + 1, 2**63, 10**30, -1, -(2**31)])
def test_a_key_outside_the_primary_key_range_is_invalid(key: int) -> None:
    # when / then
    with pytest.raises(InvalidID):
        decode_id(raw_id(f"Customer:{key}"))


def test_the_largest_primary_key_is_an_id() -> None:
    # when / then
    assert decode_id(encode_id("Customer", MAX_PK)) == ("Customer", MAX_PK)


async def test_node_returns_the_object_of_its_own_id(org: TestOrg) -> None:
    # given
    viewer = (await org.ok(VIEWER_ID, as_="member"))["viewer"]["user"]
    # when
    data = await org.ok(NODE, {"id": viewer["id"]}, as_="member")
    # then
    assert data["node"] == {"__typename": "User", "id": viewer["id"], "handle": "member"}


async def test_node_resolves_each_registered_type(org: TestOrg) -> None:
    # given
    team_id = encode_id("Team", org.teams["south"].id)
    # when
    data = await org.ok(NODE, {"id": team_id})
    # then
    assert data["node"] == {"__typename": "Team", "id": team_id, "name": "South"}


async def test_node_of_an_unknown_type_is_null(org: TestOrg) -> None:
    # when
    data = await org.ok(NODE, {"id": encode_id("Spaceship", 1)})
    # then
    assert data == {"node": None}


async def test_nodes_answers_in_order_with_null_for_missing(org: TestOrg) -> None:
    # given
    ids = [encode_id("Team", org.teams["north"].id), encode_id("User", 2_000_000_000), encode_id("User", org.users["admin"].id)]
    # when
    data = await org.ok(NODES, {"ids": ids})
    # then
    assert data["nodes"] == [{"__typename": "Team", "id": ids[0]}, None, {"__typename": "User", "id": ids[2]}]


@pytest.mark.parametrize(
    "bad_id",
    ["not base64 at all!", raw_id("User"), raw_id("User:abc"), raw_id("User:0"), raw_id("User:-3"), raw_id(":5"), ""],
)
async def test_malformed_id_is_a_bad_user_input_error(org: TestOrg, bad_id: str) -> None:
    # when
    result = await org.gql(NODE, {"id": bad_id})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.data == {"node": None}


async def test_malformed_id_among_nodes_is_a_bad_user_input_error(org: TestOrg) -> None:
    # when
    result = await org.gql(NODES, {"ids": [encode_id("User", org.users["admin"].id), "%%%"]})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_too_many_nodes_at_once_are_refused(org: TestOrg) -> None:
    # given
    ids = [encode_id("User", pk) for pk in range(1, org.state.settings.max_page_size + 2)]
    # when
    result = await org.gql(NODES, {"ids": ids})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


# ------------------------------------------------------------------ keyset pagination


async def test_first_page_has_first_items_and_a_next_page(org: TestOrg) -> None:
    # when
    data = await org.ok(USERS_PAGE, {"first": 2})
    # then
    page = data["users"]
    assert [edge["node"]["handle"] for edge in page["edges"]] == ["admin", "manager"]
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": page["edges"][0]["cursor"],
        "endCursor": page["edges"][1]["cursor"],
    }


async def test_pages_walk_the_list_without_duplicates_or_gaps_among_equal_sort_values(org: TestOrg) -> None:
    # given: seven users with the very same name (the sort key), between the others
    await add_users(org, ["Same Name"] * 7)
    expected = (await org.ok(USERS_PAGE, {"first": 100}))["users"]["edges"]
    # when
    pages = await all_pages(org, first=3)
    # then
    walked = [edge["node"]["handle"] for page in pages for edge in page["edges"]]
    assert walked == [edge["node"]["handle"] for edge in expected]
    assert len(walked) == len(set(walked)) == 12
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, True, False]
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True, True]


async def test_a_page_is_stable_when_rows_are_added_before_the_cursor(org: TestOrg) -> None:
    # given
    first_page = (await org.ok(USERS_PAGE, {"first": 2}))["users"]
    second_page = (await org.ok(USERS_PAGE, {"first": 2, "after": first_page["pageInfo"]["endCursor"]}))["users"]
    # when: a user sorting before the cursor appears
    await add_users(org, ["Aaron Early"])
    again = (await org.ok(USERS_PAGE, {"first": 2, "after": first_page["pageInfo"]["endCursor"]}))["users"]
    # then
    assert again["edges"] == second_page["edges"]


async def test_last_page_has_no_next_page(org: TestOrg) -> None:
    # when
    data = await org.ok(USERS_PAGE, {"first": len(org.users)})
    # then
    assert len(data["users"]["edges"]) == len(org.users)
    assert data["users"]["pageInfo"]["hasNextPage"] is False


async def test_first_above_the_maximum_page_size_is_refused(org: TestOrg) -> None:
    # when
    result = await org.gql(USERS_PAGE, {"first": org.state.settings.max_page_size + 1})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert str(org.state.settings.max_page_size) in result.errors[0]["message"]


async def test_negative_first_is_refused(org: TestOrg) -> None:
    # when
    result = await org.gql(USERS_PAGE, {"first": -1})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "cursor",
    [
        "%%% not base64",
        base64.urlsafe_b64encode(b"not json").decode(),
        encode_cursor(["only one value"]),
        encode_cursor(["three", 1, "values"]),
        base64.urlsafe_b64encode(orjson.dumps({"not": "a list"})).decode(),
        base64.urlsafe_b64encode(orjson.dumps([{"d": "yesterday-ish"}, 1])).decode(),
        base64.urlsafe_b64encode(orjson.dumps([{"x": 1}, 1])).decode(),
        encode_cursor(["Admin Test", "not an id"]),
        encode_cursor([12, 1]),
    ],
)
async def test_bad_cursor_is_refused(org: TestOrg, cursor: str) -> None:
    # when
    result = await org.gql(USERS_PAGE, {"first": 2, "after": cursor})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"], result.errors


async def test_descending_keys_page_without_duplicates_or_gaps(org: TestOrg) -> None:
    # given
    await add_users(org, ["Same Name"] * 4)
    keys = [SortKey(models.User.name, descending=True), SortKey(models.User.id)]
    walked: list[int] = []
    after = None
    # when
    async with org.state.db.reader(org.organization_id) as session:
        while True:
            page = await paginate(session, select(models.User.id), keys, first=2, after=after, build=lambda row: row.id)
            walked.extend(edge.node for edge in page.edges)
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor()
        expected = list((await session.scalars(select(models.User.id).order_by(models.User.name.desc(), models.User.id))).all())
    # then
    assert walked == expected
    assert len(expected) == 9


async def test_nullable_sort_key_pages_without_duplicates_or_gaps(org: TestOrg) -> None:
    # given: half of the rows have no value on the first sort key
    read = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        for index in range(6):
            session.add(
                inbox.Notification(
                    recipient_id=org.users["admin"].id,
                    recipient_seq=index + 1,
                    kind="PROBE_PING",
                    message=f"n{index}",
                    read_at=read + dt.timedelta(days=index % 2) if index < 3 else None,
                )
            )
    keys = [SortKey(inbox.Notification.read_at), SortKey(inbox.Notification.id)]
    walked: list[str] = []
    after = None
    # when
    async with org.state.db.reader(org.organization_id) as session:
        while True:
            stmt = select(inbox.Notification.message)
            page = await paginate(session, stmt, keys, first=2, after=after, build=lambda row: row.message)
            walked.extend(edge.node for edge in page.edges)
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor()
    # then: the dated rows in order, then the undated ones (nulls last)
    assert walked == ["n0", "n2", "n1", "n3", "n4", "n5"]


async def test_paginate_grouped_gives_one_page_per_group(org: TestOrg) -> None:
    # given: north has manager and member, south has member2 and technician, a third team is empty
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        empty = models.Team(name="Empty")
        session.add(empty)
    stmt = select(models.User.handle).join(models.TeamMembership, models.TeamMembership.user_id == models.User.id)
    groups = [org.teams["north"].id, org.teams["south"].id, empty.id]
    # when
    async with org.state.db.reader(org.organization_id) as session:
        pages = await paginate_grouped(
            session, stmt, models.TeamMembership.team_id, groups, [SortKey(models.User.handle)], first=1, after=None, build=lambda row: row.handle
        )
    # then
    assert [edge.node for edge in pages[org.teams["north"].id].edges] == ["manager"]
    assert [edge.node for edge in pages[org.teams["south"].id].edges] == ["member2"]
    assert pages[empty.id].edges == []
    assert [pages[group].page_info.has_next_page for group in groups] == [True, True, False]


async def test_paginate_grouped_continues_a_group_after_its_cursor(org: TestOrg) -> None:
    # given
    stmt = select(models.User.handle).join(models.TeamMembership, models.TeamMembership.user_id == models.User.id)
    keys = [SortKey(models.User.handle)]
    north = org.teams["north"].id
    async with org.state.db.reader(org.organization_id) as session:
        first = await paginate_grouped(session, stmt, models.TeamMembership.team_id, [north], keys, first=1, after=None, build=lambda row: row.handle)
        # when
        second = await paginate_grouped(
            session, stmt, models.TeamMembership.team_id, [north], keys, first=1, after=first[north].page_info.end_cursor(), build=lambda row: row.handle
        )
    # then
    assert [edge.node for edge in second[north].edges] == ["member"]
    assert second[north].page_info.has_next_page is False
    assert second[north].page_info.has_previous_page is True


async def test_a_grouped_page_whose_statement_selects_its_sort_keys_reads_them_once(org: TestOrg) -> None:
    # given: the same pages, from a statement that selects its sort keys (handle, id) and
    # from one that does not
    keys = [SortKey(models.User.handle, descending=True), SortKey(models.User.id)]
    joined = (models.TeamMembership, models.TeamMembership.user_id == models.User.id)
    selecting = select(models.User.id, models.User.handle).join(*joined)
    plain = select(models.User.name).join(*joined)
    groups = [org.teams["north"].id, org.teams["south"].id]
    walked: dict[str, list[tuple[Any, ...]]] = {"selecting": [], "plain": []}
    # when: each group walked a row at a page, through its cursors
    async with org.state.db.reader(org.organization_id) as session:
        with count_statements(org.state.db) as counter:
            for name, stmt in (("selecting", selecting), ("plain", plain)):
                for group in groups:
                    after = None
                    while True:
                        pages = await paginate_grouped(session, stmt, models.TeamMembership.team_id, groups, keys, first=1, after=after, build=lambda row: row)
                        walked[name] += [(group, *edge.key) for edge in pages[group].edges]
                        if not pages[group].page_info.has_next_page:
                            break
                        after = pages[group].page_info.end_cursor()
    # then: the same keys and cursors; no _rank sent back, and no copy of a selected key
    assert walked["selecting"] == walked["plain"] and len(walked["plain"]) == 4
    selecting_sql = [sql for sql in counter.statements if "users.id AS id" in sql]
    plain_sql = [sql for sql in counter.statements if "users.name AS name" in sql]
    assert selecting_sql and plain_sql
    assert all("_k0" not in sql and "_k1" not in sql and "page._rank AS" not in sql for sql in selecting_sql)
    assert all("page._k0" in sql and "page._k1" in sql and "page._rank AS" not in sql for sql in plain_sql)
    # PostgreSQL reads each group's page through its own LIMIT (a LATERAL subquery over the
    # group keys), SQLite through a window function
    lateral = not org.state.db.is_sqlite
    assert all(("JOIN LATERAL" in sql) is lateral and ("row_number()" not in sql) is lateral for sql in selecting_sql + plain_sql)


# ------------------------------------------------------------------ mutation payloads


async def test_invalid_email_is_an_invalid_user_error_with_its_path(org: TestOrg) -> None:
    # when
    data = await org.ok(USER_CREATE, {"input": {"name": "New", "email": "not-an-email", "handle": "newbie"}})
    # then
    payload = data["userCreate"]
    assert payload["user"] is None
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "email"])]
    assert "not-an-email" in payload["errors"][0]["message"]


async def test_member_creating_a_user_gets_a_forbidden_user_error(org: TestOrg) -> None:
    # when
    data = await org.ok(USER_CREATE, {"input": {"name": "New", "email": "new@example.test", "handle": "newbie"}}, as_="member")
    # then
    assert data["userCreate"]["user"] is None
    assert [error["code"] for error in data["userCreate"]["errors"]] == ["FORBIDDEN"]


async def test_duplicate_handle_is_a_conflict_user_error(org: TestOrg) -> None:
    # when
    data = await org.ok(USER_CREATE, {"input": {"name": "Again", "email": "again@example.test", "handle": "@Member"}})
    # then
    assert [(error["code"], error["path"]) for error in data["userCreate"]["errors"]] == [("CONFLICT", ["input", "handle"])]


async def test_duplicate_email_in_another_case_is_a_conflict_user_error(org: TestOrg) -> None:
    # when
    email = org.users["member"].email.upper()
    data = await org.ok(USER_CREATE, {"input": {"name": "Again", "email": email, "handle": "again"}})
    # then
    assert [(error["code"], error["path"]) for error in data["userCreate"]["errors"]] == [("CONFLICT", ["input", "email"])]


async def test_same_handle_in_another_organisation_is_fine(org: TestOrg, other_org: TestOrg) -> None:
    # when: every test organisation has a @member
    data = await org.ok(USER_CREATE, {"input": {"name": "Newbie", "email": "newbie@example.test", "handle": "newbie"}})
    again = await other_org.ok(USER_CREATE, {"input": {"name": "Newbie", "email": "newbie@example.test", "handle": "newbie"}})
    # then
    assert data["userCreate"]["errors"] == [] and again["userCreate"]["errors"] == []
    assert data["userCreate"]["user"]["id"] != again["userCreate"]["user"]["id"]


async def test_created_user_is_reachable_by_its_global_id(org: TestOrg) -> None:
    # given
    data = await org.ok(USER_CREATE, {"input": {"name": "Newbie", "email": "newbie@example.test", "handle": "newbie"}})
    global_id = data["userCreate"]["user"]["id"]
    # when
    node = await org.ok(NODE, {"id": global_id}, as_="member")
    # then
    assert node["node"]["handle"] == "newbie"


async def test_failed_mutation_leaves_nothing_half_written(org: TestOrg) -> None:
    # given: the rename is applied before the self-deactivation is refused
    variables = {"input": {"id": encode_id("User", org.users["admin"].id), "name": "Half Written", "isActive": False}}
    # when
    data = await org.ok(USER_UPDATE, variables)
    # then
    assert data["userUpdate"] == {"user": None, "errors": [{"code": "CONFLICT", "path": ["input"]}]}
    async with org.state.db.reader(org.organization_id) as session:
        name = await session.scalar(select(models.User.name).where(models.User.id == org.users["admin"].id))
    assert name == "Admin Test"


async def test_crashed_mutation_rolls_back_what_it_flushed(org: TestOrg) -> None:
    # when
    result = await org.gql(PROBE_MUTATION_BOOM)
    # then
    assert result.errors and result.errors[0]["message"] == "Unexpected error."
    async with org.state.db.reader(org.organization_id) as session:
        count = await session.scalar(select(func.count()).select_from(models.Team).where(models.Team.name == "Written before the crash"))
    assert count == 0


async def test_ranked_pages_are_the_same_whether_the_columns_are_named_or_proxied(org: TestOrg, other_org: TestOrg) -> None:
    # given: each team's members, numbered per team; once with plainly named columns (the
    # outer select names them as text) and once with two columns both called `id` and a
    # renamed one (SQLAlchemy's column proxies)
    member, team, user = models.TeamMembership, models.Team, models.User
    rank = func.row_number().over(partition_by=member.team_id, order_by=member.user_id).label("_rank")
    base = select(member.team_id, member.user_id).join(team, team.id == member.team_id).join(user, user.id == member.user_id)
    named = base.add_columns(team.name, rank)
    clashing = base.add_columns(team.id, user.id, user.name.label("who"), rank)
    # when
    async with org.state.db.reader(org.organization_id) as session:
        plain = (await session.execute(ranked(session, named, "ranked", 1, ("team_id",)))).all()
        proxied = (await session.execute(ranked(session, clashing, "ranked", 1, ("team_id",)))).all()
    # then: one row per team of this organisation only (the tenant filter reaches inside
    # the subquery), the first member of each, in team order, with its values typed
    teams = sorted(org.teams.values(), key=lambda found: found.id)
    assert [(row.team_id, row.name) for row in plain] == [(found.id, found.name) for found in teams]
    assert [row.team_id for row in proxied] == [found.id for found in teams]
    assert [row.user_id for row in plain] == [row.user_id for row in proxied]
    assert all(row._rank == 1 and isinstance(row._rank, int) for row in [*plain, *proxied])


def test_page_info_cursors_are_those_of_the_first_and_last_edges() -> None:
    # given
    edges = [Edge(node="a", key=(dt.datetime(2026, 11, 29, tzinfo=dt.UTC), 5)), Edge(node="b", key=(None, 4))]
    # when
    page, empty = connection_of(edges, True, False), connection_of([], False, True)
    # then
    assert (page.page_info.start_cursor(), page.page_info.end_cursor()) == (edges[0].cursor(), edges[1].cursor())
    assert decode_cursor(page.page_info.end_cursor(), 2) == [None, 4]
    assert (empty.page_info.start_cursor(), empty.page_info.end_cursor()) == (None, None)


def test_a_page_edge_is_the_edge_the_dataclass_would_make() -> None:
    # when
    built = _edge("node", (1, 2))
    # then
    assert type(built) is Edge and vars(built) == vars(Edge(node="node", key=(1, 2))) and built.cursor() == encode_cursor((1, 2))
