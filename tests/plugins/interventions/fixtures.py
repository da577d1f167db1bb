"""Helpers of the interventions tests: customers and addresses through the customers
plugin's API, interventions, types and equipment through this plugin's."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image

from fiche.relay import encode_id
from tests.support import TestOrg

__all__ = [
    "INTERVENTION_CREATE",
    "INTERVENTION_FIELDS",
    "address",
    "bulk",
    "create",
    "customer",
    "intervention",
    "intervention_type",
    "png",
    "user_id",
]

CUSTOMER_CREATE = """
mutation ($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } errors { code message path } }
}
"""
ADDRESS_CREATE = """
mutation ($input: AddressCreateInput!) {
  addressCreate(input: $input) { address { id } errors { code message path } }
}
"""
TYPE_CREATE = """
mutation ($input: InterventionTypeCreateInput!) {
  interventionTypeCreate(input: $input) { interventionType { id name } errors { code message path } }
}
"""
INTERVENTION_FIELDS = """
  id number title description startsAt endsAt status archived toInvoice invoiceId canComplete customerMemo
  type { id name } customer { id } address { id } technicians { id name } preferredContact { id }
  report { completedAt actualStart actualEnd workDone signerName signed pdfUrl signatureUrl
           completedBy { id } photos { id contentType downloadUrl } equipment { id name } }
"""
INTERVENTION_CREATE = f"""
mutation ($input: InterventionCreateInput!) {{
  interventionCreate(input: $input) {{ intervention {{ {INTERVENTION_FIELDS} }} errors {{ code message path }} }}
}}
"""


def user_id(org: TestOrg, who: str) -> str:
    return encode_id("User", org.users[who].id)


async def _ok(org: TestOrg, document: str, field: str, variables: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    payload = (await org.ok(document, variables, as_=as_))[field]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload)


async def customer(org: TestOrg, name: str = "Boulangerie Dupré", *, parent: str | None = None) -> str:
    values: dict[str, Any] = {"kind": "PROFESSIONAL", "companyName": name}
    if parent is not None:
        values["parentId"] = parent
    return str((await _ok(org, CUSTOMER_CREATE, "customerCreate", {"input": values}))["customer"]["id"])


async def address(org: TestOrg, customer_id: str, *, line1: str = "1 place Bellecour", latitude: float | None = 45.7578, longitude: float | None = 4.832) -> str:
    values = {"customerId": customer_id, "label": "Site", "line1": line1, "postalCode": "69002", "city": "Lyon", "country": "FR",
              "latitude": latitude, "longitude": longitude}  # fmt: skip
    return str((await _ok(org, ADDRESS_CREATE, "addressCreate", {"input": values}))["address"]["id"])


async def intervention_type(org: TestOrg, name: str = "Maintenance") -> str:
    return str((await _ok(org, TYPE_CREATE, "interventionTypeCreate", {"input": {"name": name}}))["interventionType"]["id"])


async def create(org: TestOrg, values: dict[str, Any], as_: str = "manager") -> dict[str, Any]:
    """The raw payload of ``interventionCreate``."""
    return dict((await org.ok(INTERVENTION_CREATE, {"input": values}, as_=as_))["interventionCreate"])


async def intervention(
    org: TestOrg,
    customer_id: str,
    address_id: str,
    type_id: str,
    *,
    title: str = "Entretien chaudière",
    starts_at: dt.datetime | None = None,
    hours: float = 2,
    technicians: tuple[str, ...] = ("technician",),
    **fields: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {"title": title, "typeId": type_id, "customerId": customer_id, "addressId": address_id,
                              "technicianIds": [user_id(org, who) for who in technicians], **fields}  # fmt: skip
    if starts_at is not None:
        values["startsAt"] = starts_at.isoformat()
        values["endsAt"] = (starts_at + dt.timedelta(hours=hours)).isoformat()
    payload = await create(org, values)
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["intervention"])


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def bulk(org: TestOrg, customer_id: str, address_id: str, type_id: str, count: int, *, start: dt.datetime, technicians: tuple[str, ...] = ("technician",), first_number: int = 1) -> None:
    """``count`` interventions written straight to the database (seeding large plannings
    fast), one per hour from ``start``, with the technicians given."""
    from fiche.plugins.interventions import models
    from fiche.relay import decode_id

    customer_pk, address_pk, type_pk = (decode_id(gid)[1] for gid in (customer_id, address_id, type_id))
    async with org.state.db.session(organization_id=org.organization_id, user_id=org.users["admin"].id) as session, session.begin():
        rows = [
            models.Intervention(
                number=first_number + index, title=f"Visite {index}", type_id=type_pk, customer_id=customer_pk, address_id=address_pk,
                starts_at=start + dt.timedelta(hours=index), ends_at=start + dt.timedelta(hours=index, minutes=45),
                archived=False, to_invoice=index % 2 == 0,
            )  # fmt: skip
            for index in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        session.add_all(
            models.InterventionTechnician(intervention_id=row.id, user_id=org.users[who].id) for row in rows for who in technicians
        )
