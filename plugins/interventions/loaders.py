"""Per-operation loaders of interventions and equipment: one statement per batch.

Every read of interventions applies the viewer's visibility (technicians see only their
own, :func:`~.services.access.visible_condition`)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.accounts.types import User
from fiche.directory import CustomerLocation, customer_branches, customer_locations
from fiche.relay import Connection, SortKey, merge_pages, pages_by_parent, paginate_grouped, rows_by_id
from fiche.plugins.interventions import models
from fiche.plugins.interventions.filters import InterventionOrder, InterventionQuery, apply_query, sort_keys
from fiche.plugins.interventions.reads import (
    EQUIPMENT_COLUMNS,
    PHOTO_COLUMNS,
    PLAN_COLUMNS,
    TYPE_COLUMNS,
    InterventionBuilder,
    equipment_from_row,
    intervention_select,
    photo_from_row,
    plan_from_row,
    type_from_row,
    worksite_from_row,
    worksite_select,
)
from fiche.plugins.interventions.services.access import is_technician, visible_condition
from fiche.plugins.interventions.services.status import Today, WorksiteStatus, today, worksite_status_expression
from fiche.plugins.interventions.types import Equipment, Intervention, InterventionPhoto, MaintenancePlan, Worksite

if TYPE_CHECKING:
    from fiche.auth import Viewer
    from fiche.context import OperationContext

__all__ = [
    "CustomerEquipmentKey",
    "CustomerInterventionsKey",
    "CustomerPlansKey",
    "CustomerWorksitesKey",
    "HistoryKey",
    "WorksiteInterventionsKey",
    "make_loaders",
    "visible_interventions",
]

I, IT, IE, E = models.Intervention, models.InterventionTechnician, models.InterventionEquipment, models.Equipment


async def visible_interventions(context: OperationContext) -> Any:
    """The select of interventions (type, status) that the viewer may see."""
    return visible_select(await today(context), context.require_viewer())


def visible_select(bounds: Today, viewer: Viewer) -> Any:
    """:func:`visible_interventions` for the day ``bounds`` (statuses) and ``viewer``: a
    statement kept for reuse is keyed by both (:func:`visible_shape`)."""
    stmt = intervention_select(bounds)
    condition = visible_condition(viewer)
    return stmt if condition is None else stmt.where(condition)


def visible_shape(bounds: Today, viewer: Viewer) -> tuple[Any, ...]:
    """What :func:`visible_select` depends on (a technician sees their own interventions)."""
    return (bounds.start, bounds.end, is_technician(viewer) and viewer.user_id)


class _Loader(DataLoader[Any, Any]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context


class InterventionsByIdLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[Intervention | None]:
        stmt = await visible_interventions(self.context)
        async with self.context.read() as session:
            return await rows_by_id(session, stmt, I.id, keys, InterventionBuilder())


class _ById(_Loader):
    columns: tuple[Any, ...] = ()
    build: Any = None

    async def batch_load_fn(self, keys: list[int]) -> list[Any]:
        async with self.context.read() as session:
            return await rows_by_id(session, select(*self.columns), self.columns[0], keys, type(self).build)


class InterventionTypesByIdLoader(_ById):
    columns = TYPE_COLUMNS
    build = staticmethod(type_from_row)


class EquipmentByIdLoader(_ById):
    columns = EQUIPMENT_COLUMNS
    build = staticmethod(equipment_from_row)


class MaintenancePlansByIdLoader(_ById):
    columns = PLAN_COLUMNS
    build = staticmethod(plan_from_row)


class WorksitesByIdLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[Worksite | None]:
        stmt = worksite_select(await today(self.context))
        async with self.context.read() as session:
            return await rows_by_id(session, stmt, models.Worksite.id, keys, worksite_from_row)


class EquipmentByPlanLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[list[Equipment]]:
        link = models.MaintenancePlanEquipment
        stmt = select(link.plan_id, *EQUIPMENT_COLUMNS).join(E, E.id == link.equipment_id).where(link.plan_id.in_(keys)).order_by(link.plan_id, E.name, E.id)
        async with self.context.read() as session:
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[Equipment]] = defaultdict(list)
        for row in rows:
            grouped[row.plan_id].append(equipment_from_row(row))
        return [grouped.get(key, []) for key in keys]


class PhotosByIdLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[InterventionPhoto | None]:
        # A photo is visible with its intervention.
        stmt = select(*PHOTO_COLUMNS)
        condition = visible_condition(self.context.require_viewer())
        if condition is not None:
            stmt = stmt.join(I, I.id == models.InterventionPhoto.intervention_id).where(condition)
        async with self.context.read() as session:
            return await rows_by_id(session, stmt, models.InterventionPhoto.id, keys, photo_from_row)


class TechniciansByInterventionLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[list[User]]:
        U = accounts.User
        stmt = (
            select(IT.intervention_id, U.id, U.name, U.handle, U.email, U.role, U.is_active)
            .join(U, U.id == IT.user_id)
            .where(IT.intervention_id.in_(keys))
            .order_by(IT.intervention_id, U.name, U.id)
        )
        async with self.context.read() as session:
            rows = (await session.execute(stmt)).all()
        users: dict[int, User] = {}
        grouped: dict[int, list[User]] = defaultdict(list)
        for row in rows:
            user = users.get(row.id)
            if user is None:
                user = users[row.id] = User(pk=row.id, name=row.name, handle=row.handle, email=row.email, role=row.role, is_active=row.is_active)
            grouped[row.intervention_id].append(user)
        return [grouped.get(key, []) for key in keys]


class PhotosByInterventionLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[list[InterventionPhoto]]:
        P = models.InterventionPhoto
        stmt = select(*PHOTO_COLUMNS).where(P.intervention_id.in_(keys)).order_by(P.intervention_id, P.id)
        async with self.context.read() as session:
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[InterventionPhoto]] = defaultdict(list)
        for row in rows:
            grouped[row.intervention_id].append(photo_from_row(row))
        return [grouped.get(key, []) for key in keys]


class EquipmentByInterventionLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[list[Equipment]]:
        stmt = select(IE.intervention_id, *EQUIPMENT_COLUMNS).join(E, E.id == IE.equipment_id).where(IE.intervention_id.in_(keys)).order_by(IE.intervention_id, E.name, E.id)
        async with self.context.read() as session:
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[Equipment]] = defaultdict(list)
        for row in rows:
            grouped[row.intervention_id].append(equipment_from_row(row))
        return [grouped.get(key, []) for key in keys]


class LocationsByCustomerLoader(_Loader):
    """What the customers plugin tells of each customer (memo, preferred contact)."""

    async def batch_load_fn(self, keys: list[int]) -> list[CustomerLocation | None]:
        async with self.context.read() as session:
            found = await customer_locations(self.context.pm, session, keys)
        return [found.get(key) for key in keys]


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerInterventionsKey:
    customer_pk: int
    first: int
    after: str | None
    query: InterventionQuery
    include_branches: bool = False


def _merge_order(order: InterventionOrder) -> Any:
    """The key by which ``merge_pages`` (which sorts descending) puts the edges of several
    locations back in ``order``."""
    if order is InterventionOrder.NEWEST:
        return lambda edge: edge.node.number

    def appointment(edge: Any) -> tuple[bool, float, int]:
        starts = edge.node.starts_at  # earliest first, unscheduled last, then by id
        return (starts is not None, -starts.timestamp() if starts is not None else 0.0, -edge.node.pk)

    return appointment


class InterventionsByCustomerLoader(_Loader):
    """Pages of ``Customer.interventions`` for many customers: one statement per group of
    equal arguments (two with branches)."""

    async def batch_load_fn(self, keys: list[CustomerInterventionsKey]) -> list[Connection[Intervention]]:
        groups: dict[tuple[int, str | None, InterventionQuery, bool], list[CustomerInterventionsKey]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after, key.query, key.include_branches)].append(key)
        pages: dict[CustomerInterventionsKey, Connection[Intervention]] = {}
        base = await visible_interventions(self.context)
        bounds = await today(self.context)
        async with self.context.read() as session:
            for (first, after, query, include_branches), members in groups.items():
                roots = sorted({key.customer_pk for key in members})
                scopes = {root: [root] for root in roots}
                if include_branches:
                    branches = await customer_branches(self.context.pm, session, roots)
                    for root in roots:
                        scopes[root].extend(branches.get(root, ()))
                locations = sorted({location for scope in scopes.values() for location in scope})
                stmt = apply_query(base, query, bounds, self.context.pm, self.context.require_viewer())
                by_location = await paginate_grouped(
                    session, stmt, I.customer_id, locations, sort_keys(query.order), first=first, after=after, build=InterventionBuilder()
                )
                for key in members:
                    scope = scopes[key.customer_pk]
                    if len(scope) == 1:
                        pages[key] = by_location[scope[0]]
                    else:
                        pages[key] = merge_pages([by_location[loc] for loc in scope], first, after is not None, _merge_order(query.order))
        return [pages[key] for key in keys]


@dataclasses.dataclass(frozen=True, slots=True)
class HistoryKey:
    equipment_pk: int
    first: int
    after: str | None


HISTORY_ORDER = (SortKey(I.number, descending=True),)


class InterventionHistoryByEquipmentLoader(_Loader):
    """Pages of ``Equipment.interventions``, latest first, one statement per page size."""

    async def batch_load_fn(self, keys: list[HistoryKey]) -> list[Connection[Intervention]]:
        base = (await visible_interventions(self.context)).join(IE, IE.intervention_id == I.id)
        async with self.context.read() as session:
            return await pages_by_parent(session, keys, lambda key: key.equipment_pk, base, IE.equipment_id, HISTORY_ORDER, InterventionBuilder())


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerEquipmentKey:
    customer_pk: int
    first: int
    after: str | None


EQUIPMENT_ORDER = (SortKey(E.name), SortKey(E.id))


class EquipmentByCustomerLoader(_Loader):
    async def batch_load_fn(self, keys: list[CustomerEquipmentKey]) -> list[Connection[Equipment]]:
        async with self.context.read() as session:
            return await pages_by_parent(
                session, keys, lambda key: key.customer_pk, select(*EQUIPMENT_COLUMNS), E.customer_id, EQUIPMENT_ORDER, equipment_from_row
            )


@dataclasses.dataclass(frozen=True, slots=True)
class WorksiteInterventionsKey:
    worksite_pk: int
    first: int
    after: str | None


APPOINTMENT_ORDER = sort_keys(InterventionOrder.APPOINTMENT)


class InterventionsByWorksiteLoader(_Loader):
    """Pages of ``Worksite.interventions``, by appointment, one statement per page size."""

    async def batch_load_fn(self, keys: list[WorksiteInterventionsKey]) -> list[Connection[Intervention]]:
        base = await visible_interventions(self.context)
        async with self.context.read() as session:
            return await pages_by_parent(session, keys, lambda key: key.worksite_pk, base, I.worksite_id, APPOINTMENT_ORDER, InterventionBuilder())


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerWorksitesKey:
    customer_pk: int
    first: int
    after: str | None
    statuses: frozenset[WorksiteStatus] | None = None


W = models.Worksite
WORKSITE_ORDER = (SortKey(W.starts_on, descending=True), SortKey(W.id, descending=True))


class WorksitesByCustomerLoader(_Loader):
    """Pages of ``Customer.worksites``, the latest started first, filtered by status in SQL."""

    async def batch_load_fn(self, keys: list[CustomerWorksitesKey]) -> list[Connection[Worksite]]:
        groups: dict[tuple[int, str | None, frozenset[WorksiteStatus] | None], list[CustomerWorksitesKey]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after, key.statuses)].append(key)
        bounds = await today(self.context)
        pages: dict[CustomerWorksitesKey, Connection[Worksite]] = {}
        async with self.context.read() as session:
            for (first, after, statuses), members in groups.items():
                stmt = worksite_select(bounds)
                if statuses is not None:
                    stmt = stmt.where(worksite_status_expression(bounds).in_(sorted(status.name for status in statuses)))
                by_customer = await paginate_grouped(
                    session, stmt, W.customer_id, sorted({key.customer_pk for key in members}), WORKSITE_ORDER,
                    first=first, after=after, build=worksite_from_row,
                )  # fmt: skip
                for key in members:
                    pages[key] = by_customer[key.customer_pk]
        return [pages[key] for key in keys]


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerPlansKey:
    customer_pk: int
    first: int
    after: str | None


M = models.MaintenancePlan
PLAN_ORDER = (SortKey(M.name), SortKey(M.id))


class MaintenancePlansByCustomerLoader(_Loader):
    async def batch_load_fn(self, keys: list[CustomerPlansKey]) -> list[Connection[MaintenancePlan]]:
        async with self.context.read() as session:
            return await pages_by_parent(session, keys, lambda key: key.customer_pk, select(*PLAN_COLUMNS), M.customer_id, PLAN_ORDER, plan_from_row)


def make_loaders(context: OperationContext) -> dict[str, DataLoader[Any, Any]]:
    return {
        "interventions_by_id": InterventionsByIdLoader(context),
        "intervention_types_by_id": InterventionTypesByIdLoader(context),
        "intervention_photos_by_id": PhotosByIdLoader(context),
        "equipment_by_id": EquipmentByIdLoader(context),
        "technicians_by_intervention": TechniciansByInterventionLoader(context),
        "photos_by_intervention": PhotosByInterventionLoader(context),
        "equipment_by_intervention": EquipmentByInterventionLoader(context),
        "locations_by_customer": LocationsByCustomerLoader(context),
        "interventions_by_customer": InterventionsByCustomerLoader(context),
        "intervention_history_by_equipment": InterventionHistoryByEquipmentLoader(context),
        "equipment_by_customer": EquipmentByCustomerLoader(context),
        "worksites_by_id": WorksitesByIdLoader(context),
        "maintenance_plans_by_id": MaintenancePlansByIdLoader(context),
        "equipment_by_plan": EquipmentByPlanLoader(context),
        "interventions_by_worksite": InterventionsByWorksiteLoader(context),
        "worksites_by_customer": WorksitesByCustomerLoader(context),
        "maintenance_plans_by_customer": MaintenancePlansByCustomerLoader(context),
    }
