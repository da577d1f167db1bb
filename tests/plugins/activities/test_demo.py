"""Demo data: activities of every type for every demo customer (enough for the canonical
heavy query), valid reports, and GPS checks consistent with the customers' coordinates."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import func, select

from fiche.accounts import models as accounts
from fiche.context import AppState
from fiche.demo import DemoContext, create_demo
from fiche.plugins.activities import models
from fiche.plugins.activities.demo import seed_demo
from fiche.plugins.activities.enums import GpsStatus
from fiche.plugins.activities.services.forms import FieldSpec, validate_values
from fiche.plugins.activities.services.geo import distance_m
from tests.support import TestOrg


async def test_every_demo_customer_gets_at_least_20_activities_of_every_type(state: AppState) -> None:
    # when
    demo = await create_demo(state.settings, state.db, state.pm, size=12, seed=3)
    # then
    async with state.db.reader(demo.organization_id) as session:
        per_location = Counter((await session.scalars(select(models.Activity.location_id))).all())
        codes = set((await session.scalars(
            select(models.ActivityType.code).join(models.Activity, models.Activity.type_id == models.ActivityType.id)
        )).all())  # fmt: skip
    assert len(per_location) >= 12 and min(per_location.values()) >= 20
    assert codes == {"visit", "planned_visit", "inbound_call", "outbound_call", "meeting", "email", "sms", None}


async def test_demo_reports_are_valid_for_their_forms_and_submitted_after_the_start(state: AppState) -> None:
    # when
    demo = await create_demo(state.settings, state.db, state.pm, size=6, seed=4)
    # then
    async with state.db.reader(demo.organization_id) as session:
        fields = (await session.execute(select(models.ReportFormField).order_by(models.ReportFormField.position))).scalars().all()
        reports = (await session.execute(
            select(models.Report.form_id, models.Report.values, models.Report.submitted_at, models.Activity.starts_at)
            .join(models.Activity, models.Activity.id == models.Report.activity_id)
        )).all()  # fmt: skip
    specs: dict[int, list[FieldSpec]] = {}
    for field in fields:
        specs.setdefault(field.form_id, []).append(
            FieldSpec(field.key, field.label, field.type, field.required, field.min_value, field.max_value,
                      field.min_length, field.max_length, field.pattern, tuple(field.choices))  # fmt: skip
        )
    assert len(reports) > 20
    for row in reports:
        assert validate_values(specs[row.form_id], row.values) == row.values
        assert row.submitted_at >= row.starts_at


async def test_demo_gps_checks_match_the_shared_coordinates(org: TestOrg) -> None:
    # given: what the customers plugin leaves for later plugins, with coordinates
    async with org.state.db.session(organization_id=org.organization_id, user_id=org.users["admin"].id) as session:
        async with session.begin():
            organization = await session.get(accounts.Organization, org.organization_id)
            users = list(org.users.values())
            demo = DemoContext(session=session, organization=organization, users=users, teams=org.teams, size=3, rng=random.Random(7))  # type: ignore[arg-type]
            demo.shared.update(customer_ids=[101, 102, 103], preferred_contacts={}, coordinates={101: (45.75, 4.85), 102: (48.85, 2.35), 103: (43.6, 1.44)})
            # when
            await seed_demo(demo)
    # then
    async with org.state.db.reader(org.organization_id) as session:
        checks = (await session.execute(
            select(models.LocationCheck.latitude, models.LocationCheck.longitude, models.LocationCheck.distance_m,
                   models.LocationCheck.status, models.Activity.location_id, models.Activity.gps_status)
            .join(models.Activity, models.Activity.id == models.LocationCheck.activity_id)
        )).all()  # fmt: skip
    coordinates = {101: (45.75, 4.85), 102: (48.85, 2.35), 103: (43.6, 1.44)}
    assert checks and {row.status for row in checks} <= {GpsStatus.VERIFIED, GpsStatus.OUT_OF_RANGE}
    for row in checks:
        assert abs(distance_m(row.latitude, row.longitude, *coordinates[row.location_id]) - row.distance_m) < 0.1
        assert (row.distance_m <= 200) == (row.status is GpsStatus.VERIFIED) and row.gps_status is row.status


async def test_demo_without_customers_adds_only_the_catalogue(org: TestOrg) -> None:
    # given
    async with org.state.db.session(organization_id=org.organization_id, user_id=org.users["admin"].id) as session:
        async with session.begin():
            organization = await session.get(accounts.Organization, org.organization_id)
            demo = DemoContext(session=session, organization=organization, users=list(org.users.values()), teams=org.teams, size=3, rng=random.Random(1))  # type: ignore[arg-type]
            # when
            await seed_demo(demo)
    # then
    async with org.state.db.reader(org.organization_id) as session:
        activities = await session.scalar(select(func.count()).select_from(models.Activity))
        types = await session.scalar(select(func.count()).select_from(models.ActivityType))
    assert (activities, types) == (0, 8)  # seven built-in types and a custom one
