"""The signed intervention report as a PDF, rendered by the gateway's one HTML-to-PDF
service (:func:`fiche.documents.render_pdf`): the organisation, the customer, the address,
the appointment and the actual times (in the organisation's time zone), the technicians,
the work done, the equipment serviced, the photos and the signature."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.directory import customer_addresses, customer_locations
from fiche.documents import DocumentRequest, RenderedDocument, escape, render_pdf, resource_url
from fiche.org_settings import TIME_ZONE
from fiche.plugins.interventions import models
from fiche.plugins.interventions.services.access import visible_condition

__all__ = ["render_report"]

STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: sans-serif; font-size: 10pt; color: #222; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 11pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; }
td { padding: 1mm 2mm; vertical-align: top; }
td.label { width: 35%; color: #555; }
.photos img { width: 55mm; margin: 0 2mm 2mm 0; vertical-align: top; }
.organisation { font-weight: bold; font-size: 12pt; }
.signature img { max-width: 70mm; max-height: 35mm; }
.work { white-space: pre-wrap; }
"""


async def _zone(request: DocumentRequest) -> zoneinfo.ZoneInfo:
    setting = await request.session.scalar(
        select(accounts.OrganizationSetting.value).where(accounts.OrganizationSetting.key == TIME_ZONE.key)
    )
    return zoneinfo.ZoneInfo(setting if isinstance(setting, str) else TIME_ZONE.default)


def _time(value: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    return "—" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def _row(label: str, value: object) -> str:
    return f"<tr><td class='label'>{escape(label)}</td><td>{escape(value)}</td></tr>"


async def render_report(request: DocumentRequest) -> RenderedDocument | None:
    """The PDF of a signed report, or None (404) when the intervention is missing, hidden
    from the viewer, or not signed yet."""
    session = request.session
    I = models.Intervention
    stmt = select(I).where(I.id == request.pk)
    condition = visible_condition(request.viewer)
    if condition is not None:
        stmt = stmt.where(condition)
    intervention = await session.scalar(stmt)
    if intervention is None or intervention.signature_key is None or intervention.completed_at is None:
        return None
    zone = await _zone(request)
    organisation = await session.scalar(select(accounts.Organization.name).where(accounts.Organization.id == request.viewer.organization_id))
    location = (await customer_locations(request.pm, session, [intervention.customer_id])).get(intervention.customer_id)
    address = (await customer_addresses(request.pm, session, [intervention.address_id])).get(intervention.address_id)
    link, user = models.InterventionTechnician, accounts.User
    technicians = (await session.scalars(select(user.name).join(link, link.user_id == user.id).where(link.intervention_id == intervention.id).order_by(user.name))).all()
    kind = await session.scalar(select(models.InterventionType.name).where(models.InterventionType.id == intervention.type_id))
    E, IE = models.Equipment, models.InterventionEquipment
    equipment = (await session.execute(
        select(E.name, E.brand, E.model, E.serial_number).join(IE, IE.equipment_id == E.id).where(IE.intervention_id == intervention.id).order_by(E.name, E.id)
    )).all()  # fmt: skip
    P = models.InterventionPhoto
    photos = (await session.execute(select(P.id, P.storage_key, P.content_type).where(P.intervention_id == intervention.id).order_by(P.id))).all()
    resources: dict[str, bytes] = {}
    for photo in photos:
        resources[f"photo-{photo.id}{_extension(photo.content_type)}"] = await request.storage.read(photo.storage_key)
    signature_name = f"signature{_extension(intervention.signature_type)}"
    resources[signature_name] = await request.storage.read(intervention.signature_key)
    page = _page(intervention, organisation or "", location.display_name if location else "", address.one_line if address else "", list(technicians), kind or "", equipment, resources, signature_name, zone)
    pdf = await render_pdf(page, resources=resources, identifier=f"intervention-{intervention.id}".encode())
    return RenderedDocument(filename=f"intervention-{intervention.number}.pdf", pdf=pdf)


def _extension(content_type: str | None) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}.get(content_type or "", "")


def _page(
    intervention: models.Intervention, organisation: str, customer: str, address: str, technicians: list[str], kind: str,
    equipment: Sequence[Any], resources: dict[str, bytes], signature_name: str, zone: zoneinfo.ZoneInfo,
) -> str:  # fmt: skip
    details = "".join([
        _row("Customer", customer),
        _row("Address", address),
        _row("Type", kind),
        _row("Technicians", ", ".join(technicians) or "—"),
        _row("Appointment", f"{_time(intervention.starts_at, zone)} – {_time(intervention.ends_at, zone)}" if intervention.starts_at else "not scheduled"),
        _row("Work started", _time(intervention.actual_start, zone)),
        _row("Work ended", _time(intervention.actual_end, zone)),
        _row("Completed", _time(intervention.completed_at, zone)),
    ])  # fmt: skip
    items = "".join(
        f"<li>{escape(row.name)}{escape(' — ' + ' '.join(filter(None, (row.brand, row.model))) if row.brand or row.model else '')}"
        f"{escape(', serial ' + row.serial_number if row.serial_number else '')}</li>"
        for row in equipment
    )
    photos = "".join(f"<img src='{resource_url(name)}' alt='photo'>" for name in resources if name.startswith("photo-"))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Intervention {intervention.number}</title><style>{STYLE}</style></head><body>"
        f"<p class='organisation'>{escape(organisation)}</p>"
        f"<h1>Intervention report no. {intervention.number}: {escape(intervention.title)}</h1>"
        f"<table>{details}</table>"
        f"<h2>Work done</h2><p class='work'>{escape(intervention.work_done or '—')}</p>"
        f"<h2>Equipment serviced</h2>{f'<ul>{items}</ul>' if items else '<p>—</p>'}"
        + (f"<h2>Photos</h2><div class='photos'>{photos}</div>" if photos else "")
        + f"<h2>Customer's signature</h2><p>Signed by {escape(intervention.signer_name)}</p>"
        f"<div class='signature'><img src='{resource_url(signature_name)}' alt='signature'></div>"
        "</body></html>"
    )
