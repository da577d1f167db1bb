"""Helpers of the activities tests: customers, contacts and addresses through the customers
plugin's API, and activities, forms and settings through this plugin's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.support import TestOrg

__all__ = [
    "ACTIVITY_CREATE",
    "ACTIVITY_FIELDS",
    "activity",
    "ago",
    "contact",
    "customer",
    "form",
    "iso",
    "link_forms",
    "set_setting",
    "type_ids",
]

CUSTOMER_CREATE = """
mutation ($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } errors { code message path } }
}
"""
CONTACT_CREATE = """
mutation ($input: ContactCreateInput!) {
  contactCreate(input: $input) { contact { id } errors { code message path } }
}
"""
ADDRESS_CREATE = """
mutation ($input: AddressCreateInput!) {
  addressCreate(input: $input) { address { id } errors { code message path } }
}
"""
ACTIVITY_TYPES = "{ activityTypes(includeArchived: true) { id code name } }"
ACTIVITY_FIELDS = """
  id startsAt endsAt description gpsStatus hasReports
  type { id name code } assignee { id name } team { id name } contact { id } location { id }
"""
ACTIVITY_CREATE = f"""
mutation ($input: ActivityCreateInput!) {{
  activityCreate(input: $input) {{ activity {{ {ACTIVITY_FIELDS} }} errors {{ code message path }} }}
}}
"""
FORM_CREATE = """
mutation ($input: ReportFormCreateInput!) {
  reportFormCreate(input: $input) { form { id } errors { code message path } }
}
"""
TYPE_UPDATE = """
mutation ($input: ActivityTypeUpdateInput!) {
  activityTypeUpdate(input: $input) { activityType { id } errors { code message path } }
}
"""
SETTING_SET = """
mutation ($key: String!, $value: JSON!) {
  organizationSettingSet(key: $key, value: $value) { errors { code message } }
}
"""


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def ago(**delta: float) -> dt.datetime:
    """``now - timedelta(**delta)`` in UTC (negative values are in the future)."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(**delta)


async def _ok(org: TestOrg, document: str, field: str, variables: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    payload = (await org.ok(document, variables, as_=as_))[field]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload)


async def customer(
    org: TestOrg,
    name: str = "Boulangerie Dupré",
    *,
    parent: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> str:
    """A professional customer (a branch of ``parent``), with a primary address at the
    coordinates when given; returns its global ID."""
    values: dict[str, Any] = {"kind": "PROFESSIONAL", "companyName": name}
    if parent is not None:
        values["parentId"] = parent
    customer_id = (await _ok(org, CUSTOMER_CREATE, "customerCreate", {"input": values}))["customer"]["id"]
    if latitude is not None:
        address = {"customerId": customer_id, "label": "Siège", "line1": "1 place Bellecour", "postalCode": "69002",
                   "city": "Lyon", "country": "FR", "latitude": latitude, "longitude": longitude, "primary": True}  # fmt: skip
        await _ok(org, ADDRESS_CREATE, "addressCreate", {"input": address})
    return str(customer_id)


async def contact(org: TestOrg, customer_id: str, name: str = "Anne Achat", *, preferred: bool = False) -> str:
    payload = await _ok(org, CONTACT_CREATE, "contactCreate", {"input": {"customerId": customer_id, "name": name, "preferred": preferred}})
    return str(payload["contact"]["id"])


async def type_ids(org: TestOrg) -> dict[str, str]:
    """Activity type IDs by code (built-in types) or by name (custom ones)."""
    data = await org.ok(ACTIVITY_TYPES)
    return {row["code"] or row["name"]: row["id"] for row in data["activityTypes"]}


async def activity(
    org: TestOrg,
    location: str,
    *,
    type: str = "visit",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    as_: str = "admin",
    **fields: Any,
) -> dict[str, Any]:
    """Create an activity (of a built-in type by code, or a type ID) and return it."""
    types = await type_ids(org)
    values: dict[str, Any] = {"typeId": types.get(type, type), "locationId": location, **fields}
    if starts_at is not None:
        values["startsAt"] = iso(starts_at)
    if ends_at is not None:
        values["endsAt"] = iso(ends_at)
    if starts_at is None and "startsNow" not in fields:
        values["startsNow"] = True
    payload = await _ok(org, ACTIVITY_CREATE, "activityCreate", {"input": values}, as_=as_)
    return dict(payload["activity"])


async def form(org: TestOrg, fields: list[dict[str, Any]], name: str = "Compte rendu") -> str:
    payload = await _ok(org, FORM_CREATE, "reportFormCreate", {"input": {"name": name, "fields": fields}})
    return str(payload["form"]["id"])


async def link_forms(org: TestOrg, type_id: str, form_ids: list[str]) -> None:
    await _ok(org, TYPE_UPDATE, "activityTypeUpdate", {"input": {"id": type_id, "formIds": form_ids}})


async def set_setting(org: TestOrg, key: str, value: Any) -> None:
    result = await org.ok(SETTING_SET, {"key": key, "value": value})
    assert result["organizationSettingSet"]["errors"] == []
