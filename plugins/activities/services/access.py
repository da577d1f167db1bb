"""Who may do what with an activity (A2): plain predicates on the viewer.

The rules, documented in docs/activities-rules.md:

- change, delete, check in, or create a follow-up task from an activity: its assignee, its
  creator, a manager or an admin (a colleague's activity is theirs to follow up; anyone can
  still write a task on the customer);
- assign an activity to someone else: a manager or an admin;
- set the team an activity counts for: a team you belong to; managers and admins any team.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fiche.errors import UserErrors

if TYPE_CHECKING:
    from fiche.auth import Viewer

__all__ = ["can_edit", "check_assignee", "check_can_edit", "check_can_follow_up", "check_team"]


def can_edit(viewer: Viewer, *, assignee_id: int | None, created_by_id: int | None) -> bool:
    """The assignee, the creator, or a manager / admin."""
    return viewer.is_manager or viewer.user_id in (assignee_id, created_by_id)


def check_can_edit(viewer: Viewer, *, assignee_id: int | None, created_by_id: int | None) -> None:
    if not can_edit(viewer, assignee_id=assignee_id, created_by_id=created_by_id):
        raise UserErrors.forbidden("Only the assignee, the creator, a manager or an admin can change this activity.")


def check_assignee(viewer: Viewer, assignee_id: int, *path: str) -> None:
    """Anyone may take an activity for themselves; assigning someone else needs a manager."""
    if assignee_id != viewer.user_id and not viewer.is_manager:
        raise UserErrors.forbidden("Only a manager or an admin can assign an activity to someone else.", *path)


def check_can_follow_up(viewer: Viewer, *, assignee_id: int | None, created_by_id: int | None) -> None:
    if not can_edit(viewer, assignee_id=assignee_id, created_by_id=created_by_id):
        raise UserErrors.forbidden(
            "Only the assignee, the creator, a manager or an admin can create a follow-up task from this activity.", "input", "activityId"
        )


def check_team(viewer: Viewer, team_id: int, *path: str) -> None:
    """A team you belong to; managers and admins may set any team."""
    if not viewer.is_manager and team_id not in viewer.team_ids:
        raise UserErrors.forbidden("You can set only a team you belong to (a manager or an admin can set any team).", *path)
