"""Customer events (created, updated, archived, merged, ...) recorded for the timeline."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fiche.plugins.customers import models

__all__ = ["record_event"]


def record_event(session: AsyncSession, customer_id: int, kind: models.EventKind, details: str | None = None) -> models.CustomerEvent:
    """Add an event by the session's user, written with the caller's transaction."""
    event = models.CustomerEvent(customer_id=customer_id, kind=kind, actor_id=session.info.get("user_id"), details=details)
    session.add(event)
    return event
