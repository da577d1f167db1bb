"""Who may do what with billing (documented in docs/billing.md).

- read billing information, documents, payments and orders: admins, managers, members
  (sales representatives); technicians see none of it (a document of theirs resolves like a
  missing one);
- draft (create, edit and delete drafts, quotes, credit-note drafts, orders) and send a
  quote, accept or refuse it, set billing information: admins, managers, members;
- issue an invoice or a credit note (give it its legal number), cancel a document, record
  a payment: admins and managers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fiche.accounts.models import Role
from fiche.errors import PublicError, UserErrors
from fiche.plugins.billing.models import DocumentKind

if TYPE_CHECKING:
    from fiche.auth import Viewer
    from fiche.context import OperationContext

__all__ = ["can_read", "require_drafter", "require_issuer", "require_reader", "require_reader_error"]

_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.MEMBER})


def can_read(viewer: Viewer | None) -> bool:
    return viewer is not None and viewer.role in _READERS


def require_reader(context: OperationContext) -> Viewer:
    """The viewer, or a top-level FORBIDDEN error for a field of billing."""
    viewer = context.require_viewer()
    if not can_read(viewer):
        raise PublicError.forbidden("Your role does not give access to billing.")
    return viewer


def require_reader_error(context: OperationContext) -> Viewer:
    viewer = context.require_viewer()
    if not can_read(viewer):
        raise UserErrors.forbidden("Your role does not give access to billing.")
    return viewer


def require_drafter(context: OperationContext) -> Viewer:
    """Admins, managers and members may draft; a FORBIDDEN user error otherwise."""
    return require_reader_error(context)


def require_issuer(context: OperationContext, kind: DocumentKind) -> Viewer:
    """Sending a quote: drafters; issuing an invoice or a credit note: managers and admins."""
    if kind is DocumentKind.QUOTE:
        return require_drafter(context)
    viewer = require_reader_error(context)
    if not viewer.is_manager:
        raise UserErrors.forbidden("Only a manager or an admin can issue invoices and credit notes.")
    return viewer


def require_manager(context: OperationContext, what: str) -> Viewer:
    viewer = require_reader_error(context)
    if not viewer.is_manager:
        raise UserErrors.forbidden(f"Only a manager or an admin can {what}.")
    return viewer
