"""Demo customers: ``demo.size`` customers (about one in ten a branch of another), with
contacts (one preferred), addresses at real French town centres (one primary), custom
fields and memos.

Rows go in with ORM bulk INSERTs (``session.execute(insert(Model), rows)``): a handful of
statements per table whatever the size. Bulk inserts skip the session's stamping and the
mapper events, so organisation, authors and derived columns are set here explicitly.

Leaves ``demo.shared["customer_ids"]`` (every customer, branches included) and
``demo.shared["preferred_contacts"]`` (customer id -> contact id) and
``demo.shared["coordinates"]`` (customer id -> primary address latitude, longitude) for
later plugins.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.demo import DemoContext
from fiche.text import fold
from fiche.plugins.customers import models
from fiche.plugins.customers.demo_data import FIRST_NAMES, FREE_ROLES, MEMOS, SECTORS, STREETS, SUFFIXES, SURNAMES, TOWNS, TRADES
from fiche.plugins.customers.services.references import format_reference, reserve_numbers

__all__ = ["seed"]

Town = tuple[str, str, float, float]
ROLES = (
    models.ContactRole.BUYER,
    models.ContactRole.OWNER,
    models.ContactRole.MANAGER,
    models.ContactRole.ACCOUNTING,
    models.ContactRole.RECEPTION,
)
FIELDS: tuple[tuple[str, str, models.CustomFieldType, list[str]], ...] = (
    ("signup_date", "Date d'inscription", models.CustomFieldType.DATE, []),
    ("sector", "Secteur", models.CustomFieldType.CHOICE, list(SECTORS)),
    ("employees", "Nombre de salariés", models.CustomFieldType.NUMBER, []),
    ("newsletter", "Newsletter", models.CustomFieldType.BOOLEAN, []),
    ("erp_code", "Code ERP", models.CustomFieldType.TEXT, []),
)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and ch.isascii()).lower()


def _phone(rng: random.Random, mobile: bool = False) -> str:
    prefix = rng.choice(("06", "07")) if mobile else rng.choice(("01", "02", "03", "04", "05", "09"))
    return prefix + "".join(f" {rng.randint(0, 99):02d}" for _ in range(4))


class _Seeder:
    def __init__(self, demo: DemoContext) -> None:
        self.rng = demo.rng
        self.now = utcnow()
        representatives = [user.id for user in demo.users if user.role in (accounts.Role.MANAGER, accounts.Role.MEMBER)]
        self.representatives = representatives or [user.id for user in demo.users]
        author = demo.session.info.get("user_id")
        # What the session stamps on rows it flushes itself.
        self.stamp = {"organization_id": demo.organization.id}
        self.audit = {**self.stamp, "created_by_id": author, "updated_by_id": author}

    def customer(self, reference: str, town: Town, parent: dict[str, Any] | None) -> dict[str, Any]:
        rng = self.rng
        created = self.now - dt.timedelta(days=rng.randint(1, 3 * 365), minutes=rng.randint(0, 1440))
        row: dict[str, Any] = {
            **self.audit,
            "reference": reference,
            "kind": models.CustomerKind.PROFESSIONAL,
            "company_name": None,
            "first_name": None,
            "last_name": None,
            "registration_number": None,
            "parent_id": None,
            "representative_id": rng.choice(self.representatives),
            "phone": _phone(rng),
            "archived": rng.random() < 0.04,
            "created_at": created,
            "updated_at": created + dt.timedelta(days=rng.randint(0, 60)),
        }
        if parent is not None:
            row["company_name"] = f"{parent['company_name']} — {town[0]}"
            row["parent_id"] = parent["id"]
            row["email"] = f"{_ascii(town[0])}@{_ascii(parent['company_name'])[:20]}.fr"
        elif rng.random() < 0.65:
            row["company_name"] = f"{rng.choice(TRADES)} {rng.choice(SURNAMES)}{rng.choice(SUFFIXES)}"
            row["registration_number"] = "".join(str(rng.randint(0, 9)) for _ in range(9))
            row["email"] = f"contact@{_ascii(row['company_name'])[:24]}.fr"
        else:
            row["kind"] = models.CustomerKind.INDIVIDUAL
            row["first_name"], row["last_name"] = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
            row["email"] = f"{_ascii(row['first_name'])}.{_ascii(row['last_name'])}@exemple.fr"
        row.update(models.derived_columns(row["kind"], row["company_name"], row["first_name"], row["last_name"], reference))
        return row

    def contacts(self, customer: dict[str, Any]) -> list[dict[str, Any]]:
        rng = self.rng
        domain = customer["email"].split("@", 1)[1]
        rows = []
        for index in range(rng.randint(1, 3)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
            free = rng.random() < 0.2
            rows.append(
                {
                    **self.audit,
                    "customer_id": customer["id"],
                    "name": f"{first} {last}",
                    "sort_name": fold(f"{first} {last}"),
                    "role_kind": models.ContactRole.OTHER if free else rng.choice(ROLES),
                    "role": rng.choice(FREE_ROLES) if free else None,
                    "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
                    "phone": _phone(rng),
                    "mobile": _phone(rng, mobile=True) if rng.random() < 0.7 else None,
                    "preferred": index == 0,
                    "portal_access": rng.random() < 0.15,
                }
            )
        return rows

    def addresses(self, customer: dict[str, Any], town: Town) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for index in range(rng.randint(1, 2)):
            city, postal_code, latitude, longitude = town if index == 0 else rng.choice(TOWNS)
            main_label = "Siège" if customer["kind"] is models.CustomerKind.PROFESSIONAL else "Domicile"
            rows.append(
                {
                    **self.audit,
                    "customer_id": customer["id"],
                    "label": main_label if index == 0 else rng.choice(("Entrepôt", "Agence", "Chantier")),
                    "line1": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                    "line2": None,
                    "postal_code": postal_code,
                    "city": city,
                    "country": "FR",
                    # Within a few hundred metres of the town centre.
                    "latitude": round(latitude + rng.uniform(-0.01, 0.01), 6),
                    "longitude": round(longitude + rng.uniform(-0.01, 0.01), 6),
                    "is_primary": index == 0,
                }
            )
        return rows

    def values(self, customer: dict[str, Any], fields: dict[str, int]) -> list[dict[str, Any]]:
        rng = self.rng
        blank = {"text_value": None, "number_value": None, "date_value": None, "bool_value": None}

        def value(key: str, column: str, content: Any) -> dict[str, Any]:
            return {**self.stamp, **blank, "customer_id": customer["id"], "field_id": fields[key], column: content}

        rows = [value("signup_date", "date_value", customer["created_at"].date()), value("newsletter", "bool_value", rng.random() < 0.4)]
        if customer["kind"] is models.CustomerKind.PROFESSIONAL:
            rows.append(value("sector", "text_value", rng.choice(SECTORS)))
            rows.append(value("employees", "number_value", float(rng.randint(1, 250))))
            rows.append(value("erp_code", "text_value", f"ERP-{customer['id']:06d}"))
        return rows

    def extras(self, customer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        event = {
            **self.stamp,
            "customer_id": customer["id"],
            "kind": models.EventKind.CREATED,
            "actor_id": customer["created_by_id"],
            "occurred_at": customer["created_at"],
            "details": None,
        }
        memo = {**self.audit, "customer_id": customer["id"], "body": self.rng.choice(MEMOS)} if self.rng.random() < 0.3 else None
        return event, memo


async def _insert(demo: DemoContext, model: type, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        # render_nulls: a None is a NULL, not a missing key, so the rows form one batch.
        await demo.session.execute(insert(model).execution_options(render_nulls=True), list(rows))


async def _ids_by_reference(demo: DemoContext) -> dict[str, int]:
    rows = (await demo.session.execute(select(models.Customer.reference, models.Customer.id))).all()
    return {row.reference: row.id for row in rows}


async def seed(demo: DemoContext) -> None:
    seeder = _Seeder(demo)
    rng, size = demo.rng, max(demo.size, 0)
    await _insert(demo, models.CustomField, [
        {**seeder.audit, "key": key, "label": label, "type": kind, "choices": choices, "required": False, "position": index}
        for index, (key, label, kind, choices) in enumerate(FIELDS)
    ])  # fmt: skip
    fields = {row.key: row.id for row in (await demo.session.execute(select(models.CustomField.key, models.CustomField.id))).all()}
    numbers = iter(await reserve_numbers(demo.session, size)) if size else iter(())
    towns = [rng.choice(TOWNS) for _ in range(size)]
    branch_count = size // 10
    main = [seeder.customer(format_reference(next(numbers)), towns[index], None) for index in range(size - branch_count)]
    await _insert(demo, models.Customer, main)
    ids = await _ids_by_reference(demo)
    for row in main:
        row["id"] = ids[row["reference"]]
    companies = [row for row in main if row["kind"] is models.CustomerKind.PROFESSIONAL] or main
    branches = [
        seeder.customer(format_reference(next(numbers)), towns[len(main) + index], rng.choice(companies) if companies else None)
        for index in range(branch_count)
    ]
    await _insert(demo, models.Customer, branches)
    ids = await _ids_by_reference(demo)
    for row in branches:
        row["id"] = ids[row["reference"]]
    customers = main + branches
    contacts: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    memos: list[dict[str, Any]] = []
    for customer, town in zip(customers, towns, strict=True):
        contacts += seeder.contacts(customer)
        addresses += seeder.addresses(customer, town)
        values += seeder.values(customer, fields)
        event, memo = seeder.extras(customer)
        events.append(event)
        if memo is not None:
            memos.append(memo)
    for model, rows in (
        (models.Contact, contacts),
        (models.Address, addresses),
        (models.CustomValue, values),
        (models.CustomerEvent, events),
        (models.CustomerMemo, memos),
    ):
        await _insert(demo, model, rows)
    preferred = await demo.session.execute(
        select(models.Contact.customer_id, models.Contact.id).where(models.Contact.preferred.is_(True))
    )
    demo.shared["customer_ids"] = [customer["id"] for customer in customers]
    demo.shared["preferred_contacts"] = {row.customer_id: row.id for row in preferred.all()}
    demo.shared["coordinates"] = {
        row["customer_id"]: (row["latitude"], row["longitude"]) for row in addresses if row["is_primary"]
    }
