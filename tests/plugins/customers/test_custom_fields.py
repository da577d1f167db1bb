"""Custom fields (C1): admin-defined per organisation, values validated against their
definition and exposed as typed values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plugins.customers.fixtures import CUSTOMER_CREATE, company
from tests.support import TestOrg

FIELD_CREATE = """
mutation FieldCreate($input: CustomFieldCreateInput!) {
  customFieldCreate(input: $input) {
    field { id key label type choices required position }
    errors { code path }
  }
}
"""

FIELD_UPDATE = """
mutation FieldUpdate($input: CustomFieldUpdateInput!) {
  customFieldUpdate(input: $input) { field { label choices required } errors { code path } }
}
"""

FIELD_DELETE = """
mutation FieldDelete($id: ID!) { customFieldDelete(id: $id) { deletedId errors { code path } } }
"""

FIELDS = "{ customFields { key } }"

CREATE_WITH_VALUES = """
mutation Create($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    customer {
      id reference
      customFields {
        __typename
        field { key }
        ... on TextCustomFieldValue { text }
        ... on NumberCustomFieldValue { number }
        ... on DateCustomFieldValue { date }
        ... on BooleanCustomFieldValue { boolean }
        ... on ChoiceCustomFieldValue { choice }
      }
    }
    errors { code path }
  }
}
"""

UPDATE_VALUES = """
mutation Update($id: ID!, $values: [CustomFieldValueInput!]) {
  customerUpdate(input: {id: $id, customFields: $values}) {
    customer { customFields { field { key } ... on ChoiceCustomFieldValue { choice } ... on TextCustomFieldValue { text } } }
    errors { code path }
  }
}
"""


async def define(org: TestOrg, key: str, type_: str, **fields: Any) -> dict[str, Any]:
    data = await org.ok(FIELD_CREATE, {"input": {"key": key, "label": key.replace("_", " ").title(), "type": type_, **fields}})
    assert data["customFieldCreate"]["errors"] == [], data
    return dict(data["customFieldCreate"]["field"])


async def _standard_fields(org: TestOrg) -> None:
    await define(org, "erp_code", "TEXT")
    await define(org, "employees", "NUMBER")
    await define(org, "signup_date", "DATE")
    await define(org, "newsletter", "BOOLEAN")
    await define(org, "sector", "CHOICE", choices=["BTP", "Santé"])


async def _create(org: TestOrg, values: list[dict[str, Any]]) -> dict[str, Any]:
    data = await org.ok(CREATE_WITH_VALUES, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha", "customFields": values}})
    return dict(data["customerCreate"])


async def test_admin_defines_a_custom_field(org: TestOrg) -> None:
    # when
    field = await define(org, "sector", "CHOICE", choices=[" BTP ", "Santé"], required=True)
    # then
    assert {key: value for key, value in field.items() if key != "id"} == {
        "key": "sector", "label": "Sector", "type": "CHOICE", "choices": ["BTP", "Santé"], "required": True, "position": 0,
    }  # fmt: skip


@pytest.mark.parametrize("who", ["manager", "member", "technician"])
async def test_only_admins_define_custom_fields(org: TestOrg, who: str) -> None:
    # when
    data = await org.ok(FIELD_CREATE, {"input": {"key": "sector", "label": "Secteur", "type": "TEXT"}}, as_=who)
    # then
    assert data["customFieldCreate"] == {"field": None, "errors": [{"code": "FORBIDDEN", "path": []}]}


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"key": "Bad Key", "type": "TEXT"}, "key", "INVALID"),
        ({"key": "sector", "type": "CHOICE"}, "choices", "INVALID"),
        ({"key": "sector", "type": "CHOICE", "choices": ["A", "A"]}, "choices", "INVALID"),
        ({"key": "sector", "type": "TEXT", "choices": ["A"]}, "choices", "INVALID"),
        ({"key": "sector", "type": "TEXT", "label": " "}, "label", "INVALID"),
    ],
)
async def test_bad_definitions_are_refused(org: TestOrg, fields: dict[str, Any], path: str, code: str) -> None:
    # when
    data = await org.ok(FIELD_CREATE, {"input": {"label": "Label", **fields}})
    # then
    assert data["customFieldCreate"]["errors"] == [{"code": code, "path": ["input", path]}]


async def test_a_key_is_unique_in_the_organisation_only(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await define(org, "sector", "TEXT")
    await define(other_org, "sector", "TEXT")
    # when
    data = await org.ok(FIELD_CREATE, {"input": {"key": "sector", "label": "Encore", "type": "TEXT"}})
    # then
    assert data["customFieldCreate"]["errors"] == [{"code": "CONFLICT", "path": ["input", "key"]}]
    assert (await org.ok(FIELDS))["customFields"] == [{"key": "sector"}]


async def test_values_are_exposed_as_typed_values(org: TestOrg) -> None:
    # given
    await _standard_fields(org)
    values = [
        {"key": "sector", "choice": "Santé"},
        {"key": "erp_code", "text": "ERP-1"},
        {"key": "employees", "number": 12.5},
        {"key": "signup_date", "date": "2024-03-01"},
        {"key": "newsletter", "boolean": False},
    ]
    # when
    created = await _create(org, values)
    # then: in the order of the definitions
    assert created["errors"] == []
    assert created["customer"]["customFields"] == [
        {"__typename": "TextCustomFieldValue", "field": {"key": "erp_code"}, "text": "ERP-1"},
        {"__typename": "NumberCustomFieldValue", "field": {"key": "employees"}, "number": 12.5},
        {"__typename": "DateCustomFieldValue", "field": {"key": "signup_date"}, "date": "2024-03-01"},
        {"__typename": "BooleanCustomFieldValue", "field": {"key": "newsletter"}, "boolean": False},
        {"__typename": "ChoiceCustomFieldValue", "field": {"key": "sector"}, "choice": "Santé"},
    ]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"key": "employees", "text": "douze"}, ["input", "customFields", "0"]),
        ({"key": "sector", "choice": "Agriculture"}, ["input", "customFields", "0"]),
        ({"key": "unknown", "text": "x"}, ["input", "customFields", "0", "key"]),
        ({"key": "newsletter", "boolean": True, "text": "oui"}, ["input", "customFields", "0"]),
    ],
)
async def test_values_are_validated_against_their_definition(org: TestOrg, value: dict[str, Any], path: list[str]) -> None:
    # given
    await _standard_fields(org)
    # when
    created = await _create(org, [value])
    # then
    assert created == {"customer": None, "errors": [{"code": "INVALID", "path": path}]}


async def test_another_organisations_field_is_unknown(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await define(other_org, "secret", "TEXT")
    # when
    created = await _create(org, [{"key": "secret", "text": "x"}])
    # then
    assert created["errors"] == [{"code": "INVALID", "path": ["input", "customFields", "0", "key"]}]


async def test_required_field_missing_refuses_the_creation_and_rolls_everything_back(org: TestOrg) -> None:
    # given
    await define(org, "sector", "CHOICE", choices=["BTP"], required=True)
    # when
    refused = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Alpha"}})
    accepted = await _create(org, [{"key": "sector", "choice": "BTP"}])
    # then: the refused creation took no reference from the counter either
    assert refused["customerCreate"]["errors"] == [
        {"code": "INVALID", "message": "Required custom field(s) missing: Sector.", "path": ["input", "customFields"]}
    ]
    assert accepted["customer"]["reference"] == "C00001"


async def test_a_required_value_cannot_be_cleared(org: TestOrg) -> None:
    # given
    await define(org, "sector", "CHOICE", choices=["BTP"], required=True)
    customer = (await _create(org, [{"key": "sector", "choice": "BTP"}]))["customer"]
    # when
    data = await org.ok(UPDATE_VALUES, {"id": customer["id"], "values": [{"key": "sector"}]})
    # then
    assert data["customerUpdate"]["errors"] == [{"code": "INVALID", "path": ["input", "customFields", "0"]}]


async def test_update_sets_and_clears_values_and_keeps_the_others(org: TestOrg) -> None:
    # given
    await _standard_fields(org)
    customer = (await _create(org, [{"key": "sector", "choice": "BTP"}, {"key": "erp_code", "text": "ERP-1"}]))["customer"]
    # when
    data = await org.ok(UPDATE_VALUES, {"id": customer["id"], "values": [{"key": "erp_code"}, {"key": "sector", "choice": "Santé"}]})
    # then
    assert data["customerUpdate"] == {"customer": {"customFields": [{"field": {"key": "sector"}, "choice": "Santé"}]}, "errors": []}


async def test_a_choice_in_use_cannot_be_removed(org: TestOrg) -> None:
    # given
    field = await define(org, "sector", "CHOICE", choices=["BTP", "Santé"])
    await _create(org, [{"key": "sector", "choice": "BTP"}])
    # when
    in_use = await org.ok(FIELD_UPDATE, {"input": {"id": field["id"], "choices": ["Santé"]}})
    unused = await org.ok(FIELD_UPDATE, {"input": {"id": field["id"], "choices": ["BTP", "Industrie"], "label": "Secteur"}})
    # then
    assert in_use["customFieldUpdate"]["errors"] == [{"code": "CONFLICT", "path": ["input", "choices"]}]
    assert unused["customFieldUpdate"] == {"field": {"label": "Secteur", "choices": ["BTP", "Industrie"], "required": False}, "errors": []}


async def test_deleting_a_field_deletes_its_values(org: TestOrg) -> None:
    # given
    field = await define(org, "erp_code", "TEXT")
    customer = (await _create(org, [{"key": "erp_code", "text": "ERP-1"}]))["customer"]
    # when
    deleted = await org.ok(FIELD_DELETE, {"id": field["id"]})
    # then
    assert deleted["customFieldDelete"] == {"deletedId": field["id"], "errors": []}
    data = await org.ok(UPDATE_VALUES, {"id": customer["id"], "values": []})
    assert data["customerUpdate"]["customer"]["customFields"] == []


async def test_another_organisation_cannot_change_a_field(org: TestOrg, other_org: TestOrg) -> None:
    # given
    field = await define(other_org, "erp_code", "TEXT")
    # when
    data = await org.ok(FIELD_DELETE, {"id": field["id"]})
    # then
    assert data["customFieldDelete"] == {"deletedId": None, "errors": [{"code": "NOT_FOUND", "path": ["id"]}]}


async def test_custom_fields_are_listed_in_display_order(org: TestOrg) -> None:
    # given
    await define(org, "second", "TEXT", position=5)
    await define(org, "first", "TEXT", position=1)
    await define(org, "third", "TEXT")
    # when
    data = await org.ok(FIELDS, as_="technician")
    # then
    assert data["customFields"] == [{"key": "first"}, {"key": "second"}, {"key": "third"}]


async def test_customers_without_values_have_none(org: TestOrg) -> None:
    # given
    await _standard_fields(org)
    # when
    customer = await company(org, "Alpha")
    data = await org.ok(UPDATE_VALUES, {"id": customer["id"], "values": None})
    # then
    assert data["customerUpdate"]["customer"]["customFields"] == []
