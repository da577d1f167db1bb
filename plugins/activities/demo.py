"""Demo activities: the built-in types plus a custom one, two report forms, and 20 to 24
activities of every type per demo customer (past and planned), with reports on about
half of the past ones and GPS checks on past visits. Rows go in with bulk inserts.

Reads ``demo.shared["customer_ids"]`` and ``demo.shared["preferred_contacts"]`` (left by
the customers plugin); GPS checks need ``demo.shared["coordinates"]`` (customer id ->
``(latitude, longitude)`` of the primary address) and are skipped without it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.plugins.activities import models
from fiche.plugins.activities.enums import FieldType, GpsStatus
from fiche.plugins.activities.services.builtins import ensure_builtin_types
from fiche.plugins.activities.services.geo import distance_m, status_for
from fiche.plugins.activities.services.settings import GPS_RADIUS, SETTINGS

if TYPE_CHECKING:
    from fiche.demo import DemoContext

__all__ = ["seed_demo"]

VISIT_FORM: tuple[tuple[str, str, FieldType, bool, dict[str, Any]], ...] = (
    ("summary", "Résumé de la visite", FieldType.TEXT, True, {"min_length": 10, "max_length": 2000}),
    ("satisfaction", "Satisfaction du client", FieldType.RATING, True, {}),
    ("order_expected", "Commande attendue", FieldType.BOOLEAN, False, {}),
    ("order_amount", "Montant estimé (€)", FieldType.NUMBER, False, {"min_value": 0.0}),
    ("next_step", "Prochaine étape", FieldType.CHOICE, True, {"choices": ["Devis", "Relance", "Démonstration", "Aucune"]}),
    ("next_visit", "Prochaine visite", FieldType.DATE, False, {}),
)
CALL_FORM: tuple[tuple[str, str, FieldType, bool, dict[str, Any]], ...] = (
    ("subject", "Objet de l'appel", FieldType.TEXT, True, {"max_length": 500}),
    ("outcome", "Issue", FieldType.CHOICE, True, {"choices": ["Intéressé", "À rappeler", "Pas intéressé"]}),
    ("callback", "Date de rappel", FieldType.DATE, False, {}),
)
SUMMARIES = (
    "Présentation de la nouvelle gamme, bon accueil de l'acheteur.",
    "Point sur les livraisons en retard ; le client attend un geste commercial.",
    "Visite de courtoisie, stock vérifié avec le responsable.",
    "Négociation des tarifs pour l'année prochaine.",
    "Démonstration du produit à l'équipe technique.",
)
DESCRIPTIONS = (
    "<p>Rendez-vous avec le <strong>responsable achats</strong>.</p>",
    "<p>Apporter le catalogue et les échantillons.</p><ul><li>tarifs</li><li>délais</li></ul>",
    "<p>Relance sur la commande en attente.</p>",
    None,
    "<p>Point trimestriel : chiffre d'affaires et objectifs.</p>",
)
SUBJECTS = ("Question sur une facture", "Demande de devis", "Suivi de livraison", "Réclamation produit")


def _field_rows(organization_id: int, form_id: int, spec: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [
        {
            "organization_id": organization_id, "form_id": form_id, "position": index, "key": key, "label": label,
            "type": kind, "required": required, "min_value": rules.get("min_value"), "max_value": rules.get("max_value"),
            "min_length": rules.get("min_length"), "max_length": rules.get("max_length"), "pattern": None,
            "choices": rules.get("choices", []),
        }
        for index, (key, label, kind, required, rules) in enumerate(spec)
    ]  # fmt: skip


def _visit_values(rng: random.Random, when: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "summary": rng.choice(SUMMARIES),
        "satisfaction": rng.randint(2, 5),
        "order_expected": rng.random() < 0.5,
        "next_step": rng.choice(["Devis", "Relance", "Démonstration", "Aucune"]),
    }
    if values["order_expected"]:
        values["order_amount"] = float(rng.randrange(200, 20000, 50))
    if rng.random() < 0.5:
        values["next_visit"] = (when + dt.timedelta(days=rng.randint(14, 60))).date().isoformat()
    return values


def _call_values(rng: random.Random, when: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"subject": rng.choice(SUBJECTS), "outcome": rng.choice(["Intéressé", "À rappeler", "Pas intéressé"])}
    if values["outcome"] == "À rappeler":
        values["callback"] = (when + dt.timedelta(days=rng.randint(1, 14))).date().isoformat()
    return values


def _nearby(rng: random.Random, latitude: float, longitude: float, metres: float) -> tuple[float, float]:
    """A point about ``metres`` away in a random direction."""
    bearing = rng.uniform(0, 2 * math.pi)
    d_lat = metres * math.cos(bearing) / 111_320
    d_lon = metres * math.sin(bearing) / (111_320 * max(0.1, math.cos(math.radians(latitude))))
    return latitude + d_lat, longitude + d_lon


async def seed_demo(demo: DemoContext) -> None:
    session, rng, now = demo.session, demo.rng, utcnow()
    organization_id = demo.organization.id
    customer_ids: list[int] = list(demo.shared.get("customer_ids", []))
    preferred: dict[int, int] = dict(demo.shared.get("preferred_contacts", {}))
    coordinates: dict[int, tuple[float, float]] = dict(demo.shared.get("coordinates", {}))
    await ensure_builtin_types(session, present=())
    creator = demo.users[0].id
    stamp = {"organization_id": organization_id, "created_by_id": creator, "updated_by_id": creator, "created_at": now, "updated_at": now}

    custom = models.ActivityType(name="Revue trimestrielle", description="Bilan trimestriel avec le client.", icon="chart", colour="#AD1457", position=10)
    visit_form = models.ReportForm(name="Compte rendu de visite", description="Après chaque visite ou réunion.")
    call_form = models.ReportForm(name="Compte rendu d'appel", description="Après un appel important.")
    session.add_all([custom, visit_form, call_form])
    await session.flush()
    await session.execute(insert(models.ReportFormField), _field_rows(organization_id, visit_form.id, VISIT_FORM) + _field_rows(organization_id, call_form.id, CALL_FORM))
    types = {code: type_id for type_id, code in (await session.execute(select(models.ActivityType.id, models.ActivityType.code))).all()}
    types["quarterly_review"] = custom.id
    forms_of = {
        "visit": visit_form.id, "planned_visit": visit_form.id, "meeting": visit_form.id, "quarterly_review": visit_form.id,
        "inbound_call": call_form.id, "outbound_call": call_form.id,
    }  # fmt: skip
    session.add_all(models.ActivityTypeForm(type_id=types[code], form_id=form_id, position=0) for code, form_id in forms_of.items())

    memberships = {row.user_id: row.team_id for row in await session.execute(select(accounts.TeamMembership.user_id, accounts.TeamMembership.team_id))}
    field_users = [user for user in demo.users if user.role is not accounts.Role.ADMIN] or list(demo.users)
    codes = [*forms_of, "email", "sms"]  # e-mails and text messages take no report form
    rows: list[dict[str, Any]] = []
    for customer_id in customer_ids:
        for index in range(rng.randint(20, 24)):
            code = codes[index % len(codes)] if index < len(codes) else rng.choice(codes)
            planned = code == "planned_visit" and rng.random() < 0.6
            starts = now + dt.timedelta(days=rng.randint(1, 30), hours=rng.randint(8, 17)) if planned else now - dt.timedelta(days=rng.randint(0, 180), minutes=rng.randint(60, 600))
            starts = starts.replace(second=0, microsecond=0)
            assignee = rng.choice(field_users)
            rows.append({
                **stamp, "type_id": types[code], "location_id": customer_id, "starts_at": starts,
                "ends_at": starts + dt.timedelta(minutes=rng.choice((15, 30, 45, 60, 90))),
                "description": rng.choice(DESCRIPTIONS), "assignee_id": assignee.id, "team_id": memberships.get(assignee.id),
                "contact_id": preferred.get(customer_id), "gps_status": GpsStatus.NOT_VERIFIED,
            })  # fmt: skip
    if not rows:
        return
    ids = (await session.scalars(insert(models.Activity).returning(models.Activity.id, sort_by_parameter_order=True), rows)).all()
    # Every type seeded here has a code (only custom types have none).
    code_of: dict[int, str] = {type_id: code for code, type_id in types.items() if code is not None}
    reports: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    radius = next(spec.default for spec in SETTINGS if spec.key == GPS_RADIUS)  # a new organisation's value
    for activity_id, row in zip(ids, rows, strict=True):
        code = code_of[row["type_id"]]
        if row["ends_at"] > now:
            continue
        if code in forms_of and rng.random() < 0.5:
            submitted = min(now, row["ends_at"] + dt.timedelta(hours=rng.randint(0, 48)))
            values = _call_values(rng, row["starts_at"]) if code.endswith("_call") else _visit_values(rng, row["starts_at"])
            reports.append({**stamp, "activity_id": activity_id, "form_id": forms_of[code], "values": values, "submitted_at": submitted, "created_at": submitted, "updated_at": submitted})
        location = coordinates.get(row["location_id"])
        if code in ("visit", "planned_visit", "quarterly_review") and location is not None and rng.random() < 0.7:
            latitude, longitude = _nearby(rng, *location, rng.uniform(5, 120) if rng.random() < 0.8 else rng.uniform(800, 5000))
            distance = distance_m(latitude, longitude, *location)
            status = status_for(distance, radius)
            checks.append({
                "organization_id": organization_id, "activity_id": activity_id, "user_id": row["assignee_id"],
                "latitude": latitude, "longitude": longitude, "accuracy_m": float(rng.randint(5, 40)),
                "distance_m": round(distance, 1), "status": status, "checked_at": row["starts_at"] + dt.timedelta(minutes=5),
            })  # fmt: skip
    if reports:
        await session.execute(insert(models.Report), reports)
    if checks:
        await session.execute(insert(models.LocationCheck), checks)
        statuses = {check["activity_id"]: check["status"] for check in checks}
        for status in (GpsStatus.VERIFIED, GpsStatus.OUT_OF_RANGE):
            chosen = [activity_id for activity_id, value in statuses.items() if value is status]
            if chosen:
                await session.execute(
                    update(models.Activity).where(models.Activity.id.in_(chosen)).values(gps_status=status).execution_options(synchronize_session=False)
                )
