"""Merging duplicates (C4): everything of the duplicate moves to the kept customer in one
transaction, through every plugin's ``merge_customers`` hook (a partner's included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fiche.app import build_state
from fiche.migrate import upgrade
from fiche.plugin_host import get_plugin_manager
from fiche.relay import encode_id
from fiche.schema import build_schema
from fiche.settings import Settings
from tests.plugins.customers.fixtures import add_address, add_contact, company, person
from tests.support import TestOrg, make_org, partner_installed

MERGE = """
mutation Merge($keep: ID!, $duplicate: ID!) {
  customerMerge(keepId: $keep, duplicateId: $duplicate) {
    customer { id displayName email phone }
    errors { code message path }
  }
}
"""

PROFILE = """
query Profile($id: ID!) {
  customer(id: $id) {
    preferredContact { name }
    contacts { nodes { name preferred } }
    primaryAddress { city }
    addresses { city primary }
    branches { nodes { displayName } }
    memo { body }
    relations { customer { displayName } relatedCustomer { displayName } }
    customFields { field { key } ... on TextCustomFieldValue { text } }
  }
}
"""

EXISTS = "query Exists($id: ID!) { customer(id: $id) { id } }"

LINK = """
mutation Link($a: ID!, $b: ID!) {
  customerRelationCreate(input: {customerId: $a, relatedCustomerId: $b, kind: PARTNER}) { errors { code } }
}
"""

MEMO = """
mutation Memo($id: ID!, $body: String!) { customerMemoSet(customerId: $id, body: $body) { errors { code } } }
"""

FIELD = """
mutation { customFieldCreate(input: {key: "erp", label: "ERP", type: TEXT}) { errors { code } } }
"""

SET_VALUE = """
mutation Value($id: ID!, $text: String) {
  customerUpdate(input: {id: $id, customFields: [{key: "erp", text: $text}]}) { errors { code } }
}
"""

LOYALTY_CARD = """
mutation Card($customerId: ID!, $points: Int!) {
  loyaltyCardCreate(customerId: $customerId, points: $points) { card { id } errors { code } }
}
"""

LOYALTY = "query Loyalty($id: ID!) { customer(id: $id) { loyaltyCard { points } } }"

LOYALTY_CARD_NODE = "query Card($id: ID!) { node(id: $id) { ... on LoyaltyCard { points } } }"


async def _merge(org: TestOrg, keep: dict, duplicate: dict, as_: str = "manager") -> dict:
    return (await org.ok(MERGE, {"keep": keep["id"], "duplicate": duplicate["id"]}, as_=as_))["customerMerge"]


async def _profile(org: TestOrg, customer: dict) -> dict:
    return (await org.ok(PROFILE, {"id": customer["id"]}))["customer"]


async def test_merge_moves_contacts_and_keeps_one_preferred_contact(org: TestOrg) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await add_contact(org, keep["id"], "Anne", preferred=True)
    await add_contact(org, duplicate["id"], "Bruno", preferred=True)
    await add_contact(org, duplicate["id"], "Chloé")
    # when
    merged = await _merge(org, keep, duplicate)
    # then
    assert merged["errors"] == []
    profile = await _profile(org, keep)
    assert profile["preferredContact"] == {"name": "Anne"}
    assert profile["contacts"]["nodes"] == [
        {"name": "Anne", "preferred": True},
        {"name": "Bruno", "preferred": False},
        {"name": "Chloé", "preferred": False},
    ]


async def test_merge_keeps_the_duplicates_preferred_contact_when_the_kept_has_none(org: TestOrg) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await add_contact(org, keep["id"], "Anne")
    await add_contact(org, duplicate["id"], "Bruno", preferred=True)
    # when
    await _merge(org, keep, duplicate)
    # then
    assert (await _profile(org, keep))["preferredContact"] == {"name": "Bruno"}


async def test_merge_moves_addresses_and_keeps_one_primary_address(org: TestOrg) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await add_address(org, keep["id"], "Lyon")
    await add_address(org, duplicate["id"], "Grenoble")
    # when
    await _merge(org, keep, duplicate)
    # then
    profile = await _profile(org, keep)
    assert profile["primaryAddress"] == {"city": "Lyon"}
    assert profile["addresses"] == [{"city": "Lyon", "primary": True}, {"city": "Grenoble", "primary": False}]


async def test_merge_deletes_the_duplicate(org: TestOrg) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    # when
    merged = await _merge(org, keep, duplicate)
    # then
    assert merged["customer"]["id"] == keep["id"]
    assert (await org.ok(EXISTS, {"id": duplicate["id"]}))["customer"] is None


async def test_merge_fills_in_what_the_kept_customer_lacks(org: TestOrg) -> None:
    # given
    keep = await company(org, "Dupré", phone="04 72 00 00 00")
    duplicate = await company(org, "Dupre", email="contact@dupre.fr", phone="01 00 00 00 00")
    # when
    merged = await _merge(org, keep, duplicate)
    # then: the kept customer's own values win
    assert merged["customer"] == {"id": keep["id"], "displayName": "Dupré", "email": "contact@dupre.fr", "phone": "04 72 00 00 00"}


async def test_merge_moves_branches_relations_memo_and_custom_values(org: TestOrg) -> None:
    # given
    keep, duplicate, partner = await company(org, "Dupré"), await company(org, "Dupre"), await company(org, "Partenaire")
    await company(org, "Dupre Nord", parentId=duplicate["id"])
    await org.ok(LINK, {"a": partner["id"], "b": duplicate["id"]})
    await org.ok(LINK, {"a": keep["id"], "b": duplicate["id"]})  # becomes a self-link: dropped
    await org.ok(MEMO, {"id": keep["id"], "body": "Code portail 1234"})
    await org.ok(MEMO, {"id": duplicate["id"], "body": "Chien dans la cour"})
    await org.ok(FIELD)
    await org.ok(SET_VALUE, {"id": duplicate["id"], "text": "ERP-DUP"})
    # when
    await _merge(org, keep, duplicate)
    # then
    profile = await _profile(org, keep)
    assert profile["branches"]["nodes"] == [{"displayName": "Dupre Nord"}]
    assert profile["relations"] == [{"customer": {"displayName": "Partenaire"}, "relatedCustomer": {"displayName": "Dupré"}}]
    assert profile["memo"] == {"body": "Code portail 1234\n\nChien dans la cour"}
    assert profile["customFields"] == [{"field": {"key": "erp"}, "text": "ERP-DUP"}]


async def test_merge_keeps_the_kept_customers_custom_values(org: TestOrg) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await org.ok(FIELD)
    await org.ok(SET_VALUE, {"id": keep["id"], "text": "ERP-KEEP"})
    await org.ok(SET_VALUE, {"id": duplicate["id"], "text": "ERP-DUP"})
    # when
    await _merge(org, keep, duplicate)
    # then
    assert (await _profile(org, keep))["customFields"] == [{"field": {"key": "erp"}, "text": "ERP-KEEP"}]


async def test_merging_a_customer_into_itself_is_refused(org: TestOrg) -> None:
    # given
    customer = await company(org, "Dupré")
    # when
    merged = await _merge(org, customer, customer)
    # then
    assert [(error["code"], error["path"]) for error in merged["errors"]] == [("INVALID", ["duplicateId"])]


async def test_merging_a_customer_into_one_of_its_branches_is_refused(org: TestOrg) -> None:
    # given
    main = await company(org, "Groupe")
    branch = await company(org, "Groupe Nord", parentId=main["id"])
    grandchild = await company(org, "Groupe Lille", parentId=branch["id"])
    # when
    merged = await _merge(org, grandchild, main)
    # then
    assert [(error["code"], error["path"]) for error in merged["errors"]] == [("CONFLICT", ["keepId"])]
    assert (await org.ok(EXISTS, {"id": main["id"]}))["customer"] is not None


async def test_merging_a_branch_into_its_main_customer_moves_its_own_branches(org: TestOrg) -> None:
    # given
    main = await company(org, "Groupe")
    branch = await company(org, "Groupe Nord", parentId=main["id"])
    await company(org, "Groupe Lille", parentId=branch["id"])
    # when
    merged = await _merge(org, main, branch)
    # then
    assert merged["errors"] == []
    assert (await _profile(org, main))["branches"]["nodes"] == [{"displayName": "Groupe Lille"}]


@pytest.mark.parametrize("who", ["member", "member2", "technician"])
async def test_merge_needs_a_manager_or_an_admin(org: TestOrg, who: str) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    # when
    merged = await _merge(org, keep, duplicate, as_=who)
    # then
    assert [error["code"] for error in merged["errors"]] == ["FORBIDDEN"]
    assert (await org.ok(EXISTS, {"id": duplicate["id"]}))["customer"] is not None


async def test_admin_can_merge(org: TestOrg) -> None:
    # given
    keep, duplicate = await person(org, "Léa", "Morel"), await person(org, "Lea", "Morel")
    # when
    merged = await _merge(org, keep, duplicate, as_="admin")
    # then
    assert merged["errors"] == []


async def test_merge_with_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    ours = await company(org, "Dupré")
    theirs = await company(other_org, "Dupre")
    missing = {"id": encode_id("Customer", 10**9)}
    # when
    as_duplicate = await _merge(org, ours, theirs)
    as_kept = await _merge(org, theirs, ours)
    with_missing = await _merge(org, ours, missing)
    # then: exactly like a missing customer, and nothing moved
    assert as_duplicate == with_missing
    assert [(error["code"], error["path"]) for error in as_duplicate["errors"]] == [("NOT_FOUND", ["duplicateId"])]
    assert [(error["code"], error["path"]) for error in as_kept["errors"]] == [("NOT_FOUND", ["keepId"])]
    assert (await other_org.ok(EXISTS, {"id": theirs["id"]}))["customer"] == {"id": theirs["id"]}


async def test_merge_runs_a_partner_plugins_merge_hook(tmp_path: Path, settings: Settings) -> None:
    # given: the test partner distribution installed, discovered through its entry point
    with partner_installed(str(tmp_path / "site")):
        pm = get_plugin_manager(settings)
        assert pm.get_plugin("loyalty") is not None
        await upgrade(pm, settings.database_url)
        state = build_state(settings, pm)
        try:
            org = await make_org(state, build_schema(pm, settings))
            keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
            other = await company(org, "Autre")
            await org.ok(LOYALTY_CARD, {"customerId": keep["id"], "points": 10})
            await org.ok(LOYALTY_CARD, {"customerId": duplicate["id"], "points": 5})
            await org.ok(LOYALTY_CARD, {"customerId": other["id"], "points": 1})
            # when
            merged = await _merge(org, keep, duplicate)
            # then: the partner re-pointed its rows in the merge transaction
            assert merged["errors"] == []
            assert (await org.ok(LOYALTY, {"id": keep["id"]}))["customer"]["loyaltyCard"] == {"points": 15}
            assert (await org.ok(LOYALTY, {"id": other["id"]}))["customer"]["loyaltyCard"] == {"points": 1}
        finally:
            await state.db.dispose()


async def test_merge_moves_a_partner_card_when_the_kept_customer_has_none(tmp_path: Path, settings: Settings) -> None:
    # given
    with partner_installed(str(tmp_path / "site")):
        pm = get_plugin_manager(settings)
        await upgrade(pm, settings.database_url)
        state = build_state(settings, pm)
        try:
            org = await make_org(state, build_schema(pm, settings))
            keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
            card = (await org.ok(LOYALTY_CARD, {"customerId": duplicate["id"], "points": 7}))["loyaltyCardCreate"]["card"]
            # when
            await _merge(org, keep, duplicate)
            # then: the same card now belongs to the kept customer
            node = await org.ok(LOYALTY_CARD_NODE, {"id": card["id"]})
            assert node == {"node": {"points": 7}}
            assert (await org.ok(LOYALTY, {"id": keep["id"]}))["customer"]["loyaltyCard"] == {"points": 7}
        finally:
            await state.db.dispose()
