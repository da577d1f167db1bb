"""Typed links between customers (C6) and the customer memo (C7)."""

from __future__ import annotations

from tests.plugins.customers.fixtures import company
from tests.support import TestOrg

RELATION_CREATE = """
mutation Link($input: CustomerRelationCreateInput!) {
  customerRelationCreate(input: $input) {
    relation { id kind note customer { displayName } relatedCustomer { displayName } }
    errors { code path }
  }
}
"""

RELATION_DELETE = """
mutation Unlink($id: ID!) { customerRelationDelete(id: $id) { deletedId errors { code path } } }
"""

RELATIONS = """
query Relations($id: ID!) {
  customer(id: $id) { relations { kind customer { displayName } relatedCustomer { displayName } } }
}
"""

MEMO_SET = """
mutation Memo($customerId: ID!, $body: String!) {
  customerMemoSet(customerId: $customerId, body: $body) {
    memo { body updatedAt updatedBy { handle } }
    customer { displayName }
    errors { code path }
  }
}
"""

MEMO = """
query Memo($id: ID!) { customer(id: $id) { memo { body updatedBy { handle } } } }
"""


async def _link(org: TestOrg, customer_id: str, related_id: str, kind: str = "PARTNER", note: str | None = None) -> dict:
    data = await org.ok(RELATION_CREATE, {"input": {"customerId": customer_id, "relatedCustomerId": related_id, "kind": kind, "note": note}})
    return data["customerRelationCreate"]


async def test_relation_links_two_customers_and_shows_on_both(org: TestOrg) -> None:
    # given
    shop = await company(org, "Boulangerie Martin")
    mill = await company(org, "Moulin Roux")
    # when
    created = await _link(org, shop["id"], mill["id"], "SUPPLIER", "Farine")
    # then
    assert created["errors"] == []
    assert created["relation"]["kind"] == "SUPPLIER"
    assert created["relation"]["note"] == "Farine"
    expected = [{"kind": "SUPPLIER", "customer": {"displayName": "Boulangerie Martin"}, "relatedCustomer": {"displayName": "Moulin Roux"}}]
    assert (await org.ok(RELATIONS, {"id": shop["id"]}))["customer"]["relations"] == expected
    assert (await org.ok(RELATIONS, {"id": mill["id"]}))["customer"]["relations"] == expected


async def test_a_customer_cannot_be_linked_to_itself(org: TestOrg) -> None:
    # given
    shop = await company(org, "Boulangerie Martin")
    # when
    created = await _link(org, shop["id"], shop["id"])
    # then
    assert created == {"relation": None, "errors": [{"code": "INVALID", "path": ["input", "relatedCustomerId"]}]}


async def test_the_same_link_twice_is_a_conflict_in_either_direction(org: TestOrg) -> None:
    # given
    shop = await company(org, "Boulangerie Martin")
    mill = await company(org, "Moulin Roux")
    await _link(org, shop["id"], mill["id"], "PARTNER")
    # when
    again = await _link(org, mill["id"], shop["id"], "PARTNER")
    other_kind = await _link(org, mill["id"], shop["id"], "SAME_GROUP")
    # then
    assert again["errors"] == [{"code": "CONFLICT", "path": ["input", "kind"]}]
    assert other_kind["errors"] == []


async def test_link_to_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    shop = await company(org, "Boulangerie Martin")
    theirs = await company(other_org, "Theirs")
    # when
    created = await _link(org, shop["id"], theirs["id"])
    # then
    assert created == {"relation": None, "errors": [{"code": "NOT_FOUND", "path": ["input", "relatedCustomerId"]}]}


async def test_relation_delete_removes_the_link(org: TestOrg) -> None:
    # given
    shop = await company(org, "Boulangerie Martin")
    mill = await company(org, "Moulin Roux")
    relation = (await _link(org, shop["id"], mill["id"]))["relation"]
    # when
    deleted = await org.ok(RELATION_DELETE, {"id": relation["id"]})
    # then
    assert deleted["customerRelationDelete"] == {"deletedId": relation["id"], "errors": []}
    assert (await org.ok(RELATIONS, {"id": shop["id"]}))["customer"]["relations"] == []


async def test_another_organisation_cannot_delete_a_link(org: TestOrg, other_org: TestOrg) -> None:
    # given
    shop = await company(other_org, "Boulangerie Martin")
    mill = await company(other_org, "Moulin Roux")
    relation = (await _link(other_org, shop["id"], mill["id"]))["relation"]
    # when
    deleted = await org.ok(RELATION_DELETE, {"id": relation["id"]})
    # then
    assert deleted["customerRelationDelete"] == {"deletedId": None, "errors": [{"code": "NOT_FOUND", "path": ["id"]}]}


async def test_memo_records_its_text_and_who_edited_it(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(MEMO_SET, {"customerId": customer["id"], "body": " Portail bleu, sonner à l'interphone B. "}, as_="member")
    # then
    payload = data["customerMemoSet"]
    assert payload["memo"]["body"] == "Portail bleu, sonner à l'interphone B."
    assert payload["memo"]["updatedBy"] == {"handle": "member"}
    assert payload["memo"]["updatedAt"] is not None
    assert payload["customer"] == {"displayName": "Alpha"}


async def test_memo_edit_replaces_the_text_and_the_editor(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await org.ok(MEMO_SET, {"customerId": customer["id"], "body": "Premier"}, as_="member")
    # when
    await org.ok(MEMO_SET, {"customerId": customer["id"], "body": "Second"}, as_="technician")
    # then
    assert (await org.ok(MEMO, {"id": customer["id"]}))["customer"]["memo"] == {"body": "Second", "updatedBy": {"handle": "technician"}}


async def test_empty_memo_removes_it(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await org.ok(MEMO_SET, {"customerId": customer["id"], "body": "Premier"})
    # when
    data = await org.ok(MEMO_SET, {"customerId": customer["id"], "body": "   "})
    # then
    assert data["customerMemoSet"]["memo"] is None
    assert (await org.ok(MEMO, {"id": customer["id"]}))["customer"]["memo"] is None


async def test_memo_of_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    data = await org.ok(MEMO_SET, {"customerId": theirs["id"], "body": "Intrusion"})
    # then
    assert data["customerMemoSet"]["errors"] == [{"code": "NOT_FOUND", "path": ["customerId"]}]
