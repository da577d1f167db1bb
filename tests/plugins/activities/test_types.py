"""Activity types (A1) and report forms (A4): built-in types in every organisation, custom
types and forms managed by admins, with validated colours and linked forms."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select

from fiche.plugins.activities import models
from tests.plugins.activities.fixtures import activity, customer, form, link_forms, type_ids
from tests.support import TestOrg

ACTIVITY_TYPES = """
query ($all: Boolean! = false) {
  activityTypes(includeArchived: $all) { id code name icon colour builtIn archived forms { id name } }
}
"""
TYPE_CREATE = """
mutation ($input: ActivityTypeCreateInput!) {
  activityTypeCreate(input: $input) {
    activityType { id code name description icon colour builtIn archived forms { id name } }
    errors { code message path }
  }
}
"""
TYPE_UPDATE = """
mutation ($input: ActivityTypeUpdateInput!) {
  activityTypeUpdate(input: $input) {
    activityType { id name icon colour archived forms { id name } }
    errors { code message path }
  }
}
"""
TYPE_DELETE = """
mutation ($id: ID!) { activityTypeDelete(id: $id) { deletedId errors { code message path } } }
"""
FORM_CREATE = """
mutation ($input: ReportFormCreateInput!) {
  reportFormCreate(input: $input) {
    form { id name fields { key label type required minValue maxValue minLength maxLength pattern choices } }
    errors { code message path }
  }
}
"""
FORM_UPDATE = """
mutation ($input: ReportFormUpdateInput!) {
  reportFormUpdate(input: $input) { form { id name archived fields { key } } errors { code message path } }
}
"""
FORM_DELETE = """
mutation ($id: ID!) { reportFormDelete(id: $id) { deletedId errors { code message path } } }
"""
REPORT_FORMS = "query ($all: Boolean! = false) { reportForms(includeArchived: $all) { id name archived } }"
NODE_FIELDS = "query ($id: ID!) { node(id: $id) { ... on ReportForm { fields { key pattern } } } }"
NODE = "query ($id: ID!) { node(id: $id) { id ... on ActivityType { name } ... on ReportForm { name } } }"

CUSTOM = {"name": "Revue trimestrielle", "description": "Bilan", "icon": "chart", "colour": "#ad1457"}
TEXT_FIELD = {"key": "summary", "label": "Summary", "type": "TEXT", "required": True}


async def test_every_organisation_has_the_seven_built_in_types(org: TestOrg) -> None:
    # when
    data = await org.ok(ACTIVITY_TYPES, as_="member")
    # then
    assert [(row["code"], row["name"], row["builtIn"]) for row in data["activityTypes"]] == [
        ("visit", "Visit", True),
        ("planned_visit", "Planned visit", True),
        ("inbound_call", "Inbound call", True),
        ("outbound_call", "Outbound call", True),
        ("meeting", "Meeting", True),
        ("email", "E-mail", True),
        ("sms", "SMS", True),
    ]


async def test_built_in_types_are_seeded_once_even_when_first_read_concurrently(org: TestOrg) -> None:
    # when
    await asyncio.gather(*(org.ok(ACTIVITY_TYPES) for _ in range(4)))
    # then
    async with org.state.db.reader(org.organization_id) as session:
        count = await session.scalar(select(func.count()).select_from(models.ActivityType))
    assert count == 7


async def test_an_organisation_seeded_before_a_new_built_in_type_receives_it_on_first_read(org: TestOrg) -> None:
    # given: the organisation has the first five built-in types only (as before e-mail and SMS)
    await org.ok(ACTIVITY_TYPES)
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(delete(models.ActivityType).where(models.ActivityType.code.in_(["email", "sms"])))
    # when
    data = await org.ok(ACTIVITY_TYPES, as_="member")
    # then
    assert [row["code"] for row in data["activityTypes"]][-2:] == ["email", "sms"]


async def test_built_in_types_are_per_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # given
    mine = await type_ids(org)
    # when
    theirs = await type_ids(other_org)
    # then
    assert set(mine) == set(theirs) and not set(mine.values()) & set(theirs.values())


async def test_admin_creates_a_custom_type(org: TestOrg) -> None:
    # when
    payload = (await org.ok(TYPE_CREATE, {"input": CUSTOM}))["activityTypeCreate"]
    # then
    created = payload["activityType"]
    assert payload["errors"] == [] and (created["name"], created["colour"], created["code"], created["builtIn"]) == (
        "Revue trimestrielle", "#AD1457", None, False,
    )  # fmt: skip
    assert "Revue trimestrielle" in [row["name"] for row in (await org.ok(ACTIVITY_TYPES))["activityTypes"]]


async def test_member_cannot_create_a_type(org: TestOrg) -> None:
    # when
    payload = (await org.ok(TYPE_CREATE, {"input": CUSTOM}, as_="manager"))["activityTypeCreate"]
    # then
    assert payload["activityType"] is None and [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]


async def test_invalid_colour_is_refused(org: TestOrg) -> None:
    # when
    payload = (await org.ok(TYPE_CREATE, {"input": {**CUSTOM, "colour": "rouge"}}))["activityTypeCreate"]
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "colour"])]


async def test_a_custom_type_cannot_take_a_built_in_name(org: TestOrg) -> None:
    # when
    payload = (await org.ok(TYPE_CREATE, {"input": {**CUSTOM, "name": "visit"}}))["activityTypeCreate"]
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("CONFLICT", ["input", "name"])]


async def test_built_in_type_cannot_be_renamed(org: TestOrg) -> None:
    # given
    visit = (await type_ids(org))["visit"]
    # when
    payload = (await org.ok(TYPE_UPDATE, {"input": {"id": visit, "name": "Passage"}}))["activityTypeUpdate"]
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("CONFLICT", ["input", "name"])]


async def test_built_in_type_cannot_be_deleted(org: TestOrg) -> None:
    # given
    visit = (await type_ids(org))["visit"]
    # when
    payload = (await org.ok(TYPE_DELETE, {"id": visit}))["activityTypeDelete"]
    # then
    assert payload["deletedId"] is None and [error["code"] for error in payload["errors"]] == ["CONFLICT"]


async def test_built_in_type_can_be_given_forms_and_a_new_colour(org: TestOrg) -> None:
    # given
    visit = (await type_ids(org))["visit"]
    form_id = await form(org, [TEXT_FIELD], name="Visit report")
    # when
    payload = (await org.ok(TYPE_UPDATE, {"input": {"id": visit, "formIds": [form_id], "colour": "#000000"}}))["activityTypeUpdate"]
    # then
    assert payload["errors"] == [] and payload["activityType"]["forms"] == [{"id": form_id, "name": "Visit report"}]
    assert payload["activityType"]["colour"] == "#000000"


async def test_linking_an_unknown_form_is_refused(org: TestOrg, other_org: TestOrg) -> None:
    # given
    visit = (await type_ids(org))["visit"]
    foreign_form = await form(other_org, [TEXT_FIELD])
    # when
    payload = (await org.ok(TYPE_UPDATE, {"input": {"id": visit, "formIds": [foreign_form]}}))["activityTypeUpdate"]
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("NOT_FOUND", ["input", "formIds", "0"])]


async def test_archived_type_is_hidden_from_the_list_unless_asked(org: TestOrg) -> None:
    # given
    created = (await org.ok(TYPE_CREATE, {"input": CUSTOM}))["activityTypeCreate"]["activityType"]
    await org.ok(TYPE_UPDATE, {"input": {"id": created["id"], "archived": True}})
    # when
    active = [row["id"] for row in (await org.ok(ACTIVITY_TYPES))["activityTypes"]]
    everything = [row["id"] for row in (await org.ok(ACTIVITY_TYPES, {"all": True}))["activityTypes"]]
    # then
    assert created["id"] not in active and created["id"] in everything


async def test_unused_custom_type_is_deleted(org: TestOrg) -> None:
    # given
    created = (await org.ok(TYPE_CREATE, {"input": CUSTOM}))["activityTypeCreate"]["activityType"]
    # when
    payload = (await org.ok(TYPE_DELETE, {"id": created["id"]}))["activityTypeDelete"]
    # then
    assert payload == {"deletedId": created["id"], "errors": []}
    assert (await org.ok(NODE, {"id": created["id"]}))["node"] is None


async def test_type_used_by_activities_cannot_be_deleted(org: TestOrg) -> None:
    # given
    created = (await org.ok(TYPE_CREATE, {"input": CUSTOM}))["activityTypeCreate"]["activityType"]
    await activity(org, await customer(org), type=created["id"])
    # when
    payload = (await org.ok(TYPE_DELETE, {"id": created["id"]}))["activityTypeDelete"]
    # then
    assert [error["code"] for error in payload["errors"]] == ["CONFLICT"] and "archive" in payload["errors"][0]["message"]


async def test_another_organisations_type_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = (await type_ids(other_org))["meeting"]
    # when
    payload = (await org.ok(TYPE_UPDATE, {"input": {"id": theirs, "colour": "#000000"}}))["activityTypeUpdate"]
    # then
    assert [error["code"] for error in payload["errors"]] == ["NOT_FOUND"]
    assert (await org.ok(NODE, {"id": theirs}))["node"] is None


async def test_admin_creates_a_form_with_typed_fields_and_rules(org: TestOrg) -> None:
    # given
    fields = [
        {"key": "summary", "label": "Summary", "type": "TEXT", "required": True, "minLength": 10, "maxLength": 500, "pattern": ".*"},
        {"key": "amount", "label": "Amount", "type": "NUMBER", "minValue": 0, "maxValue": 100000},
        {"key": "order", "label": "Order?", "type": "BOOLEAN"},
        {"key": "next", "label": "Next", "type": "CHOICE", "choices": ["Quote", "Call"]},
        {"key": "when", "label": "Next visit", "type": "DATE"},
        {"key": "mood", "label": "Satisfaction", "type": "RATING", "required": True},
    ]
    # when
    payload = (await org.ok(FORM_CREATE, {"input": {"name": "Visit report", "fields": fields}}))["reportFormCreate"]
    # then
    assert payload["errors"] == []
    assert [(f["key"], f["type"], f["required"]) for f in payload["form"]["fields"]] == [
        ("summary", "TEXT", True), ("amount", "NUMBER", False), ("order", "BOOLEAN", False),
        ("next", "CHOICE", False), ("when", "DATE", False), ("mood", "RATING", True),
    ]  # fmt: skip
    assert payload["form"]["fields"][0]["minLength"] == 10 and payload["form"]["fields"][3]["choices"] == ["Quote", "Call"]


async def test_form_with_invalid_field_definitions_reports_each_field(org: TestOrg) -> None:
    # given
    fields = [{"key": "n", "label": "N", "type": "NUMBER", "pattern": "x"}, {"key": "c", "label": "C", "type": "CHOICE"}]
    # when
    payload = (await org.ok(FORM_CREATE, {"input": {"name": "Bad", "fields": fields}}))["reportFormCreate"]
    # then
    assert payload["form"] is None
    assert [error["path"] for error in payload["errors"]] == [["input", "fields", "0", "pattern"], ["input", "fields", "1", "choices"]]


async def test_member_cannot_create_a_form(org: TestOrg) -> None:
    # when
    payload = (await org.ok(FORM_CREATE, {"input": {"name": "F", "fields": [TEXT_FIELD]}}, as_="member"))["reportFormCreate"]
    # then
    assert [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]


async def test_form_fields_are_replaced_and_the_form_archived(org: TestOrg) -> None:
    # given
    form_id = await form(org, [TEXT_FIELD])
    # when
    update = {"id": form_id, "fields": [{"key": "mood", "label": "Mood", "type": "RATING"}], "archived": True}
    payload = (await org.ok(FORM_UPDATE, {"input": update}))["reportFormUpdate"]
    # then
    assert payload["form"]["fields"] == [{"key": "mood"}] and payload["form"]["archived"] is True
    assert form_id not in [row["id"] for row in (await org.ok(REPORT_FORMS))["reportForms"]]


async def test_unused_form_is_deleted_with_its_links(org: TestOrg) -> None:
    # given
    form_id = await form(org, [TEXT_FIELD])
    visit = (await type_ids(org))["visit"]
    await link_forms(org, visit, [form_id])
    # when
    payload = (await org.ok(FORM_DELETE, {"id": form_id}))["reportFormDelete"]
    # then
    assert payload == {"deletedId": form_id, "errors": []}
    types = (await org.ok(ACTIVITY_TYPES))["activityTypes"]
    assert next(row for row in types if row["id"] == visit)["forms"] == []


async def test_a_backreference_pattern_is_refused_at_creation(org: TestOrg) -> None:
    # given: a backreference cannot be matched in linear time, so RE2 refuses it
    fields = [TEXT_FIELD, {"key": "code", "label": "Code", "type": "TEXT", "pattern": r"(\w)\1"}]
    # when
    payload = (await org.ok(FORM_CREATE, {"input": {"name": "Codes", "fields": fields}}))["reportFormCreate"]
    # then
    assert payload["form"] is None
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "fields", "1", "pattern"])]
    assert "backreferences" in payload["errors"][0]["message"]


async def test_an_invalid_pattern_is_refused_at_update_and_the_form_is_unchanged(org: TestOrg) -> None:
    # given
    form_id = await form(org, [TEXT_FIELD])
    # when
    update = {"id": form_id, "fields": [{"key": "code", "label": "Code", "type": "TEXT", "pattern": "[A-Z"}]}
    payload = (await org.ok(FORM_UPDATE, {"input": update}))["reportFormUpdate"]
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "fields", "0", "pattern"])]
    forms = (await org.ok(NODE_FIELDS, {"id": form_id}))["node"]
    assert forms["fields"] == [{"key": "summary", "pattern": None}]


async def test_a_lookaround_pattern_is_refused_at_update(org: TestOrg) -> None:
    # given
    form_id = await form(org, [TEXT_FIELD])
    # when
    update = {"id": form_id, "fields": [{**TEXT_FIELD, "pattern": r"(?!x).*"}]}
    payload = (await org.ok(FORM_UPDATE, {"input": update}))["reportFormUpdate"]
    # then
    assert [error["path"] for error in payload["errors"]] == [["input", "fields", "0", "pattern"]]
