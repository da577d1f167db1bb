"""Worksites (I4): per customer, with a status derived from dates and completion
(PLANNED / IN_PROGRESS / DONE) that ``Customer.worksites(filter: {statuses})`` filters in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.plugins.interventions.fixtures import INTERVENTION_CREATE, address, customer, intervention_type
from tests.support import TestOrg

CREATE = """
mutation ($input: WorksiteCreateInput!) {
  worksiteCreate(input: $input) { worksite { id name status startsOn endsOn customer { id } address { id } } errors { code message path } }
}
"""
UPDATE = "mutation ($input: WorksiteUpdateInput!) { worksiteUpdate(input: $input) { worksite { id status endsOn } errors { code path } } }"
DELETE = "mutation ($id: ID!) { worksiteDelete(id: $id) { deletedId errors { code } } }"
LIST = """
query ($id: ID!, $statuses: [WorksiteStatus!]) { node(id: $id) { ... on Customer {
  worksites(filter: {statuses: $statuses}, first: 10) { edges { node { name status interventions(first: 5) { edges { node { title worksite { name } } } } } } }
} } }
"""
COMPLETE = "mutation ($input: InterventionCompleteInput!) { interventionComplete(input: $input) { errors { code } } }"


async def worksite(org: TestOrg, values: dict[str, Any], as_: str = "manager") -> dict[str, Any]:
    return dict((await org.ok(CREATE, {"input": values}, as_=as_))["worksiteCreate"])


async def test_statuses_follow_dates_and_completion(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    today = dt.date.today()
    planned = await worksite(org, {"customerId": client, "name": "Extension", "startsOn": str(today + dt.timedelta(days=30))})
    running = await worksite(org, {"customerId": client, "addressId": place, "name": "Rénovation", "startsOn": str(today - dt.timedelta(days=5)),
                                   "endsOn": str(today + dt.timedelta(days=5))})  # fmt: skip
    overdue = await worksite(org, {"customerId": client, "name": "Toiture", "startsOn": str(today - dt.timedelta(days=60)), "endsOn": str(today - dt.timedelta(days=30))})
    finished = await worksite(org, {"customerId": client, "name": "Façade", "startsOn": str(today - dt.timedelta(days=90)), "endsOn": str(today - dt.timedelta(days=60))})
    late_work = (await org.ok(INTERVENTION_CREATE, {"input": {"title": "Zinguerie", "typeId": kind, "customerId": client, "addressId": place,
                                                              "worksiteId": overdue["worksite"]["id"]}}, as_="manager"))["interventionCreate"]  # fmt: skip
    done_work = (await org.ok(INTERVENTION_CREATE, {"input": {"title": "Ravalement", "typeId": kind, "customerId": client, "addressId": place,
                                                              "worksiteId": finished["worksite"]["id"]}}, as_="manager"))["interventionCreate"]  # fmt: skip
    assert late_work["errors"] == [] and done_work["errors"] == []
    assert (await org.ok(COMPLETE, {"input": {"id": done_work["intervention"]["id"]}}))["interventionComplete"]["errors"] == []
    # when
    everything = await org.ok(LIST, {"id": client, "statuses": None})
    in_progress = await org.ok(LIST, {"id": client, "statuses": ["IN_PROGRESS"]})
    # then
    statuses = {edge["node"]["name"]: edge["node"]["status"] for edge in everything["node"]["worksites"]["edges"]}
    assert statuses == {"Extension": "PLANNED", "Rénovation": "IN_PROGRESS", "Toiture": "IN_PROGRESS", "Façade": "DONE"}
    assert [edge["node"]["name"] for edge in in_progress["node"]["worksites"]["edges"]] == ["Rénovation", "Toiture"]
    roof = next(edge["node"] for edge in everything["node"]["worksites"]["edges"] if edge["node"]["name"] == "Toiture")
    assert roof["interventions"]["edges"] == [{"node": {"title": "Zinguerie", "worksite": {"name": "Toiture"}}}]
    assert (planned["worksite"]["status"], running["worksite"]["address"]["id"]) == ("PLANNED", place)


async def test_bad_inputs_roles_and_isolation(org: TestOrg, other_org: TestOrg) -> None:
    # given
    client, other = await customer(org), await customer(org, "Autre")
    kind = await intervention_type(org)
    theirs = (await worksite(org, {"customerId": other, "name": "Chez l'autre", "startsOn": "2030-01-01"}))["worksite"]["id"]
    # when
    backwards = await worksite(org, {"customerId": client, "name": "X", "startsOn": "2030-02-01", "endsOn": "2030-01-01"})
    member = await worksite(org, {"customerId": client, "name": "X", "startsOn": "2030-02-01"}, as_="member")
    wrong = (await org.ok(INTERVENTION_CREATE, {"input": {"title": "T", "typeId": kind, "customerId": client, "addressId": await address(org, client),
                                                          "worksiteId": theirs}}, as_="manager"))["interventionCreate"]  # fmt: skip
    foreign = (await other_org.ok(UPDATE, {"input": {"id": theirs, "name": "Hijack"}}))["worksiteUpdate"]
    # then
    assert [(error["code"], error["path"]) for error in backwards["errors"]] == [("INVALID", ["input", "endsOn"])]
    assert [error["code"] for error in member["errors"]] == ["FORBIDDEN"]
    assert [(error["code"], error["path"]) for error in wrong["errors"]] == [("INVALID", ["input", "worksiteId"])]
    assert [error["code"] for error in foreign["errors"]] == ["NOT_FOUND"]
    assert (await other_org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": theirs}))["node"] is None


async def test_deleting_a_worksite_keeps_its_interventions(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    site = (await worksite(org, {"customerId": client, "name": "Chantier", "startsOn": "2030-01-01"}))["worksite"]["id"]
    created = (await org.ok(INTERVENTION_CREATE, {"input": {"title": "T", "typeId": kind, "customerId": client, "addressId": await address(org, client),
                                                            "worksiteId": site}}, as_="manager"))["interventionCreate"]["intervention"]  # fmt: skip
    # when
    deleted = (await org.ok(DELETE, {"id": site}, as_="manager"))["worksiteDelete"]
    # then
    assert deleted == {"deletedId": site, "errors": []}
    node = await org.ok("query ($id: ID!) { node(id: $id) { ... on Intervention { number worksite { id } } } }", {"id": created["id"]})
    assert node["node"] == {"number": created["number"], "worksite": None}
