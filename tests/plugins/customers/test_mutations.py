"""The customer record (C1, C2, C4 conversion): create, update, validation, references."""

from __future__ import annotations

import asyncio

import pytest

from fiche.accounts import models as accounts
from fiche.relay import encode_id
from tests.plugins.customers.fixtures import CUSTOMER_CREATE, company, person
from tests.support import TestOrg

CUSTOMER_UPDATE = """
mutation CustomerUpdate($input: CustomerUpdateInput!) {
  customerUpdate(input: $input) {
    customer { id reference email phone registrationNumber companyName displayName representative { handle } }
    errors { code message path }
  }
}
"""

CUSTOMER_AUDIT = """
query Customer($id: ID!) {
  customer(id: $id) {
    createdAt updatedAt
    createdBy { handle }
    updatedBy { handle }
  }
}
"""

CUSTOMER_CONVERT = """
mutation Convert($input: CustomerConvertInput!) {
  customerConvertToProfessional(input: $input) {
    customer {
      kind companyName firstName lastName displayName registrationNumber
      preferredContact { name email phone }
    }
    errors { code message path }
  }
}
"""


def _error(data: dict, field: str) -> dict:
    payload = data[field]
    assert len(payload["errors"]) == 1, payload
    return payload["errors"][0]


async def test_create_professional_returns_the_customer_with_a_generated_reference(org: TestOrg) -> None:
    # when
    customer = await company(org, "Électricité Dupré")
    # then
    assert customer["displayName"] == "Électricité Dupré"
    assert customer["kind"] == "PROFESSIONAL"
    assert customer["reference"] == "C00001"
    assert customer["archived"] is False


async def test_generated_references_follow_the_organisation_sequence(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await company(org, "Alpha")
    await company(org, "Bravo")
    # when
    third = await company(org, "Charlie")
    elsewhere = await company(other_org, "Delta")
    # then
    assert third["reference"] == "C00003"
    assert elsewhere["reference"] == "C00001"


async def test_given_reference_is_kept(org: TestOrg) -> None:
    # when
    customer = await company(org, "Alpha", reference="  CLI-042 ")
    # then
    assert customer["reference"] == "CLI-042"


async def test_duplicate_reference_is_a_conflict(org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="CLI-042")
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Bravo", "reference": "CLI-042"}})
    # then
    assert data["customerCreate"]["customer"] is None
    assert _error(data, "customerCreate") | {"message": ""} == {"code": "CONFLICT", "message": "", "path": ["input", "reference"]}


async def test_same_reference_is_allowed_in_another_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="CLI-042")
    # when
    customer = await company(other_org, "Bravo", reference="CLI-042")
    # then
    assert customer["reference"] == "CLI-042"


async def test_generated_reference_skips_one_typed_by_hand(org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="C00001")
    # when
    customer = await company(org, "Bravo")
    # then
    assert customer["reference"] == "C00002"


async def test_concurrent_creations_get_distinct_references(org: TestOrg) -> None:
    # given
    await company(org, "First")  # the counter row exists; the race is on incrementing it
    # when
    created = await asyncio.gather(*(company(org, f"Concurrent {index}") for index in range(8)))
    # then
    references = sorted(customer["reference"] for customer in created)
    assert references == [f"C{number:05d}" for number in range(2, 10)]


async def test_first_creations_of_an_organisation_can_race(org: TestOrg) -> None:
    # when
    created = await asyncio.gather(*(company(org, f"Concurrent {index}") for index in range(4)))
    # then
    assert sorted(customer["reference"] for customer in created) == ["C00001", "C00002", "C00003", "C00004"]


async def test_individual_display_name_is_first_and_last_name(org: TestOrg) -> None:
    # when
    customer = await person(org, "Élodie", "Garnier")
    # then
    assert (customer["kind"], customer["displayName"]) == ("INDIVIDUAL", "Élodie Garnier")


async def test_professional_with_an_empty_company_name_is_invalid(org: TestOrg) -> None:
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "   "}})
    # then
    assert _error(data, "customerCreate")["path"] == ["input", "companyName"]
    assert _error(data, "customerCreate")["code"] == "INVALID"


