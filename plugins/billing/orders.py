"""Orders (B3): a customer's order with a number, a date, lines and a status. ``Order`` is
a subject type, so notes and tasks attach to it (the notes plugin adds ``Order.notes``)
and a task created from an order is linked to it.

Numbers (``CMD-00042``) come from one gap-free series per organisation, given when the order
is created; lines can change while the order is a draft."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import delete, select

from fiche.cost import list_size
from fiche.db import lock
from fiche.errors import UserError, UserErrors
from fiche.execution import batched
from fiche.relay import Connection, Node, SortKey, encode_id, input_pk, page_size, pages_by_parent
from fiche.sequences import next_number
from fiche.plugins.billing import access, documents, models
from fiche.plugins.billing.inputs import After, BillingLineInput, First
from fiche.plugins.billing.lines import MAX_LINES, LineDraft, check_lines, check_totals
from fiche.plugins.billing.money import ExactDecimal, currency_exponent, money
from fiche.plugins.billing.types import BillingLine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["CUSTOMER_FIELDS", "Order", "OrderMutations", "OrderStatus", "load_orders", "make_loaders"]

Status = models.OrderStatus
NEXT = {
    Status.DRAFT: {Status.CONFIRMED, Status.CANCELLED},
    Status.CONFIRMED: {Status.DELIVERED, Status.CANCELLED},
    Status.DELIVERED: set(),
    Status.CANCELLED: set(),
}


@strawberry.enum(description="Where an order stands.")
class OrderStatus(enum.Enum):
    DRAFT = strawberry.enum_value("DRAFT", description="Being written: its lines can change.")
    CONFIRMED = strawberry.enum_value("CONFIRMED", description="Confirmed with the customer.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="Delivered (final).")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled (final).")


@strawberry.type(description="A customer's order. Notes and tasks can be attached to it.")
class Order(Node):
    number: str = strawberry.field(description="The order number (`CMD-00042`), per organisation.")
    ordered_on: dt.date = strawberry.field(description="The day of the order.")
    status: OrderStatus = strawberry.field(description="Where the order stands.")
    currency: str = strawberry.field(description="ISO 4217 code of the amounts.")
    net_total: ExactDecimal = strawberry.field(description="Total without VAT.")
    tax_total: ExactDecimal = strawberry.field(description="Total VAT (per rate on the rate's base, see docs/billing.md).")
    total: ExactDecimal = strawberry.field(description="Total with VAT.")
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    customer_pk: strawberry.Private[int]

    @strawberry.field(description="The lines, in order.", metadata=list_size(MAX_LINES))
    @batched
    async def lines(orders: Sequence[Order], info: strawberry.Info) -> list[list[BillingLine]]:
        context: OperationContext = info.context
        return list(await context.loaders["billing_order_lines_by_order"].load_many([order.pk for order in orders]))

    @strawberry.field(description="The customer who ordered.")
    @batched
    async def customer(orders: Sequence[Order], info: strawberry.Info) -> list[Node | None]:
        context: OperationContext = info.context
        return list(await context.load_nodes([encode_id("Customer", order.customer_pk) for order in orders]))


ORDER_COLUMNS = (
    models.Order.id, models.Order.number, models.Order.ordered_on, models.Order.status, models.Order.currency,
    models.Order.net_total, models.Order.tax_total, models.Order.gross_total, models.Order.created_at, models.Order.customer_id,
)  # fmt: skip


def order_from_row(row: Any) -> Order:
    return Order(
        pk=row.id, number=row.number, ordered_on=row.ordered_on, status=OrderStatus[row.status.name], currency=row.currency,
        net_total=ExactDecimal(money(row.net_total, row.currency)), tax_total=ExactDecimal(money(row.tax_total, row.currency)),
        total=ExactDecimal(money(row.gross_total, row.currency)), created_at=row.created_at, customer_pk=row.customer_id,
    )  # fmt: skip


# -- loaders -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class _Page:
    owner: int
    first: int
    after: str | None


class _Loader(DataLoader[Any, Any]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context


class OrdersByIdLoader(_Loader):
    async def batch_load_fn(self, pks: list[int]) -> list[Order | None]:
        if not access.can_read(self.context.viewer):
            return [None] * len(pks)
        async with self.context.read() as session:
            rows = (await session.execute(select(*ORDER_COLUMNS).where(models.Order.id.in_(pks)))).all()
        found = {row.id: order_from_row(row) for row in rows}
        return [found.get(pk) for pk in pks]


class OrderLinesByOrderLoader(_Loader):
    async def batch_load_fn(self, pks: list[int]) -> list[list[BillingLine]]:
        if not access.can_read(self.context.viewer):
            return [[] for _ in pks]
        line = models.OrderLine
        stmt = (
            select(line.order_id, line.description, line.quantity, line.unit, line.unit_price, line.vat_rate, line.discount,
                   line.net_amount, models.Order.currency)  # fmt: skip
            .join(models.Order, models.Order.id == line.order_id)
            .where(line.order_id.in_(pks))
            .order_by(line.order_id, line.position)
        )
        async with self.context.read() as session:
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[BillingLine]] = defaultdict(list)
        for row in rows:
            grouped[row.order_id].append(
                BillingLine(
                    description=row.description, quantity=ExactDecimal(row.quantity), unit=row.unit, unit_price=ExactDecimal(row.unit_price),
                    vat_rate=ExactDecimal(row.vat_rate), discount=ExactDecimal(row.discount),
                    net_amount=ExactDecimal(money(row.net_amount, row.currency)), work_id=None,
                )  # fmt: skip
            )
        return [grouped.get(pk, []) for pk in pks]


class OrdersByCustomerLoader(_Loader):
    async def batch_load_fn(self, keys: list[_Page]) -> list[Connection[Order]]:
        if not access.can_read(self.context.viewer):
            return [Connection.empty() for _ in keys]
        order = (SortKey(models.Order.ordered_on, descending=True), SortKey(models.Order.id, descending=True))
        async with self.context.read() as session:
            return await pages_by_parent(session, keys, lambda key: key.owner, select(*ORDER_COLUMNS), models.Order.customer_id, order, order_from_row)


def make_loaders(context: OperationContext) -> dict[str, DataLoader[Any, Any]]:
    return {
        "billing_orders_by_id": OrdersByIdLoader(context),
        "billing_order_lines_by_order": OrderLinesByOrderLoader(context),
        "billing_orders_by_customer": OrdersByCustomerLoader(context),
    }


async def load_orders(context: OperationContext, pks: Sequence[int]) -> list[Order | None]:
    """The ``node(id:)`` resolver of ``Order``."""
    return list(await context.loaders["billing_orders_by_id"].load_many(list(pks)))


class HasPk(Protocol):
    pk: int


@batched
async def resolve_orders(roots: Sequence[HasPk], info: strawberry.Info, first: First = None, after: After = None) -> list[Connection[Order] | None]:
    context: OperationContext = info.context
    access.require_reader(context)
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    return list(await context.loaders["billing_orders_by_customer"].load_many([_Page(root.pk, size, after) for root in roots]))


CUSTOMER_FIELDS = [
    strawberry.field(resolver=resolve_orders, name="orders", description="The customer's orders, latest first; null with a FORBIDDEN error for technicians."),
]


# -- writes --------------------------------------------------------------------------------------
async def _write_lines(session: AsyncSession, order: models.Order, drafts: Sequence[LineDraft]) -> None:
    totals = check_totals(drafts, currency_exponent(order.currency), "input", "lines")
    await session.execute(delete(models.OrderLine).where(models.OrderLine.order_id == order.id))
    for position, (draft, net) in enumerate(zip(drafts, totals.lines, strict=True)):
        session.add(models.OrderLine(
            order_id=order.id, position=position, description=draft.description, quantity=draft.quantity, unit=draft.unit,
            unit_price=draft.unit_price, vat_rate=draft.vat_rate, discount=draft.discount, net_amount=net,
        ))  # fmt: skip
    order.net_total, order.tax_total, order.gross_total = totals.net, totals.tax, totals.gross
    await session.flush()


async def _order(session: AsyncSession, global_id: str, *path: str) -> models.Order:
    pk = input_pk(global_id, "Order", *path)
    await lock(session, f"billing-order:{pk}")
    order = await session.scalar(select(models.Order).where(models.Order.id == pk).execution_options(populate_existing=True))
    if order is None:
        raise UserErrors.not_found("No order with this ID.", *path)
    return order


@strawberry.input(description="A new order of a customer.")
class OrderCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    lines: list[BillingLineInput] = strawberry.field(description="The lines (at most 200).")
    ordered_on: dt.date | None = strawberry.field(default=None, description="The day of the order (today when null).")


@strawberry.input(description="Changes to a DRAFT order; null fields stay as they are.")
class OrderUpdateInput:
    id: strawberry.ID = strawberry.field(description="The order's global ID.")
    lines: list[BillingLineInput] | None = strawberry.field(default=None, description="All the lines, replacing the current ones.")
    ordered_on: dt.date | None = strawberry.field(default=None, description="A new date.")


@strawberry.type(description="The outcome of a mutation of an order.")
class OrderPayload:
    order: Order | None = strawberry.field(default=None, description="The order after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why the change was refused, if it was.")


@strawberry.type
class OrderMutations:
    @strawberry.mutation(description="Record a customer's order (admins, managers, members); it gets the next order number.")
    async def order_create(self, info: strawberry.Info, input: Annotated[OrderCreateInput, strawberry.argument(description="The order.")]) -> OrderPayload:
        context: OperationContext = info.context

        async def change() -> OrderPayload:
            access.require_drafter(context)
            day = await documents.today(context)
            session = await context.session()
            customer = await documents.customer_pk(context, session, input.customer_id, "input", "customerId")
            drafts = check_lines(input.lines, "input", "lines")
            series = "billing-order-number"
            await lock(session, series)
            sequence = await next_number(session, series, models.Order.sequence)
            order = models.Order(customer_id=customer, sequence=sequence, number=f"CMD-{sequence:05d}", ordered_on=input.ordered_on or day, status=Status.DRAFT)
            session.add(order)
            await session.flush()
            await _write_lines(session, order, drafts)
            return OrderPayload(order=order_from_row(_Row(order)))

        return await context.mutate(change, OrderPayload)

    @strawberry.mutation(description="Change a DRAFT order's lines or date.")
    async def order_update(self, info: strawberry.Info, input: Annotated[OrderUpdateInput, strawberry.argument(description="What to change.")]) -> OrderPayload:
        context: OperationContext = info.context

        async def change() -> OrderPayload:
            access.require_drafter(context)
            session = await context.session()
            order = await _order(session, input.id, "input", "id")
            if order.status is not Status.DRAFT:
                raise UserErrors.conflict("Only a draft order can be changed.", "input", "id")
            if input.ordered_on is not None:
                order.ordered_on = input.ordered_on
            if input.lines is not None:
                await _write_lines(session, order, check_lines(input.lines, "input", "lines"))
            await session.flush()
            return OrderPayload(order=order_from_row(_Row(order)))

        return await context.mutate(change, OrderPayload)

    @strawberry.mutation(description="Move an order on: DRAFT → CONFIRMED → DELIVERED, or CANCELLED before delivery.")
    async def order_status_set(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's global ID.")],
        status: Annotated[OrderStatus, strawberry.argument(description="The new status.")],
    ) -> OrderPayload:
        context: OperationContext = info.context

        async def change() -> OrderPayload:
            access.require_drafter(context)
            session = await context.session()
            order = await _order(session, id, "id")
            wanted = models.OrderStatus.__members__[status.name]
            if wanted not in NEXT[order.status]:
                raise UserErrors.conflict(f"An order {order.status.name} cannot become {wanted.name}.", "status")
            order.status = wanted
            await session.flush()
            return OrderPayload(order=order_from_row(_Row(order)))

        return await context.mutate(change, OrderPayload)


class _Row:
    """An order entity seen as a row of ``ORDER_COLUMNS``."""

    def __init__(self, order: models.Order) -> None:
        self.id, self.number, self.ordered_on, self.status, self.currency = order.id, order.number, order.ordered_on, order.status, order.currency
        self.net_total, self.tax_total, self.gross_total = order.net_total, order.tax_total, order.gross_total
        self.created_at, self.customer_id = order.created_at, order.customer_id
