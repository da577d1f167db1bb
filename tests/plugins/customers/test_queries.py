"""Finding customers (C3): search, filters, sorts, pages, archived customers, isolation.

Every test runs on SQLite and on PostgreSQL with the same expectations, which is the proof
that both databases give identical results."""

from __future__ import annotations

from typing import Any

from fiche.relay import encode_id
from tests.plugins.customers.fixtures import company, person
from tests.support import TestOrg

CUSTOMERS = """
query Customers($filter: CustomerFilter, $orderBy: CustomerOrder, $first: Int, $after: String) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    nodes { displayName }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CUSTOMER = """
query Customer($id: ID!) {
  customer(id: $id) { displayName }
  node(id: $id) { id }
}
"""

BY_REFERENCE = """
query ByReference($reference: String!) { customerByReference(reference: $reference) { displayName } }
"""

ARCHIVE = """
mutation Archive($id: ID!) { customerArchive(id: $id) { customer { archived archivedAt } errors { code } } }
"""

UNARCHIVE = """
mutation Unarchive($id: ID!) { customerUnarchive(id: $id) { customer { archived archivedAt } errors { code } } }
"""

UPDATE_PHONE = """
mutation Touch($id: ID!) { customerUpdate(input: {id: $id, phone: "01 02 03 04 05"}) { errors { code } } }
"""


async def names(org: TestOrg, filter: dict[str, Any] | None = None, order: dict[str, Any] | None = None, **args: Any) -> list[str]:
    data = await org.ok(CUSTOMERS, {"filter": filter, "orderBy": order, **args})
    return [node["displayName"] for node in data["customers"]["nodes"]]


async def test_search_ignores_accents_and_case(org: TestOrg) -> None:
    # given
    await company(org, "Électricité Dupré")
    await company(org, "Plomberie Martin")
    # when
    by_accentless = await names(org, {"search": "electricite"})
    by_capitals = await names(org, {"search": "DUPRE"})
    # then
    assert by_accentless == by_capitals == ["Électricité Dupré"]


async def test_search_matches_prefixes_and_substrings(org: TestOrg) -> None:
    # given
    await company(org, "Électricité Dupré")
    await company(org, "Plomberie Martin")
    # when
    prefix = await names(org, {"search": "dup"})
    substring = await names(org, {"search": "CTRICI"})
    # then
    assert prefix == substring == ["Électricité Dupré"]


async def test_search_needs_every_word(org: TestOrg) -> None:
    # given
    await company(org, "Électricité Dupré")
    await company(org, "Électricité Martin")
    # when
    both = await names(org, {"search": "dupré électricité"})
    none = await names(org, {"search": "dupre plomberie"})
    # then
    assert (both, none) == (["Électricité Dupré"], [])


async def test_search_finds_a_reference(org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="CLI-042")
    await company(org, "Bravo", reference="CLI-777")
    # when
    found = await names(org, {"search": "cli-04"})
    # then
    assert found == ["Alpha"]


async def test_search_treats_wildcards_literally(org: TestOrg) -> None:
    # given
    await company(org, "Remise 100% Pro")
    await company(org, "Alpha_Beta")
    await company(org, "Gamma")
    # when
    percent = await names(org, {"search": "%"})
    underscore = await names(org, {"search": "_"})
    # then
    assert (percent, underscore) == (["Remise 100% Pro"], ["Alpha_Beta"])


async def test_filter_by_kind(org: TestOrg) -> None:
    # given
    await company(org, "Alpha")
    await person(org, "Léa", "Morel")
    # when
    individuals = await names(org, {"kind": "INDIVIDUAL"})
    # then
    assert individuals == ["Léa Morel"]


async def test_filter_by_representative(org: TestOrg) -> None:
    # given
    member = encode_id("User", org.users["member"].id)
    await company(org, "Alpha", representativeId=member)
    await company(org, "Bravo", representativeId=encode_id("User", org.users["manager"].id))
    await company(org, "Charlie")
    # when
    mine = await names(org, {"representativeId": member})
    # then
    assert mine == ["Alpha"]


async def test_archived_customers_are_hidden_unless_asked_for(org: TestOrg) -> None:
    # given
    await company(org, "Active")
    archived = await company(org, "Dormant")
    await org.ok(ARCHIVE, {"id": archived["id"]})
    # when
    default = await names(org)
    only_archived = await names(org, {"archived": True})
    everyone = await names(org, {"archived": None})
    # then
    assert (default, only_archived, everyone) == (["Active"], ["Dormant"], ["Active", "Dormant"])


async def test_archive_sets_the_flag_and_unarchive_clears_it(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    archived = await org.ok(ARCHIVE, {"id": customer["id"]})
    restored = await org.ok(UNARCHIVE, {"id": customer["id"]})
    # then
    assert archived["customerArchive"]["customer"]["archived"] is True
    assert archived["customerArchive"]["customer"]["archivedAt"] is not None
    assert restored["customerUnarchive"]["customer"] == {"archived": False, "archivedAt": None}
    assert await names(org) == ["Alpha"]


async def test_sort_by_name_ignores_case_and_accents(org: TestOrg) -> None:
    # given
    for name in ("banane", "Zèbre", "Ábaco", "éclair", "abricot", "Bateau"):
        await company(org, name)
    # when
    ascending = await names(org, order={"field": "NAME"})
    descending = await names(org, order={"field": "NAME", "descending": True})
    # then
    assert ascending == ["Ábaco", "abricot", "banane", "Bateau", "éclair", "Zèbre"]
    assert descending == list(reversed(ascending))


async def test_sort_by_reference(org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="B-2")
    await company(org, "Bravo", reference="A-9")
    await company(org, "Charlie", reference="B-10")
    # when
    ordered = await names(org, order={"field": "REFERENCE"})
    # then: references compare as text, byte by byte, on both databases
    assert ordered == ["Bravo", "Charlie", "Alpha"]


async def test_sort_by_creation_newest_first(org: TestOrg) -> None:
    # given
    for name in ("First", "Second", "Third"):
        await company(org, name)
    # when
    ordered = await names(org, order={"field": "CREATED_AT", "descending": True})
    # then
    assert ordered == ["Third", "Second", "First"]


async def test_sort_by_last_update(org: TestOrg) -> None:
    # given
    first = await company(org, "First")
    await company(org, "Second")
    await org.ok(UPDATE_PHONE, {"id": first["id"]})
    # when
    ordered = await names(org, order={"field": "UPDATED_AT", "descending": True})
    # then
    assert ordered == ["First", "Second"]


async def test_pages_walk_every_customer_once_in_order(org: TestOrg) -> None:
    # given
    expected = [f"Client {index:02d}" for index in range(7)]
    for name in reversed(expected):
        await company(org, name)
    # when
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = await org.ok(CUSTOMERS, {"first": 3, "after": after})
        connection = data["customers"]
        seen.extend(node["displayName"] for node in connection["nodes"])
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    # then
    assert (seen, pages) == (expected, 3)


async def test_pages_walk_a_descending_sort_with_ties(org: TestOrg) -> None:
    # given: equal names are ordered by ID, so no customer is skipped or repeated
    for _ in range(5):
        await company(org, "Même Nom")
    # when
    first_page = await org.ok(CUSTOMERS, {"first": 2, "orderBy": {"field": "NAME", "descending": True}})
    cursor = first_page["customers"]["pageInfo"]["endCursor"]
    rest = await org.ok(CUSTOMERS, {"first": 10, "after": cursor, "orderBy": {"field": "NAME", "descending": True}})
    # then
    assert len(first_page["customers"]["nodes"]) + len(rest["customers"]["nodes"]) == 5


async def test_other_organisations_customers_are_never_listed(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await company(org, "Ours")
    await company(other_org, "Theirs")
    # when
    listed = await names(org, {"archived": None})
    searched = await names(org, {"search": "theirs"})
    # then
    assert (listed, searched) == (["Ours"], [])


async def test_another_organisations_customer_reads_as_missing(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs", reference="T-1")
    # when
    by_id = await org.ok(CUSTOMER, {"id": theirs["id"]})
    missing = await org.ok(CUSTOMER, {"id": encode_id("Customer", 10**9)})
    by_reference = await org.ok(BY_REFERENCE, {"reference": "T-1"})
    # then
    assert by_id == missing == {"customer": None, "node": None}
    assert by_reference == {"customerByReference": None}


async def test_customer_by_reference(org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="CLI-1")
    # when
    data = await org.ok(BY_REFERENCE, {"reference": "CLI-1"})
    # then
    assert data == {"customerByReference": {"displayName": "Alpha"}}


async def test_page_size_above_the_maximum_is_refused(org: TestOrg) -> None:
    # when
    result = await org.gql(CUSTOMERS, {"first": 10_000})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_malformed_filter_id_is_refused(org: TestOrg) -> None:
    # when
    result = await org.gql(CUSTOMERS, {"filter": {"representativeId": "nonsense"}})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_technicians_can_read_customers(org: TestOrg) -> None:
    # given
    await company(org, "Alpha")
    # when
    data = await org.ok(CUSTOMERS, {}, as_="technician")
    # then
    assert [node["displayName"] for node in data["customers"]["nodes"]] == ["Alpha"]


async def test_a_kept_list_statement_answers_each_organisation_and_filter_with_its_own_customers(org: TestOrg, other_org: TestOrg) -> None:
    # given: the list's statement is built once per filter and order and kept
    member, manager = encode_id("User", org.users["member"].id), encode_id("User", org.users["manager"].id)
    await company(org, "Alpha", representativeId=member)
    await company(org, "Bravo", representativeId=manager)
    await company(other_org, "Tango")
    # when: the same filters, in turn, by both organisations, twice
    answers = [
        (await names(org, {"search": "a"}), await names(other_org, {"search": "a"}), await names(org, {"representativeId": member}),
         await names(org, {"representativeId": manager}))
        for _ in range(2)
    ]  # fmt: skip
    refused = [(await org.gql(CUSTOMERS, {"filter": {"representativeId": "nonsense"}})).error_codes for _ in range(2)]
    # then
    assert answers == [(["Alpha", "Bravo"], ["Tango"], ["Alpha"], ["Bravo"])] * 2
    assert refused == [["BAD_USER_INPUT"]] * 2
