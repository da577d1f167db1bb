"""Deleting customers (C4): the customer and its rows go together; refused while it has
branches, for members, and for another organisation's customer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fiche.relay import decode_id, encode_id
from fiche.plugins.customers import models
from tests.plugins.customers.fixtures import add_address, add_contact, company
from tests.support import TestOrg

DELETE = """
mutation Delete($id: ID!) { customerDelete(id: $id) { deletedId errors { code message path } } }
"""

EXISTS = "query Exists($id: ID!) { customer(id: $id) { id } }"

MEMO = """
mutation Memo($id: ID!) { customerMemoSet(customerId: $id, body: "Code 1234") { errors { code } } }
"""

LINK = """
mutation Link($a: ID!, $b: ID!) {
  customerRelationCreate(input: {customerId: $a, relatedCustomerId: $b, kind: SUPPLIER}) { errors { code } }
}
"""


async def _rows(org: TestOrg, customer_pk: int) -> dict[str, int]:
    """How many rows of each of the plugin's tables still mention the customer."""
    counts = {}
    async with org.state.db.reader(org.organization_id) as session:
        for model in (models.Contact, models.Address, models.CustomerMemo, models.CustomerEvent, models.CustomValue, models.CustomerDocument):
            counts[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model).where(model.customer_id == customer_pk)
            )
        relation = models.CustomerRelation
        counts[relation.__tablename__] = await session.scalar(
            select(func.count())
            .select_from(relation)
            .where((relation.customer_id == customer_pk) | (relation.related_customer_id == customer_pk))
        )
    return counts


async def test_delete_removes_the_customer_and_everything_attached(org: TestOrg) -> None:
    # given
    customer, supplier = await company(org, "Dupré"), await company(org, "Fournisseur")
    await add_contact(org, customer["id"], "Anne", preferred=True)
    await add_address(org, customer["id"], "Lyon")
    await org.ok(MEMO, {"id": customer["id"]})
    await org.ok(LINK, {"a": customer["id"], "b": supplier["id"]})
    pk = decode_id(customer["id"])[1]
    assert sum((await _rows(org, pk)).values()) > 0
    # when
    data = await org.ok(DELETE, {"id": customer["id"]}, as_="manager")
    # then
    assert data["customerDelete"] == {"deletedId": customer["id"], "errors": []}
    assert (await org.ok(EXISTS, {"id": customer["id"]}))["customer"] is None
    assert set((await _rows(org, pk)).values()) == {0}
    assert (await org.ok(EXISTS, {"id": supplier["id"]}))["customer"] is not None


async def test_delete_is_refused_while_the_customer_has_branches(org: TestOrg) -> None:
    # given
    main = await company(org, "Groupe")
    await company(org, "Groupe Nord", parentId=main["id"])
    # when
    data = await org.ok(DELETE, {"id": main["id"]}, as_="admin")
    # then
    errors = data["customerDelete"]["errors"]
    assert [(error["code"], error["path"]) for error in errors] == [("CONFLICT", ["id"])]
    assert "Groupe Nord" in errors[0]["message"]
    assert (await org.ok(EXISTS, {"id": main["id"]}))["customer"] is not None


async def test_a_branch_can_be_deleted(org: TestOrg) -> None:
    # given
    main = await company(org, "Groupe")
    branch = await company(org, "Groupe Nord", parentId=main["id"])
    # when
    data = await org.ok(DELETE, {"id": branch["id"]}, as_="manager")
    # then
    assert data["customerDelete"]["errors"] == []
    assert (await org.ok(EXISTS, {"id": main["id"]}))["customer"] is not None


@pytest.mark.parametrize("who", ["member", "technician"])
async def test_delete_needs_a_manager_or_an_admin(org: TestOrg, who: str) -> None:
    # given
    customer = await company(org, "Dupré")
    # when
    data = await org.ok(DELETE, {"id": customer["id"]}, as_=who)
    # then
    assert [error["code"] for error in data["customerDelete"]["errors"]] == ["FORBIDDEN"]
    assert (await org.ok(EXISTS, {"id": customer["id"]}))["customer"] is not None


async def test_delete_of_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    stolen = await org.ok(DELETE, {"id": theirs["id"]}, as_="admin")
    missing = await org.ok(DELETE, {"id": encode_id("Customer", 10**9)}, as_="admin")
    # then
    assert stolen == missing
    assert stolen["customerDelete"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await other_org.ok(EXISTS, {"id": theirs["id"]}))["customer"] is not None
