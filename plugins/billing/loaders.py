"""Per-operation loaders of billing. Each batch is one statement, whatever the number of
parents: a page of 50 customers with their documents, lines and payments costs the same
as a page of 5. Loaders return nothing to a viewer who may not read billing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from sqlalchemy import select

from fiche.relay import Connection, SortKey, paginate_grouped
from fiche.plugins.billing import access, models, profiles
from fiche.plugins.billing.types import (
    DOCUMENT_COLUMNS,
    LINE_COLUMNS,
    PAYMENT_COLUMNS,
    PROFILE_COLUMNS,
    BillingDocument,
    BillingInformation,
    BillingLine,
    Payment,
    document_from_row,
    line_from_row,
    payment_from_row,
    profile_from_row,
)

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "BillingDocumentsByCustomerLoader",
    "BillingDocumentsByIdLoader",
    "BillingLinesByDocumentLoader",
    "BillingPaymentsByDocumentLoader",
    "BillingProfilesByCustomerLoader",
    "BillingQuotesByInterventionLoader",
    "DocumentQuery",
    "PageKey",
    "make_loaders",
]

NEWEST_FIRST = (SortKey(models.BillingDocument.date, descending=True), SortKey(models.BillingDocument.id, descending=True))


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentQuery:
    kinds: frozenset[models.DocumentKind] | None = None
    statuses: frozenset[models.DocumentStatus] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PageKey:
    owner: int
    first: int
    after: str | None
    query: Any = None


class _Loader(DataLoader[Any, Any]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context

    @property
    def allowed(self) -> bool:
        return access.can_read(self.context.viewer)


class BillingDocumentsByIdLoader(_Loader):
    async def batch_load_fn(self, pks: list[int]) -> list[BillingDocument | None]:
        if not self.allowed:
            return [None] * len(pks)
        async with self.context.read() as session:
            rows = (await session.execute(select(*DOCUMENT_COLUMNS).where(models.BillingDocument.id.in_(pks)))).all()
        found = {row.id: document_from_row(row) for row in rows}
        return [found.get(pk) for pk in pks]


class BillingLinesByDocumentLoader(_Loader):
    async def batch_load_fn(self, pks: list[int]) -> list[list[BillingLine]]:
        if not self.allowed:
            return [[] for _ in pks]
        line = models.BillingLine
        async with self.context.read() as session:
            stmt = (
                select(*LINE_COLUMNS)
                .join(models.BillingDocument, models.BillingDocument.id == line.document_id)
                .where(line.document_id.in_(pks))
                .order_by(line.document_id, line.position)
            )
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[BillingLine]] = defaultdict(list)
        for row in rows:
            grouped[row.document_id].append(line_from_row(row))
        return [grouped.get(pk, []) for pk in pks]


class BillingPaymentsByDocumentLoader(_Loader):
    async def batch_load_fn(self, pks: list[int]) -> list[list[Payment]]:
        if not self.allowed:
            return [[] for _ in pks]
        payment = models.Payment
        stmt = (
            select(*PAYMENT_COLUMNS)
            .join(models.BillingDocument, models.BillingDocument.id == payment.document_id)
            .where(payment.document_id.in_(pks))
            .order_by(payment.document_id, payment.paid_on, payment.id)
        )
        async with self.context.read() as session:
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[Payment]] = defaultdict(list)
        for row in rows:
            grouped[row.document_id].append(payment_from_row(row))
        return [grouped.get(pk, []) for pk in pks]


def documents_statement(query: DocumentQuery) -> Any:
    document = models.BillingDocument
    stmt = select(*DOCUMENT_COLUMNS)
    if query.kinds is not None:
        stmt = stmt.where(document.kind.in_(sorted(query.kinds, key=lambda kind: kind.value)))
    if query.statuses is not None:
        stmt = stmt.where(document.status.in_(sorted(query.statuses, key=lambda status: status.value)))
    if query.date_from is not None:
        stmt = stmt.where(document.date >= query.date_from)
    if query.date_to is not None:
        stmt = stmt.where(document.date <= query.date_to)
    return stmt


class _DocumentPagesLoader(_Loader):
    """Pages of documents per owner (the column :meth:`owner_column`): one statement per
    batch of owners sharing arguments."""

    @staticmethod
    def owner_column() -> Any:
        raise NotImplementedError

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Connection[BillingDocument]]:
        if not self.allowed:
            return [Connection.empty() for _ in keys]
        groups: dict[tuple[Any, ...], list[PageKey]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after, key.query)].append(key)
        result: dict[PageKey, Connection[BillingDocument]] = {}
        async with self.context.read() as session:
            for (first, after, query), members in groups.items():
                owners = sorted({key.owner for key in members})
                pages = await paginate_grouped(
                    session,
                    documents_statement(query),
                    self.owner_column(),
                    owners,
                    NEWEST_FIRST,
                    first=first,
                    after=after,
                    build=document_from_row,
                )
                for key in members:
                    result[key] = pages[key.owner]
        return [result[key] for key in keys]


class BillingDocumentsByCustomerLoader(_DocumentPagesLoader):
    """``Customer.billingDocuments``, by customer."""

    @staticmethod
    def owner_column() -> Any:
        return models.BillingDocument.customer_id


class BillingQuotesByInterventionLoader(_DocumentPagesLoader):
    """``Intervention.quotes``, by intervention (the key's query keeps the quotes)."""

    @staticmethod
    def owner_column() -> Any:
        return models.BillingDocument.intervention_id


class BillingProfilesByCustomerLoader(_Loader):
    async def batch_load_fn(self, pks: list[int]) -> list[BillingInformation | None]:
        if not self.allowed:
            return [None] * len(pks)
        async with self.context.read() as session:
            rows = (await session.execute(select(*PROFILE_COLUMNS).where(models.BillingProfile.customer_id.in_(pks)))).all()
            linked = await profiles.linked_addresses(self.context.pm, session, [row.address_id for row in rows if row.address_id is not None])
        found = {row.customer_id: profile_from_row(row, linked) for row in rows}
        return [found.get(pk) for pk in pks]


def make_loaders(context: OperationContext) -> dict[str, DataLoader[Any, Any]]:
    return {
        "billing_documents_by_id": BillingDocumentsByIdLoader(context),
        "billing_lines_by_document": BillingLinesByDocumentLoader(context),
        "billing_payments_by_document": BillingPaymentsByDocumentLoader(context),
        "billing_documents_by_customer": BillingDocumentsByCustomerLoader(context),
        "billing_quotes_by_intervention": BillingQuotesByInterventionLoader(context),
        "billing_profiles_by_customer": BillingProfilesByCustomerLoader(context),
    }


