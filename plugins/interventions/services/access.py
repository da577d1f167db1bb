"""Who may do what with interventions (I1), as plain predicates on the viewer.

- Admins and managers plan: create, change, reschedule, assign, archive, cancel.
- Technicians see only the interventions they are assigned to, and complete them.
- Other members read every intervention of the organisation (the customer record).
- Admins manage intervention types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche.accounts.models import Role
from fiche.errors import UserErrors
from fiche.plugins.interventions import models

if TYPE_CHECKING:
    from fiche.auth import Viewer

__all__ = ["can_complete", "check_can_complete", "check_planner", "is_technician", "visible_condition"]


def is_technician(viewer: Viewer) -> bool:
    return viewer.role is Role.TECHNICIAN


def visible_condition(viewer: Viewer) -> Any | None:
    """The SQL condition on ``interventions`` of what the viewer may see (None: everything)."""
    if not is_technician(viewer):
        return None
    link = models.InterventionTechnician
    return models.Intervention.id.in_(select(link.intervention_id).where(link.user_id == viewer.user_id))


def check_planner(viewer: Viewer) -> None:
    if not viewer.is_manager:
        raise UserErrors.forbidden("Only a manager or an admin can plan interventions.")


def can_complete(viewer: Viewer, technician_ids: set[int]) -> bool:
    """An assigned technician, a manager or an admin."""
    return viewer.is_manager or viewer.user_id in technician_ids


def check_can_complete(viewer: Viewer, technician_ids: set[int]) -> None:
    if not can_complete(viewer, technician_ids):
        raise UserErrors.forbidden("Only a technician assigned to this intervention, a manager or an admin can complete it.")
