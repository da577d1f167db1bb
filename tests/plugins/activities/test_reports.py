"""Reports (A4): only on activities whose type has forms and that have started, several per
activity, refused after the organisation's time limit, field-level errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from fiche.plugins.activities import models
from tests.plugins.activities.fixtures import activity, ago, customer, form, link_forms, set_setting, type_ids
from tests.support import TestOrg

REPORT_SUBMIT = """
mutation ($input: ReportSubmitInput!) {
  reportSubmit(input: $input) {
    report { id values submittedAt form { name } submittedBy { name } activity { id } }
    activity { id hasReports reports { id } }
    errors { code message path }
  }
}
"""
FIELDS = [
    {"key": "summary", "label": "Summary", "type": "TEXT", "required": True, "minLength": 5},
    {"key": "amount", "label": "Amount", "type": "NUMBER", "minValue": 0},
    {"key": "next", "label": "Next step", "type": "CHOICE", "choices": ["Quote", "Call"], "required": True},
    {"key": "when", "label": "Next visit", "type": "DATE"},
    {"key": "mood", "label": "Satisfaction", "type": "RATING", "required": True},
    {"key": "order", "label": "Order", "type": "BOOLEAN"},
]
GOOD = {"summary": "Met the buyer", "amount": 1200, "next": "Quote", "when": "2026-12-01", "mood": 4, "order": True}
LIMIT = "activities.report_time_limit_hours"


async def visit_with_form(org: TestOrg, *, started_hours_ago: float = 2, lasted_hours: float = 1, as_: str = "admin") -> tuple[str, str]:
    """An activity of type Visit (which has a report form) and the form's ID."""
    form_id = await form(org, FIELDS, name="Visit report")
    await link_forms(org, (await type_ids(org))["visit"], [form_id])
    start = ago(hours=started_hours_ago)
    created = await activity(org, await customer(org), starts_at=start, ends_at=start + dt.timedelta(hours=lasted_hours), as_=as_)
    return created["id"], form_id


async def submit(org: TestOrg, activity_id: str, form_id: str, values: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    data = await org.ok(REPORT_SUBMIT, {"input": {"activityId": activity_id, "formId": form_id, "values": values}}, as_=as_)
    return dict(data["reportSubmit"])


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(error["code"], error["path"]) for error in payload["errors"]]


async def test_report_is_accepted_on_a_started_activity(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org, as_="member")
    # when
    payload = await submit(org, activity_id, form_id, GOOD, as_="member")
    # then
    assert payload["errors"] == []
    assert payload["report"]["values"] == {"summary": "Met the buyer", "amount": 1200, "next": "Quote", "when": "2026-12-01", "mood": 4, "order": True}
    assert (payload["report"]["form"]["name"], payload["report"]["submittedBy"]["name"], payload["report"]["activity"]["id"]) == (
        "Visit report", "Member Test", activity_id,
    )  # fmt: skip
    assert payload["activity"]["hasReports"] is True


async def test_several_reports_per_activity(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org)
    first = await submit(org, activity_id, form_id, GOOD)
    # when
    second = await submit(org, activity_id, form_id, {**GOOD, "mood": 2})
    # then
    assert [report["id"] for report in second["activity"]["reports"]] == [first["report"]["id"], second["report"]["id"]]


async def test_report_before_the_start_is_refused(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org, started_hours_ago=-2)
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert payload["report"] is None and errors(payload) == [("CONFLICT", ["input", "activityId"])]
    assert "not started" in payload["errors"][0]["message"]


async def test_report_after_the_default_time_limit_is_refused(org: TestOrg) -> None:
    # given: ended 73 hours ago, the default limit is 72 hours after the end
    activity_id, form_id = await visit_with_form(org, started_hours_ago=74, lasted_hours=1)
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert errors(payload) == [("CONFLICT", ["input", "activityId"])]
    assert "72 hours after the end" in payload["errors"][0]["message"]


async def test_report_inside_the_time_limit_is_accepted(org: TestOrg) -> None:
    # given: ended 71 hours ago
    activity_id, form_id = await visit_with_form(org, started_hours_ago=72, lasted_hours=1)
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert payload["errors"] == []


async def test_the_organisation_sets_its_own_time_limit(org: TestOrg) -> None:
    # given: ended 3 hours ago, the organisation allows 2 hours
    await set_setting(org, LIMIT, 2)
    activity_id, form_id = await visit_with_form(org, started_hours_ago=4, lasted_hours=1)
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert errors(payload) == [("CONFLICT", ["input", "activityId"])] and "2 hours" in payload["errors"][0]["message"]


async def test_a_zero_time_limit_accepts_old_activities(org: TestOrg) -> None:
    # given
    await set_setting(org, LIMIT, 0)
    activity_id, form_id = await visit_with_form(org, started_hours_ago=24 * 60)
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert payload["errors"] == []


