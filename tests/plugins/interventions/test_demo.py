"""Demo data: a technician's week (late, today's and upcoming interventions), unscheduled
requests, equipment with real pictures, a worksite, and maintenance plans with done,
planned and unplanned visits; one technician per ten customers."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import strawberry
from sqlalchemy import func, select

from fiche.accounts import models as accounts
from fiche.context import AppState
from fiche.demo import create_demo
from fiche.images import check_image
from fiche.files import AcceptedFile
from fiche.plugins.interventions import models
from fiche.relay import encode_id
from tests.support import TestOrg

PLANNING = "query ($filter: InterventionFilter) { interventions(filter: $filter, first: 100) { edges { node { status } } } }"
VISITS = """
query ($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on Customer {
  maintenanceVisits(filter: {from: $from, to: $to}) { status } } } }
"""


async def test_the_demo_has_every_status_pictures_a_worksite_and_maintenance_visits(state: AppState, schema: strawberry.Schema) -> None:
    # when
    demo = await create_demo(state.settings, state.db, state.pm, size=12, seed=5)
    # then
    async with state.db.reader(demo.organization_id) as session:
        technician = await session.scalar(select(accounts.User).where(accounts.User.handle == "thomas"))
        pictures = (await session.execute(select(models.Equipment.picture_key, models.Equipment.picture_type))).all()
        worksites = await session.scalar(select(func.count()).select_from(models.Worksite))
        plan_customer = await session.scalar(select(models.MaintenancePlan.customer_id).limit(1))
    assert technician is not None and worksites == 1 and pictures
    picture = await state.storage.read(pictures[0].picture_key)
    assert (await check_image(AcceptedFile(picture, "p.png", "image/png"))).file.content_type == "image/png"
    schema_org = TestOrg(state=state, schema=schema, organization_id=demo.organization_id, users={"thomas": technician}, teams={})
    planning = await schema_org.gql(PLANNING, {"filter": {"archived": None}}, as_="thomas")
    assert not planning.errors
    statuses = Counter(edge["node"]["status"] for edge in planning.data["interventions"]["edges"])
    assert {"LATE", "DONE", "UPCOMING"} <= set(statuses)
    today = dt.date.today()
    visits = await schema_org.gql(VISITS, {"id": encode_id("Customer", plan_customer), "from": str(today - dt.timedelta(days=500)), "to": str(today + dt.timedelta(days=400))}, as_="thomas")
    assert not visits.errors
    assert {visit["status"] for visit in visits.data["node"]["maintenanceVisits"]} == {"DONE", "PLANNED", "UNPLANNED"}


async def test_the_field_team_grows_with_the_demo(state: AppState) -> None:
    # when: one technician per ten customers (500 customers: 50 technicians)
    demo = await create_demo(state.settings, state.db, state.pm, size=40, seed=6)
    # then
    async with state.db.reader(demo.organization_id) as session:
        technicians = await session.scalar(select(func.count()).select_from(accounts.User).where(accounts.User.role == accounts.Role.TECHNICIAN))
        per_technician = Counter((await session.scalars(select(models.InterventionTechnician.user_id))).all())
    assert technicians == 4 and len(per_technician) == 4 and min(per_technician.values()) >= 30
