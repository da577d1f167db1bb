"""Fields billing adds to ``Customer``: ``billingDocuments`` and ``billingInformation``.
Resolvers take ``root`` through a protocol, so this module imports no other plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry

from fiche.execution import batched
from fiche.relay import Connection, page_size
from fiche.plugins.billing import access
from fiche.plugins.billing.inputs import After, BillingDocumentFilter, First, document_query
from fiche.plugins.billing.loaders import PageKey
from fiche.plugins.billing.types import BillingDocument, BillingInformation

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["CUSTOMER_FIELDS"]


class HasPk(Protocol):
    pk: int


DocumentsFilter = Annotated[BillingDocumentFilter | None, strawberry.argument(description="Which documents; all when null.")]


@batched
async def resolve_billing_documents(
    roots: Sequence[HasPk], info: strawberry.Info, filter: DocumentsFilter = None, first: First = None, after: After = None
) -> list[Connection[BillingDocument] | None]:
    context: OperationContext = info.context
    access.require_reader(context)
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    query = document_query(filter)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        return [Connection.empty() for _ in roots]
    loader = context.loaders["billing_documents_by_customer"]
    return list(await loader.load_many([PageKey(root.pk, size, after, query) for root in roots]))


@batched
async def resolve_billing_information(roots: Sequence[HasPk], info: strawberry.Info) -> list[BillingInformation | None]:
    context: OperationContext = info.context
    access.require_reader(context)
    return list(await context.loaders["billing_profiles_by_customer"].load_many([root.pk for root in roots]))


CUSTOMER_FIELDS = [
    strawberry.field(
        resolver=resolve_billing_documents,
        name="billingDocuments",
        description="The customer's quotes, invoices and credit notes, latest first; null with a FORBIDDEN error for technicians.",
    ),
    strawberry.field(
        resolver=resolve_billing_information,
        name="billingInformation",
        description="The customer's billing information; null until set (not for technicians).",
    ),
]