async def test_missing_required_fields_are_reported_field_by_field(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org)
    # when
    payload = await submit(org, activity_id, form_id, {"amount": 5})
    # then
    assert errors(payload) == [
        ("INVALID", ["input", "values", "summary"]),
        ("INVALID", ["input", "values", "next"]),
        ("INVALID", ["input", "values", "mood"]),
    ]


async def test_invalid_values_are_reported_field_by_field(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org)
    values = {**GOOD, "summary": "ok", "amount": -3, "next": "Dinner", "when": "tomorrow", "mood": 9, "order": "yes"}
    # when
    payload = await submit(org, activity_id, form_id, values)
    # then
    assert [error["path"][-1] for error in payload["errors"]] == ["summary", "amount", "next", "when", "mood", "order"]
    assert {error["code"] for error in payload["errors"]} == {"INVALID"} and payload["report"] is None


async def test_a_refused_report_writes_nothing(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org)
    await submit(org, activity_id, form_id, {"mood": 0})
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert len(payload["activity"]["reports"]) == 1


async def test_a_type_without_forms_takes_no_reports(org: TestOrg) -> None:
    # given
    form_id = await form(org, FIELDS)
    created = await activity(org, await customer(org), type="inbound_call", starts_at=ago(hours=1))
    # when
    payload = await submit(org, created["id"], form_id, GOOD)
    # then
    assert errors(payload) == [("CONFLICT", ["input", "activityId"])] and "no report forms" in payload["errors"][0]["message"]


async def test_a_form_not_linked_to_the_type_is_refused(org: TestOrg) -> None:
    # given
    activity_id, _ = await visit_with_form(org)
    other_form = await form(org, FIELDS, name="Other")
    # when
    payload = await submit(org, activity_id, other_form, GOOD)
    # then
    assert errors(payload) == [("INVALID", ["input", "formId"])]


async def test_an_archived_form_takes_no_new_reports(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org)
    await org.ok("mutation ($id: ID!) { reportFormUpdate(input: {id: $id, archived: true}) { errors { code } } }", {"id": form_id})
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert errors(payload) == [("INVALID", ["input", "formId"])]


async def test_a_colleague_cannot_report_on_someone_elses_activity(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(org, as_="member")
    # when
    payload = await submit(org, activity_id, form_id, GOOD, as_="member2")
    # then
    assert [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]


async def test_report_of_another_organisations_activity_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_form(other_org)
    # when
    payload = await submit(org, activity_id, form_id, GOOD)
    # then
    assert errors(payload) == [("NOT_FOUND", ["input", "activityId"])]


CODE_FIELD = {"key": "code", "label": "Code", "type": "TEXT", "required": True, "pattern": "(a+)+b"}


async def visit_with_code_form(org: TestOrg) -> tuple[str, str]:
    """A started visit whose type's form has one TEXT field of pattern ``(a+)+b``."""
    form_id = await form(org, [CODE_FIELD], name="Code report")
    await link_forms(org, (await type_ids(org))["visit"], [form_id])
    created = await activity(org, await customer(org), starts_at=ago(hours=1), ends_at=ago(minutes=30))
    return created["id"], form_id


async def test_a_catastrophic_pattern_refuses_a_long_answer_on_its_field(org: TestOrg) -> None:
    # given: (a+)+b makes a backtracking engine run for ages on "aaaa…a" (no final b)
    activity_id, form_id = await visit_with_code_form(org)
    # when
    payload = await submit(org, activity_id, form_id, {"code": "a" * 10_000})
    # then
    assert errors(payload) == [("INVALID", ["input", "values", "code"])] and payload["report"] is None
    assert "expected format" in payload["errors"][0]["message"]


async def test_a_catastrophic_pattern_accepts_a_long_matching_answer(org: TestOrg) -> None:
    # given
    activity_id, form_id = await visit_with_code_form(org)
    # when
    payload = await submit(org, activity_id, form_id, {"code": "a" * 9_999 + "b"})
    # then
    assert payload["errors"] == [] and payload["report"]["values"] == {"code": "a" * 9_999 + "b"}


async def test_a_stored_pattern_re2_cannot_run_refuses_the_answer_instead_of_failing(org: TestOrg) -> None:
    # given: a form saved before patterns were checked by RE2, with a backreference
    activity_id, form_id = await visit_with_code_form(org)
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(update(models.ReportFormField).values(pattern=r"(a)\1"))
    # when
    payload = await submit(org, activity_id, form_id, {"code": "aa"})
    # then
    assert errors(payload) == [("INVALID", ["input", "values", "code"])]
    assert "an admin must change it" in payload["errors"][0]["message"]