async def test_individual_without_a_name_is_invalid(org: TestOrg) -> None:
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "INDIVIDUAL", "firstName": "", "lastName": " "}})
    # then
    error = _error(data, "customerCreate")
    assert (error["code"], error["path"]) == ("INVALID", ["input", "lastName"])


async def test_individual_with_a_company_name_is_invalid(org: TestOrg) -> None:
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "INDIVIDUAL", "lastName": "Petit", "companyName": "Petit SA"}})
    # then
    assert _error(data, "customerCreate")["path"] == ["input", "companyName"]


async def test_invalid_email_is_refused_with_its_path(org: TestOrg) -> None:
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha", "email": "not-an-email"}})
    # then
    error = _error(data, "customerCreate")
    assert (error["code"], error["path"]) == ("INVALID", ["input", "email"])


async def test_invalid_phone_is_refused_with_its_path(org: TestOrg) -> None:
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha", "phone": "call me"}})
    # then
    error = _error(data, "customerCreate")
    assert (error["code"], error["path"]) == ("INVALID", ["input", "phone"])


async def test_refused_creation_writes_nothing(org: TestOrg) -> None:
    # given
    await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha", "email": "bad"}})
    # when
    customer = await company(org, "Bravo")
    # then: the refused creation did not use a reference either
    assert customer["reference"] == "C00001"


async def test_representative_is_a_user_of_the_organisation(org: TestOrg) -> None:
    # given
    member = encode_id("User", org.users["member"].id)
    # when
    customer = await company(org, "Alpha", representativeId=member)
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": customer["id"]}})
    # then
    assert data["customerUpdate"]["customer"]["representative"] == {"handle": "member"}


async def test_representative_of_another_organisation_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    stranger = encode_id("User", other_org.users["member"].id)
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha", "representativeId": stranger}})
    # then
    error = _error(data, "customerCreate")
    assert (error["code"], error["path"]) == ("NOT_FOUND", ["input", "representativeId"])


async def test_malformed_id_is_invalid_not_a_server_error(org: TestOrg) -> None:
    # when
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": "not-an-id", "email": "a@b.fr"}})
    # then
    error = _error(data, "customerUpdate")
    assert (error["code"], error["path"]) == ("INVALID", ["input", "id"])


