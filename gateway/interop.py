"""What plugins tell each other through hooks, as plain values: no plugin imports another.

- :class:`BillableWork`: a piece of finished work another plugin may invoice (the
  interventions plugin answers ``billable_work``; the billing plugin invoices it and calls
  ``work_invoiced``, and ``work_released`` when it deletes that draft invoice).
- :class:`RouteStop`: a place a user must be on a given day (activities' visits, the
  interventions plugin's appointments), for route planning (``route_stops``).
- :class:`SalesSummary`: a customer's sales figures (the billing plugin answers
  ``customer_sales``), for customer insights.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

__all__ = ["BillableWork", "RouteStop", "SalesSummary"]


@dataclasses.dataclass(frozen=True, slots=True)
class BillableWork:
    """One piece of work to invoice: becomes one invoice line."""

    pk: int
    """Primary key of the work in its own plugin (e.g. an intervention)."""
    global_id: str
    """Its global ID, for links from the invoice line."""
    customer_id: int
    """Primary key of the customer the work was done for."""
    label: str
    """The invoice line's text, e.g. ``Intervention 42 — Boiler maintenance``."""
    done_at: dt.datetime | None
    """When the work was finished."""
    hours: Decimal | None = None
    """Time spent, when known (the line's quantity in hours)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RouteStop:
    """A place a user has to be on a day."""

    global_id: str
    """Global ID of what the stop is (an activity, an intervention...)."""
    title: str
    """What the stop is, as shown in the route."""
    customer_id: int | None
    """Primary key of the customer visited, if any."""
    latitude: float | None
    """Where: WGS 84 degrees, None when unknown (the stop is then listed apart)."""
    longitude: float | None
    start: dt.datetime | None
    """The appointment's start (aware), None for a stop that may happen any time."""
    end: dt.datetime | None
    """The appointment's end (aware), None when open."""
    fixed: bool
    """True when the appointment time may not move (the route must arrive in time)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SalesSummary:
    """A customer's sales, in its billing currency."""

    currency: str
    """ISO 4217 code."""
    invoiced_last_12_months: Decimal
    """Total of invoices issued in the last 12 months, minus credit notes, taxes included."""
    outstanding: Decimal
    """What the customer still owes on issued invoices."""
    overdue: Decimal
    """The part of ``outstanding`` past its due date."""
    open_quotes: int
    """Quotes sent and not yet accepted or refused."""
    open_quotes_total: Decimal
    """Their total, taxes included."""
    last_invoice_at: dt.date | None
    """Date of the last issued invoice."""
