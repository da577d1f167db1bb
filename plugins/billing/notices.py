"""Notifications of billing: the author of a quote hears when it is accepted or refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fiche.notifications import NotificationKind, notify
from fiche.relay import encode_id

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.plugins.billing import models

__all__ = ["KINDS", "QUOTE_ACCEPTED", "QUOTE_REFUSED", "quote_decided"]

QUOTE_ACCEPTED = "QUOTE_ACCEPTED"
QUOTE_REFUSED = "QUOTE_REFUSED"

KINDS = (
    NotificationKind(QUOTE_ACCEPTED, "A quote you wrote was accepted by the customer."),
    NotificationKind(QUOTE_REFUSED, "A quote you wrote was refused by the customer."),
)


async def quote_decided(context: OperationContext, quote: models.BillingDocument) -> None:
    """Tell the quote's author (unless they recorded the decision themselves)."""
    from fiche.plugins.billing.models import DocumentStatus

    viewer = context.require_viewer()
    author = quote.created_by_id
    if author is None or author == viewer.user_id:
        return
    accepted = quote.status is DocumentStatus.ACCEPTED
    await notify(
        context,
        [author],
        QUOTE_ACCEPTED if accepted else QUOTE_REFUSED,
        message=f"Quote {quote.number} was {'accepted' if accepted else 'refused'}.",
        subject_id=encode_id("BillingDocument", quote.id),
        target_id=encode_id("Customer", quote.customer_id),
        actor_id=viewer.user_id,
    )