async def test_tracking_records_who_created_and_who_updated(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha", as_="member")
    # when
    await org.ok(CUSTOMER_UPDATE, {"input": {"id": customer["id"], "phone": "01 23 45 67 89"}}, as_="manager")
    data = await org.ok(CUSTOMER_AUDIT, {"id": customer["id"]})
    # then
    audit = data["customer"]
    assert audit["createdBy"] == {"handle": "member"}
    assert audit["updatedBy"] == {"handle": "manager"}
    assert audit["updatedAt"] > audit["createdAt"]


async def test_update_changes_only_the_fields_sent_and_null_clears(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha", email="contact@alpha.fr", phone="01 23 45 67 89", registrationNumber="123456789")
    # when
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": customer["id"], "email": "ventes@alpha.fr", "registrationNumber": None}})
    # then
    updated = data["customerUpdate"]["customer"]
    assert (updated["email"], updated["phone"], updated["registrationNumber"]) == ("ventes@alpha.fr", "01 23 45 67 89", None)


async def test_update_renames_and_refreshes_the_display_name(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": customer["id"], "companyName": "Alpha Énergie"}})
    # then
    assert data["customerUpdate"]["customer"]["displayName"] == "Alpha Énergie"


async def test_update_to_a_taken_reference_is_a_conflict(org: TestOrg) -> None:
    # given
    await company(org, "Alpha", reference="R-1")
    bravo = await company(org, "Bravo", reference="R-2")
    # when
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": bravo["id"], "reference": "R-1"}})
    # then
    error = _error(data, "customerUpdate")
    assert (error["code"], error["path"]) == ("CONFLICT", ["input", "reference"])


async def test_update_cannot_clear_the_reference(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": customer["id"], "reference": None}})
    # then
    error = _error(data, "customerUpdate")
    assert (error["code"], error["path"]) == ("INVALID", ["input", "reference"])


async def test_update_of_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    data = await org.ok(CUSTOMER_UPDATE, {"input": {"id": theirs["id"], "email": "x@y.fr"}})
    missing = await org.ok(CUSTOMER_UPDATE, {"input": {"id": encode_id("Customer", 10**9), "email": "x@y.fr"}})
    # then: exactly like a missing customer
    assert data == missing
    assert _error(data, "customerUpdate")["code"] == "NOT_FOUND"


async def test_convert_individual_to_professional_keeps_the_person_as_preferred_contact(org: TestOrg) -> None:
    # given
    customer = await person(org, "Jules", "Robin", email="jules@robin.fr", phone="06 12 34 56 78")
    # when
    data = await org.ok(CUSTOMER_CONVERT, {"input": {"id": customer["id"], "companyName": "Robin Paysages", "registrationNumber": "552100554"}})
    # then
    converted = data["customerConvertToProfessional"]["customer"]
    assert converted == {
        "kind": "PROFESSIONAL",
        "companyName": "Robin Paysages",
        "firstName": None,
        "lastName": None,
        "displayName": "Robin Paysages",
        "registrationNumber": "552100554",
        "preferredContact": {"name": "Jules Robin", "email": "jules@robin.fr", "phone": "06 12 34 56 78"},
    }


async def test_convert_without_company_name_uses_the_persons_name(org: TestOrg) -> None:
    # given
    customer = await person(org, "Jules", "Robin")
    # when
    data = await org.ok(CUSTOMER_CONVERT, {"input": {"id": customer["id"], "keepPersonAsContact": False}})
    # then
    converted = data["customerConvertToProfessional"]["customer"]
    assert (converted["companyName"], converted["preferredContact"]) == ("Jules Robin", None)


async def test_convert_a_professional_is_a_conflict(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(CUSTOMER_CONVERT, {"input": {"id": customer["id"]}})
    # then
    assert _error(data, "customerConvertToProfessional")["code"] == "CONFLICT"


async def test_anonymous_caller_cannot_create(org: TestOrg) -> None:
    # when
    result = await org.gql(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha"}}, as_=None)
    # then
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_a_deactivated_user_cannot_become_representative(org: TestOrg) -> None:
    # given
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        user = await session.get(accounts.User, org.users["member2"].id)
        assert user is not None
        user.is_active = False
    # when
    data = await org.ok(
        CUSTOMER_CREATE,
        {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha", "representativeId": encode_id("User", org.users["member2"].id)}},
    )
    # then
    error = _error(data, "customerCreate")
    assert (error["code"], error["path"]) == ("INVALID", ["input", "representativeId"])


ARCHIVE_OTHER = """
mutation Archive($id: ID!) { customerArchive(id: $id) { customer { id } errors { code message path } } }
"""
UNARCHIVE_OTHER = """
mutation Unarchive($id: ID!) { customerUnarchive(id: $id) { customer { id } errors { code message path } } }
"""
CONVERT_OTHER = """
mutation Convert($id: ID!) { customerConvertToProfessional(input: {id: $id}) { customer { id } errors { code message path } } }
"""


@pytest.mark.parametrize("document", [ARCHIVE_OTHER, UNARCHIVE_OTHER, CONVERT_OTHER])
async def test_actions_on_another_organisations_customer_behave_as_on_a_missing_one(
    org: TestOrg, other_org: TestOrg, document: str
) -> None:
    # given
    theirs = await person(other_org, "Léa", "Morel")
    # when
    stolen = await org.ok(document, {"id": theirs["id"]})
    missing = await org.ok(document, {"id": encode_id("Customer", 10**9)})
    # then
    assert stolen == missing
    assert [error["code"] for payload in stolen.values() for error in payload["errors"]] == ["NOT_FOUND"]
