"""Keeping interventions and equipment in step with customers: merges and deletions (C4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from fiche.files import remove_after_commit
from fiche.plugins.interventions import models
from fiche.plugins.interventions.mutations.equipment import equipment_files

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["delete_customer_rows", "merge_customer_rows"]


async def merge_customer_rows(session: AsyncSession, source_id: int, target_id: int) -> None:
    """The duplicate's interventions, equipment, worksites and maintenance plans go to the
    kept customer (their addresses move with the customers plugin's own merge)."""
    for model in (models.Intervention, models.Equipment, models.Worksite, models.MaintenancePlan):
        await session.execute(
            update(model).where(model.customer_id == source_id).values(customer_id=target_id).execution_options(synchronize_session=False)
        )


async def delete_customer_rows(session: AsyncSession, customer_id: int, context: OperationContext) -> None:
    """The customer's interventions (reports, photos, signatures), equipment, worksites and
    maintenance plans go with it; their files once the deletion commits."""
    I, E, P = models.Intervention, models.Equipment, models.InterventionPhoto
    interventions = list((await session.scalars(select(I.id).where(I.customer_id == customer_id))).all())
    keys: list[str] = []
    if interventions:
        keys += (await session.scalars(select(P.storage_key).where(P.intervention_id.in_(interventions)))).all()
        keys += [key for key in (await session.scalars(select(I.signature_key).where(I.id.in_(interventions)))).all() if key]
        for child in (P, models.InterventionTechnician, models.InterventionEquipment):
            await session.execute(delete(child).where(child.intervention_id.in_(interventions)).execution_options(synchronize_session=False))
        await session.execute(delete(I).where(I.id.in_(interventions)).execution_options(synchronize_session=False))
    plans = select(models.MaintenancePlan.id).where(models.MaintenancePlan.customer_id == customer_id)
    link = models.MaintenancePlanEquipment
    await session.execute(delete(link).where(link.plan_id.in_(plans)).execution_options(synchronize_session=False))
    for owned in (models.MaintenancePlan, models.Worksite):
        await session.execute(delete(owned).where(owned.customer_id == customer_id).execution_options(synchronize_session=False))
    equipment = (await session.execute(select(E.id, E.picture_key, E.thumbnail_key).where(E.customer_id == customer_id))).all()
    if equipment:
        ids = [row.id for row in equipment]
        keys += equipment_files(list(equipment))
        for covered in (models.InterventionEquipment, models.MaintenancePlanEquipment):
            await session.execute(delete(covered).where(covered.equipment_id.in_(ids)).execution_options(synchronize_session=False))
        await session.execute(delete(E).where(E.id.in_(ids)).execution_options(synchronize_session=False))
    remove_after_commit(context, keys)
