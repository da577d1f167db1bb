"""Contacts (C5): fields and validation, one preferred contact per location (enforced by
the database), contacts per location, isolation."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from fiche.relay import decode_id, encode_id
from fiche.plugins.customers import models
from tests.plugins.customers.fixtures import CONTACT_CREATE, add_contact, company
from tests.support import TestOrg

CONTACTS = """
query Contacts($id: ID!, $first: Int, $after: String) {
  customer(id: $id) {
    preferredContact { name }
    contacts(first: $first, after: $after) {
      nodes { name preferred }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

CONTACT_DETAILS = """
mutation ContactCreate($input: ContactCreateInput!) {
  contactCreate(input: $input) {
    contact { name role roleKind email phone mobile preferred portalAccess customer { displayName } }
    errors { code path }
  }
}
"""

CONTACT_UPDATE = """
mutation ContactUpdate($input: ContactUpdateInput!) {
  contactUpdate(input: $input) { contact { name role roleKind email preferred } errors { code path } }
}
"""

CONTACT_DELETE = """
mutation ContactDelete($id: ID!) { contactDelete(id: $id) { deletedId errors { code path } } }
"""

CONTACT_NODE = """
query Node($id: ID!) { node(id: $id) { ... on Contact { name customer { displayName } } } }
"""


async def _contacts(org: TestOrg, customer_id: str, **args: object) -> dict:
    data = await org.ok(CONTACTS, {"id": customer_id, **args})
    return data["customer"]


async def test_contact_keeps_its_fields_and_location(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(
        CONTACT_DETAILS,
        {
            "input": {
                "customerId": customer["id"],
                "name": "  Inès Fontaine ",
                "role": "acheteur",
                "email": "ines@alpha.fr",
                "phone": "04 72 00 00 00",
                "mobile": "+33 6 12 34 56 78",
                "portalAccess": True,
            }
        },
    )
    # then
    assert data["contactCreate"]["contact"] == {
        "name": "Inès Fontaine",
        "role": "Buyer",
        "roleKind": "BUYER",
        "email": "ines@alpha.fr",
        "phone": "04 72 00 00 00",
        "mobile": "+33 6 12 34 56 78",
        "preferred": False,
        "portalAccess": True,
        "customer": {"displayName": "Alpha"},
    }


async def test_free_text_role_is_kept_as_other(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(CONTACT_DETAILS, {"input": {"customerId": customer["id"], "name": "Hugo Blanc", "role": "Chef de chantier"}})
    # then
    contact = data["contactCreate"]["contact"]
    assert (contact["role"], contact["roleKind"]) == ("Chef de chantier", "OTHER")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "   "), ("email", "ines@"), ("phone", "12"), ("mobile", "06-abc-12")],
)
async def test_bad_contact_input_is_refused_with_its_path(org: TestOrg, field: str, value: str) -> None:
    # given
    customer = await company(org, "Alpha")
    fields = {"customerId": customer["id"], "name": "Inès Fontaine", field: value}
    # when
    data = await org.ok(CONTACT_CREATE, {"input": fields})
    # then
    assert data["contactCreate"]["contact"] is None
    assert [(error["code"], error["path"]) for error in data["contactCreate"]["errors"]] == [("INVALID", ["input", field])]


async def test_a_second_preferred_contact_takes_the_flag(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await add_contact(org, customer["id"], "Ancien", preferred=True)
    # when
    await add_contact(org, customer["id"], "Nouveau", preferred=True)
    # then
    contacts = await _contacts(org, customer["id"])
    assert contacts["preferredContact"] == {"name": "Nouveau"}
    assert contacts["contacts"]["nodes"] == [{"name": "Nouveau", "preferred": True}, {"name": "Ancien", "preferred": False}]


async def test_making_a_contact_preferred_unsets_the_previous_one(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await add_contact(org, customer["id"], "Ancien", preferred=True)
    other = await add_contact(org, customer["id"], "Nouveau")
    # when
    data = await org.ok(CONTACT_UPDATE, {"input": {"id": other["id"], "preferred": True}})
    # then
    assert data["contactUpdate"]["contact"]["preferred"] is True
    contacts = await _contacts(org, customer["id"])
    assert [node["preferred"] for node in contacts["contacts"]["nodes"]].count(True) == 1
    assert contacts["preferredContact"] == {"name": "Nouveau"}


async def test_preferred_flag_can_be_removed(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    contact = await add_contact(org, customer["id"], "Seul", preferred=True)
    # when
    await org.ok(CONTACT_UPDATE, {"input": {"id": contact["id"], "preferred": False}})
    # then
    assert (await _contacts(org, customer["id"]))["preferredContact"] is None


async def test_database_refuses_two_preferred_contacts_at_one_location(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await add_contact(org, customer["id"], "Premier", preferred=True)
    _, pk = decode_id(customer["id"])
    # when / then: bypassing the service, the partial unique index still refuses
    async with org.state.db.session(organization_id=org.organization_id) as session:
        session.add(models.Contact(customer_id=pk, name="Second", preferred=True, portal_access=False))
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_preferred_contact_is_per_location(org: TestOrg) -> None:
    # given
    main = await company(org, "Alpha")
    branch = await company(org, "Alpha Lyon", parentId=main["id"])
    await add_contact(org, main["id"], "Siège", preferred=True)
    # when
    await add_contact(org, branch["id"], "Agence", preferred=True)
    # then: each location keeps its own preferred contact, contacts are not shared
    at_main, at_branch = await _contacts(org, main["id"]), await _contacts(org, branch["id"])
    assert (at_main["preferredContact"], at_main["contacts"]["nodes"]) == ({"name": "Siège"}, [{"name": "Siège", "preferred": True}])
    assert (at_branch["preferredContact"], at_branch["contacts"]["nodes"]) == ({"name": "Agence"}, [{"name": "Agence", "preferred": True}])


async def test_contacts_are_paginated_preferred_first_then_by_name(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    for name in ("Émile", "bruno", "Zoé", "Anne"):
        await add_contact(org, customer["id"], name)
    await add_contact(org, customer["id"], "Yves", preferred=True)
    # when
    first = (await _contacts(org, customer["id"], first=2))["contacts"]
    second = (await _contacts(org, customer["id"], first=3, after=first["pageInfo"]["endCursor"]))["contacts"]
    # then
    assert [node["name"] for node in first["nodes"] + second["nodes"]] == ["Yves", "Anne", "bruno", "Émile", "Zoé"]
    assert (first["pageInfo"]["hasNextPage"], second["pageInfo"]["hasNextPage"]) == (True, False)


async def test_contact_update_changes_only_what_is_sent(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    contact = await add_contact(org, customer["id"], "Inès", email="ines@alpha.fr", role="Owner")
    # when
    data = await org.ok(CONTACT_UPDATE, {"input": {"id": contact["id"], "name": "Inès Fontaine", "role": None}})
    # then
    assert data["contactUpdate"]["contact"] == {"name": "Inès Fontaine", "role": None, "roleKind": None, "email": "ines@alpha.fr", "preferred": False}


async def test_contact_update_refuses_an_empty_name(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    contact = await add_contact(org, customer["id"], "Inès")
    # when
    data = await org.ok(CONTACT_UPDATE, {"input": {"id": contact["id"], "name": ""}})
    # then
    assert data["contactUpdate"]["errors"] == [{"code": "INVALID", "path": ["input", "name"]}]


async def test_contact_delete_removes_it(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    contact = await add_contact(org, customer["id"], "Inès", preferred=True)
    # when
    data = await org.ok(CONTACT_DELETE, {"id": contact["id"]})
    # then
    assert data["contactDelete"] == {"deletedId": contact["id"], "errors": []}
    assert (await _contacts(org, customer["id"]))["preferredContact"] is None


async def test_contact_at_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    data = await org.ok(CONTACT_CREATE, {"input": {"customerId": theirs["id"], "name": "Intrus"}})
    # then
    assert data["contactCreate"]["errors"] == [{"code": "NOT_FOUND", "message": "No customer with this ID.", "path": ["input", "customerId"]}]


async def test_another_organisations_contact_reads_and_writes_as_missing(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    contact = await add_contact(other_org, theirs["id"], "Leur contact")
    # when
    node = await org.ok(CONTACT_NODE, {"id": contact["id"]})
    update = await org.ok(CONTACT_UPDATE, {"input": {"id": contact["id"], "name": "Piraté"}})
    delete = await org.ok(CONTACT_DELETE, {"id": contact["id"]})
    missing = await org.ok(CONTACT_DELETE, {"id": encode_id("Contact", 10**9)})
    # then
    assert node == {"node": None}
    assert update["contactUpdate"]["errors"] == [{"code": "NOT_FOUND", "path": ["input", "id"]}]
    assert delete == missing


async def test_contact_node_knows_its_location(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    contact = await add_contact(org, customer["id"], "Inès")
    # when
    data = await org.ok(CONTACT_NODE, {"id": contact["id"]})
    # then
    assert data == {"node": {"name": "Inès", "customer": {"displayName": "Alpha"}}}


async def test_concurrent_preferred_contacts_leave_exactly_one_and_no_server_error(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    inputs = [{"customerId": customer["id"], "name": f"Contact {index}", "preferred": True} for index in range(6)]
    # when
    results = await asyncio.gather(*(org.gql(CONTACT_CREATE, {"input": fields}) for fields in inputs))
    # then: each creation either won the flag or got a CONFLICT to retry, never an error
    assert all(result.errors == [] for result in results)
    codes = {error["code"] for result in results for error in result.data["contactCreate"]["errors"]}
    assert codes <= {"CONFLICT"}
    listed = await _contacts(org, customer["id"], first=10)
    assert [node["preferred"] for node in listed["contacts"]["nodes"]].count(True) == 1
