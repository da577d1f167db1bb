"""Fields billing adds to the interventions plugin's ``Intervention``: ``quotes`` (the quotes
made for it) and ``invoice`` (the document its ``invoiceId`` names). They are in the schema
only with the interventions plugin (a type extension of an absent type is skipped), and
resolvers take ``root`` through protocols, so this module imports no other plugin.

Like every billing read, they show nothing to a viewer who may not read billing (a
technician): ``quotes`` is then empty and ``invoice`` null, as for a missing document, so
that a technician's planning query asking for them still works."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import strawberry

from fiche.execution import batched, load_optional
from fiche.relay import Connection, InvalidID, decode_id, page_size
from fiche.plugins.billing import models
from fiche.plugins.billing.documents import TYPE_NAME
from fiche.plugins.billing.inputs import After, First
from fiche.plugins.billing.loaders import DocumentQuery, PageKey
from fiche.plugins.billing.types import BillingDocument

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["INTERVENTION_FIELDS"]

QUOTES = DocumentQuery(kinds=frozenset({models.DocumentKind.QUOTE}))


class InterventionRoot(Protocol):
    pk: int
    invoice_id: strawberry.ID | None


@batched
async def resolve_quotes(roots: Sequence[InterventionRoot], info: strawberry.Info, first: First = None, after: After = None) -> list[Connection[BillingDocument]]:
    context: OperationContext = info.context
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    loader = context.loaders["billing_quotes_by_intervention"]
    return list(await loader.load_many([PageKey(root.pk, size, after, QUOTES) for root in roots]))


def _document_pk(global_id: str | None) -> int | None:
    if global_id is None:
        return None
    try:
        return decode_id(global_id, TYPE_NAME)[1]
    except InvalidID:
        return None  # not a billing document (work invoiced by another plugin's documents)


@batched
async def resolve_invoice(roots: Sequence[InterventionRoot], info: strawberry.Info) -> list[BillingDocument | None]:
    context: OperationContext = info.context
    return await load_optional(context.loaders["billing_documents_by_id"], [_document_pk(root.invoice_id) for root in roots])


INTERVENTION_FIELDS = [
    strawberry.field(
        resolver=resolve_quotes,
        name="quotes",
        description=(
            "The quotes made for this intervention, latest first, cancelled ones included (their status says so; "
            "the `hasQuote` filter counts only the others). Empty for a viewer who may not read billing (technicians)."
        ),
    ),
    strawberry.field(
        resolver=resolve_invoice,
        name="invoice",
        description="The invoice that billed this work (the document `invoiceId` names); null until invoiced, and for technicians.",
    ),
]
