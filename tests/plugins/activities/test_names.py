"""Activity type names and report form names (A1, A4) are unique in an organisation
whatever their case, also when many admins write them at once: one winner, typed CONFLICTs
on ``name`` for the others, never a server error."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from fiche.plugins.activities import models
from tests.support import GraphQLResult, TestOrg

WRITERS = 12
SPELLINGS = ["Revue trimestrielle", "REVUE TRIMESTRIELLE", "revue trimestrielle", "Revue Trimestrielle"] * (WRITERS // 4)

TYPE_CREATE = """
mutation ($input: ActivityTypeCreateInput!) {
  activityTypeCreate(input: $input) { activityType { id name } errors { code message path } }
}
"""
TYPE_RENAME = """
mutation ($id: ID!, $name: String!) {
  activityTypeUpdate(input: {id: $id, name: $name}) { activityType { name } errors { code path } }
}
"""
FORM_CREATE = """
mutation ($input: ReportFormCreateInput!) {
  reportFormCreate(input: $input) { form { id name } errors { code message path } }
}
"""
FORM_RENAME = """
mutation ($id: ID!, $name: String!) {
  reportFormUpdate(input: {id: $id, name: $name}) { form { name } errors { code path } }
}
"""


def _type(name: str) -> dict[str, Any]:
    return {"input": {"name": name, "icon": "chart", "colour": "#AD1457"}}


def _form(name: str) -> dict[str, Any]:
    return {"input": {"name": name, "fields": [{"key": "summary", "label": "Summary", "type": "TEXT"}]}}


def _outcomes(results: list[GraphQLResult], field: str) -> tuple[int, list[tuple[str, list[str]]]]:
    """(successes, ``(code, path)`` of every error); fails on any top-level error."""
    assert all(result.errors == [] for result in results), [result.errors for result in results]
    payloads = [result.data[field] for result in results]
    winners = sum(1 for payload in payloads if payload["errors"] == [])
    return winners, [(error["code"], error["path"]) for payload in payloads for error in payload["errors"]]


async def _named(org: TestOrg, model: Any, name: str) -> int:
    async with org.state.db.reader(org.organization_id) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(func.lower(model.name) == name.lower())) or 0)


async def test_concurrent_type_creations_with_one_name_have_one_winner(org: TestOrg) -> None:
    # when
    results = await asyncio.gather(*(org.gql(TYPE_CREATE, _type(name)) for name in SPELLINGS))
    # then
    assert _outcomes(list(results), "activityTypeCreate") == (1, [("CONFLICT", ["input", "name"])] * (WRITERS - 1))
    assert await _named(org, models.ActivityType, "revue trimestrielle") == 1


async def test_concurrent_type_renames_to_one_name_have_one_winner(org: TestOrg) -> None:
    # given
    created = [(await org.ok(TYPE_CREATE, _type(f"Type {index}")))["activityTypeCreate"]["activityType"] for index in range(WRITERS)]
    # when
    results = await asyncio.gather(*(org.gql(TYPE_RENAME, {"id": row["id"], "name": name}) for row, name in zip(created, SPELLINGS, strict=True)))
    # then
    assert _outcomes(list(results), "activityTypeUpdate") == (1, [("CONFLICT", ["input", "name"])] * (WRITERS - 1))


async def test_a_form_name_differing_only_by_case_is_taken(org: TestOrg) -> None:
    # given
    await org.ok(FORM_CREATE, _form("Visite de chantier"))
    # when
    data = await org.ok(FORM_CREATE, _form("VISITE DE CHANTIER"))
    # then
    assert data["reportFormCreate"]["form"] is None
    assert [(error["code"], error["path"]) for error in data["reportFormCreate"]["errors"]] == [("CONFLICT", ["input", "name"])]


async def test_a_form_keeps_its_own_name_when_renamed_in_another_case(org: TestOrg) -> None:
    # given
    form = (await org.ok(FORM_CREATE, _form("Visite")))["reportFormCreate"]["form"]
    # when
    data = await org.ok(FORM_RENAME, {"id": form["id"], "name": "VISITE"})
    # then
    assert data["reportFormUpdate"] == {"form": {"name": "VISITE"}, "errors": []}


async def test_concurrent_form_creations_with_one_name_have_one_winner(org: TestOrg) -> None:
    # when
    results = await asyncio.gather(*(org.gql(FORM_CREATE, _form(name)) for name in SPELLINGS))
    # then
    assert _outcomes(list(results), "reportFormCreate") == (1, [("CONFLICT", ["input", "name"])] * (WRITERS - 1))
    assert await _named(org, models.ReportForm, "revue trimestrielle") == 1


async def test_concurrent_form_renames_to_one_name_have_one_winner(org: TestOrg) -> None:
    # given
    created = [(await org.ok(FORM_CREATE, _form(f"Form {index}")))["reportFormCreate"]["form"] for index in range(WRITERS)]
    # when
    results = await asyncio.gather(*(org.gql(FORM_RENAME, {"id": row["id"], "name": name}) for row, name in zip(created, SPELLINGS, strict=True)))
    # then
    assert _outcomes(list(results), "reportFormUpdate") == (1, [("CONFLICT", ["input", "name"])] * (WRITERS - 1))
