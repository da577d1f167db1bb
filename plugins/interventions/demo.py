"""Demo interventions: three types, the technicians' weeks (last week's late or done
interventions, this week's, next week's upcoming ones), unscheduled requests, equipment
with generated pictures, a worksite, and maintenance plans whose visits are done, planned
and unplanned.

The field team grows with the demo: one technician per ten customers (at least the demo's
own), so ``--size 500`` gives the 50-technician planning of bench/queries/planning_week.graphql.
Customers are reached through :mod:`fiche.directory` (their primary addresses); without a
customers plugin nothing is seeded.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.directory import customer_locations
from fiche.plugins.interventions import models

if TYPE_CHECKING:
    from fiche.demo import DemoContext

__all__ = ["seed_demo"]

TYPES = (("Maintenance", "#2563EB"), ("Dépannage", "#DC2626"), ("Installation", "#16A34A"))
TITLES = {
    "Maintenance": ("Entretien annuel chaudière", "Contrôle pompe à chaleur", "Nettoyage climatisation", "Vérification VMC"),
    "Dépannage": ("Fuite sous évier", "Panne de chauffage", "Disjoncteur qui saute", "Ballon d'eau chaude froid"),
    "Installation": ("Pose d'un thermostat connecté", "Installation d'un radiateur", "Mise en service PAC", "Remplacement robinetterie"),
}
EQUIPMENT = (
    ("Chaudière gaz", "Viessmann", "Vitodens 200-W"),
    ("Pompe à chaleur", "Daikin", "Altherma 3"),
    ("Climatiseur", "Mitsubishi", "MSZ-LN25"),
    ("Ballon thermodynamique", "Atlantic", "Calypso 200"),
)
WORK = ("Nettoyage du brûleur et contrôle de combustion.", "Remplacement du joint et test d'étanchéité.", "Réglage des paramètres, essais concluants.")
ZONE = zoneinfo.ZoneInfo("Europe/Paris")  # the demo organisation keeps the default time zone


def _picture(colour: tuple[int, int, int], label: str) -> tuple[bytes, bytes]:
    """A small PNG picture of an equipment and its thumbnail."""
    image = Image.new("RGB", (320, 240), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((90, 40, 230, 210), fill=colour, outline=(40, 40, 40), width=4)
    draw.text((100, 215), label[:28], fill=(20, 20, 20))
    picture = io.BytesIO()
    image.save(picture, "PNG")
    image.thumbnail((128, 128))
    thumbnail = io.BytesIO()
    image.save(thumbnail, "JPEG", quality=85)
    return picture.getvalue(), thumbnail.getvalue()


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE).astimezone(dt.UTC)


async def _technicians(demo: DemoContext) -> list[int]:
    technicians = [user for user in demo.users if user.role is accounts.Role.TECHNICIAN]
    team = demo.teams.get("Techniciens")
    for index in range(len(technicians), max(len(technicians), demo.size // 10)):
        handle = f"tech{index + 1:03d}"
        user = accounts.User(name=f"Technicien {index + 1:03d}", handle=handle, email=f"{handle}@{demo.organization.slug}.example", role=accounts.Role.TECHNICIAN)
        demo.session.add(user)
        technicians.append(user)
    await demo.session.flush()
    if team is not None:
        members = {user.id for user in demo.users}
        demo.session.add_all(accounts.TeamMembership(team_id=team.id, user_id=user.id) for user in technicians if user.id not in members)
    return [user.id for user in technicians]


async def seed_demo(demo: DemoContext) -> None:
    customer_ids = list(demo.shared.get("customer_ids", ()))
    if demo.pm is None or not customer_ids:
        return
    locations = await customer_locations(demo.pm, demo.session, customer_ids)
    places = [(pk, location.primary_address_id) for pk, location in locations.items() if location.primary_address_id is not None]
    if not places:
        return
    places.sort()
    rng, session = demo.rng, demo.session
    types = [models.InterventionType(name=name, colour=colour, archived=False) for name, colour in TYPES]
    session.add_all(types)
    technicians = await _technicians(demo)
    await session.flush()
    number = 0
    now = utcnow()
    today = now.astimezone(ZONE).date()
    monday = today - dt.timedelta(days=today.weekday())

    def intervention(customer: int, address: int, kind: models.InterventionType, start: dt.datetime | None, **fields: object) -> models.Intervention:
        nonlocal number
        number += 1
        row = models.Intervention(
            number=number, title=rng.choice(TITLES[kind.name]), type_id=kind.id, customer_id=customer, address_id=address,
            starts_at=start, ends_at=start + dt.timedelta(hours=rng.choice((1, 2))) if start else None,
            archived=False, to_invoice=kind.name != "Maintenance", **fields,
        )  # fmt: skip
        session.add(row)
        return row

    # The technicians' weeks: last week, this week and next week, two appointments a day.
    assigned: list[tuple[models.Intervention, int]] = []
    cursor = 0
    for technician in technicians:
        for week in (-1, 0, 1):
            for weekday in range(5):
                day = monday + dt.timedelta(days=7 * week + weekday)
                for hour in (9, 14):
                    customer, address = places[cursor % len(places)]
                    cursor += 1
                    row = intervention(customer, address, rng.choice(types), _at(day, hour))
                    assigned.append((row, technician))
    # Requests not scheduled yet.
    for customer, address in places[: max(3, len(places) // 10)]:
        intervention(customer, address, types[1], None, description="Le client rappellera pour fixer un rendez-vous.")
    await session.flush()
    session.add_all(models.InterventionTechnician(intervention_id=row.id, user_id=user) for row, user in assigned)
    # Most past appointments are done (a report); the others are late.
    for row, user in assigned:
        if row.ends_at is not None and row.ends_at < now and rng.random() < 0.7:
            _complete(row, user, rng.choice(WORK))
    # Equipment, with pictures, at the first customers.
    equipment: dict[int, list[models.Equipment]] = {}
    for index, (customer, address) in enumerate(places[: min(len(places), 20)]):
        name, brand, model = EQUIPMENT[index % len(EQUIPMENT)]
        item = models.Equipment(
            customer_id=customer, address_id=address, name=name, brand=brand, model=model, reference=f"REF-{index:04d}",
            serial_number=f"SN{rng.randint(100000, 999999)}", installed_on=today - dt.timedelta(days=rng.randint(200, 3000)),
        )  # fmt: skip
        if demo.storage is not None:
            picture, thumbnail = _picture((rng.randint(40, 220), rng.randint(40, 220), rng.randint(40, 220)), f"{brand} {model}")
            item.picture_key, item.picture_type = await demo.storage.save(picture, suffix=".png"), "image/png"
            item.thumbnail_key, item.thumbnail_type = await demo.storage.save(thumbnail, suffix=".jpg"), "image/jpeg"
        session.add(item)
        equipment.setdefault(customer, []).append(item)
    # A worksite at the first customer: started ten days ago, three interventions.
    customer, address = places[0]
    site = models.Worksite(customer_id=customer, address_id=address, name="Rénovation de la chaufferie", starts_on=today - dt.timedelta(days=10),
                           ends_on=today + dt.timedelta(days=20), description="Remplacement de la chaudière et des circuits.")  # fmt: skip
    session.add(site)
    await session.flush()
    for offset in (-8, -1, 6):
        day = today + dt.timedelta(days=offset)
        row = intervention(customer, address, types[2], _at(day, 8), worksite_id=site.id)
        await session.flush()
        session.add(models.InterventionTechnician(intervention_id=row.id, user_id=technicians[0]))
        if offset < 0:
            _complete(row, technicians[0], "Étape du chantier terminée.")
    # Maintenance plans every six months, started 13 months ago: a visit done, one done
    # late, one unplanned last month, the next one planned.
    start = today.replace(day=min(today.day, 28)) - dt.timedelta(days=395)
    for customer, items in list(equipment.items())[:5]:
        address = next(address for pk, address in places if pk == customer)
        plan = models.MaintenancePlan(
            customer_id=customer, address_id=address, type_id=types[0].id, name=f"Contrat d'entretien {items[0].name.lower()}",
            recurrence="FREQ=MONTHLY;INTERVAL=6", starts_on=start, assigned_user_id=technicians[0],
        )  # fmt: skip
        session.add(plan)
        await session.flush()
        session.add_all(models.MaintenancePlanEquipment(plan_id=plan.id, equipment_id=item.id) for item in items)
        for months, done in ((0, True), (6, True), (18, False)):
            occurrence = _add_months(start, months)
            visit = intervention(customer, address, types[0], _at(occurrence, 10), maintenance_plan_id=plan.id, occurrence=occurrence)
            await session.flush()
            session.add(models.InterventionTechnician(intervention_id=visit.id, user_id=technicians[0]))
            session.add_all(models.InterventionEquipment(intervention_id=visit.id, equipment_id=item.id) for item in items if done)
            if done:
                _complete(visit, technicians[0], "Entretien réalisé selon le contrat.")
    await session.flush()


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def _complete(row: models.Intervention, user: int, work: str) -> None:
    assert row.starts_at is not None and row.ends_at is not None
    row.completed_at = row.ends_at + dt.timedelta(minutes=10)
    row.completed_by_id = user
    row.actual_start, row.actual_end = row.starts_at, row.ends_at
    row.work_done = work
