"""The notification kinds the interventions plugin sends (I1, I7)."""

from __future__ import annotations

from fiche.notifications import NotificationKind

__all__ = ["ASSIGNED", "CANCELLED", "DONE", "KINDS", "RESCHEDULED"]

ASSIGNED = "INTERVENTION_ASSIGNED"
RESCHEDULED = "INTERVENTION_RESCHEDULED"
CANCELLED = "INTERVENTION_CANCELLED"
DONE = "INTERVENTION_DONE"

KINDS = (
    NotificationKind(ASSIGNED, "You were assigned to an intervention."),
    NotificationKind(RESCHEDULED, "The appointment of an intervention you are assigned to moved."),
    NotificationKind(CANCELLED, "The appointment of an intervention you are assigned to was cancelled."),
    NotificationKind(DONE, "An intervention for a customer you follow was completed."),
)
