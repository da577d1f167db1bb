"""Root queries: ``customers`` (search, filters, sorts, keyset pages), ``customer``,
``customerByReference`` and ``customFields``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import select

from fiche.cost import list_size
from fiche.errors import PublicError
from fiche.relay import AnySelect, Connection, InvalidID, SortKey, decode_id, page_size, paginate
from fiche.text import fold, like_pattern
from fiche.plugins.customers import models, reads
from fiche.plugins.customers.custom_field_types import CustomField
from fiche.plugins.customers.enums import CustomerKind, CustomerSortField
from fiche.plugins.customers.services.bounds import MAX_CUSTOM_FIELDS
from fiche.plugins.customers.services.hierarchy import descendants
from fiche.plugins.customers.types import Customer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["CustomerFilter", "CustomerOrder", "CustomerQueries"]


@strawberry.input(description="Which customers to list. Every condition given must hold.")
class CustomerFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Words of the name or the reference, ignoring case and accents; each word may match anywhere (prefix or substring).",
    )
    kind: CustomerKind | None = strawberry.field(default=None, description="Only individuals, or only professionals.")
    representative_id: strawberry.ID | None = strawberry.field(default=None, description="Only the customers of this representative (a `User` ID).")
    archived: bool | None = strawberry.field(
        default=False, description="false (the default): active customers only; true: archived ones only; null: both."
    )
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Only the branches of this customer.")
    include_branches: bool = strawberry.field(
        default=True,
        description="With `parentId`: every level of branches below it (true) or its direct branches only (false). "
        "Without `parentId`: list branches too (true) or main customers only (false).",
    )


@strawberry.input(description="How to sort the customer list.")
class CustomerOrder:
    field: CustomerSortField = strawberry.field(default=CustomerSortField.NAME, description="The sort key.")
    descending: bool = strawberry.field(default=False, description="Largest (or latest, or Z) first.")


SORT_COLUMNS = {
    CustomerSortField.NAME: models.Customer.sort_name,
    CustomerSortField.REFERENCE: models.Customer.reference,
    CustomerSortField.CREATED_AT: models.Customer.created_at,
    CustomerSortField.UPDATED_AT: models.Customer.updated_at,
}


async def _filtered(session: AsyncSession, stmt: AnySelect, filter: CustomerFilter) -> AnySelect:
    if filter.parent_id is not None and filter.include_branches:
        parent = decode_id(filter.parent_id, "Customer")[1]
        return _filtered_now(stmt, filter).where(models.Customer.id.in_(await descendants(session, parent)))
    return _filtered_now(stmt, filter)


def _filtered_now(stmt: AnySelect, filter: CustomerFilter) -> AnySelect:
    """``stmt`` with the conditions of ``filter`` that need no read (all but a parent's
    branches, every level down: :func:`_filtered` adds those)."""
    customer = models.Customer
    for word in fold(filter.search or "").split():
        stmt = stmt.where(customer.search_text.like(like_pattern(word), escape="\\"))
    if filter.kind is not None:
        stmt = stmt.where(customer.kind == models.CustomerKind[filter.kind.name])
    if filter.representative_id is not None:
        stmt = stmt.where(customer.representative_id == decode_id(filter.representative_id, "User")[1])
    if filter.archived is not None:
        stmt = stmt.where(customer.archived == filter.archived)
    if filter.parent_id is not None:
        if not filter.include_branches:
            stmt = stmt.where(customer.parent_id == decode_id(filter.parent_id, "Customer")[1])
    elif not filter.include_branches:
        stmt = stmt.where(customer.parent_id.is_(None))
    return stmt


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="Your organisation's customers: searched, filtered, sorted and paginated.")
    async def customers(
        self,
        info: strawberry.Info,
        filter: Annotated[CustomerFilter | None, strawberry.argument(description="Which customers; active ones by default.")] = None,
        order_by: Annotated[CustomerOrder | None, strawberry.argument(description="The order; by name by default.")] = None,
        first: Annotated[int | None, strawberry.argument(description="How many customers to return (the page size).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Return the customers after this cursor.")] = None,
    ) -> Connection[Customer]:
        context: OperationContext = info.context
        context.require_viewer()
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        order = order_by or CustomerOrder()
        keys = [SortKey(SORT_COLUMNS[order.field], order.descending), SortKey(models.Customer.id, order.descending)]
        filter = filter or CustomerFilter()
        async with context.read() as session:
            if filter.parent_id is not None and filter.include_branches:
                stmt = await _filtered(session, select(*reads.CUSTOMER_COLUMNS), filter)
                return await paginate(session, stmt, keys, first=size, after=after, build=reads.customer_from_row)
            # No read decides the statement: it is built once per filter and order, and kept
            # (a filter whose IDs do not decode raises while building, and is never kept).
            shape = (
                "customers.page", filter.search, filter.kind, filter.representative_id, filter.archived, filter.parent_id,
                filter.include_branches, order.field, order.descending,
            )  # fmt: skip
            chosen: CustomerFilter = filter  # (a closure does not keep mypy's narrowing)

            def build() -> AnySelect:
                return _filtered_now(select(*reads.CUSTOMER_COLUMNS), chosen)

            return await paginate(session, build, keys, first=size, after=after, build=reads.customer_from_row, shape=shape)

    @strawberry.field(description="One customer by ID; null when it does not exist or is not in your organisation.")
    async def customer(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The customer's global ID.")]
    ) -> Customer | None:
        context: OperationContext = info.context
        context.require_viewer()
        try:
            return await context.load_node(id, "Customer")
        except InvalidID as exc:
            raise PublicError.bad_request(str(exc)) from exc

    @strawberry.field(description="One customer by its reference; null when no customer has it.")
    async def customer_by_reference(
        self, info: strawberry.Info, reference: Annotated[str, strawberry.argument(description="The exact customer reference.")]
    ) -> Customer | None:
        context: OperationContext = info.context
        async with context.read() as session:
            row = (
                await session.execute(select(*reads.CUSTOMER_COLUMNS).where(models.Customer.reference == " ".join(reference.split())))
            ).one_or_none()
        return reads.customer_from_row(row) if row is not None else None

    @strawberry.field(description="The custom fields of customers defined in your organisation, in display order.", metadata=list_size(MAX_CUSTOM_FIELDS))
    async def custom_fields(self, info: strawberry.Info) -> list[CustomField]:
        context: OperationContext = info.context
        async with context.read() as session:
            rows = (
                await session.execute(
                    select(*reads.FIELD_COLUMNS).order_by(models.CustomField.position, models.CustomField.id)
                )
            ).all()
        return [reads.field_from_row(row) for row in rows]
