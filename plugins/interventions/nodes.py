"""What ``node(id:)`` resolves for this plugin, through the per-operation loaders: an
intervention a technician is not assigned to (and its photos) resolves like a missing one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select

from fiche.relay import InvalidID, decode_id
from fiche.plugins.interventions import models
from fiche.plugins.interventions.services.access import visible_condition

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NODE_RESOLVERS", "intervention_ids", "notification_visibility"]


def _by_loader(name: str) -> Any:
    async def resolve(context: OperationContext, pks: Sequence[int]) -> list[Any]:
        return list(await context.loaders[name].load_many(list(pks)))

    return resolve


NODE_RESOLVERS: dict[str, Any] = {
    "Intervention": _by_loader("interventions_by_id"),
    "InterventionType": _by_loader("intervention_types_by_id"),
    "InterventionPhoto": _by_loader("intervention_photos_by_id"),
    "Equipment": _by_loader("equipment_by_id"),
    "Worksite": _by_loader("worksites_by_id"),
    "MaintenancePlan": _by_loader("maintenance_plans_by_id"),
}


def intervention_ids(object_ids: Sequence[str]) -> dict[int, str]:
    """The interventions among global IDs: ``{pk: global id}``."""
    wanted: dict[int, str] = {}
    for object_id in object_ids:
        try:
            type_name, pk = decode_id(object_id)
        except InvalidID:
            continue
        if type_name == "Intervention":
            wanted[pk] = object_id
    return wanted


async def notification_visibility(context: OperationContext, wanted: dict[int, str]) -> dict[str, bool]:
    """False for an intervention the reader may no longer see (a technician taken off it);
    ``wanted`` comes from :func:`intervention_ids`."""
    condition = visible_condition(context.require_viewer())
    if condition is None:
        return dict.fromkeys(wanted.values(), True)
    I = models.Intervention
    async with context.read() as session:
        rows = (await session.execute(select(I.id, case((condition, True), else_=False)).where(I.id.in_(sorted(wanted))))).all()
    hidden = {pk for pk, visible in rows if not visible}
    return {object_id: pk not in hidden for pk, object_id in wanted.items()}
