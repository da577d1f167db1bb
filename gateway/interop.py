"""What plugins tell each other through hooks, as plain values: no plugin imports another.

- :class:`BillableWork`: a piece of finished work another plugin may invoice (the
  interventions plugin answers ``billable_work``; the billing plugin invoices it and calls
  ``work_invoiced``, and ``work_released`` when it deletes that draft invoice).
- :class:`RouteStop`: a place a user must be on a given day (activities' visits, the
  interventions plugin's appointments), for route planning (``route_stops``).
- :class:`SalesSummary`: a customer's sales figures (the billing plugin answers
  ``customer_sales``), for customer insights.
- :class:`NoteDigest`: a note or task about a customer as its reader may see it (the notes
  plugin answers ``customer_notes``), for customer insights.
- :class:`CustomerFacts` -> :class:`Insights`: what an insights provider is given and
  answers (``customer_insights``, A6).
- :class:`AssistantRequest` -> :class:`AssistantDraft`: what a report assistant is given and
  answers (``report_assistant``, A7).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "ActivityFact",
    "AssistantDraft",
    "AssistantField",
    "AssistantRequest",
    "BillableWork",
    "CustomerFacts",
    "ExtractedValue",
    "InsightItem",
    "Insights",
    "NoteDigest",
    "ReportFact",
    "RouteStop",
    "SalesSummary",
]


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


@dataclasses.dataclass(frozen=True, slots=True)
class NoteDigest:
    """A note or a task about a customer, that the viewer may read."""

    global_id: str
    """Its global ID (a ``Note``), for links."""
    customer_id: int
    """Primary key of the customer (or branch) it is about."""
    body: str
    """Its text (plain text)."""
    created_at: dt.datetime
    """When it was written."""
    author_id: int | None
    """Who wrote it."""
    is_task: bool
    """A task (with an assignee, a due date, a completion) rather than a note."""
    assignee_id: int | None = None
    due_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    unanswered_mentions: tuple[int, ...] = ()
    """Users it mentions who have written nothing about the customer since."""


@dataclasses.dataclass(frozen=True, slots=True)
class ActivityFact:
    """An activity with a customer, past or planned."""

    global_id: str
    type_name: str
    starts_at: dt.datetime
    assignee_name: str | None
    description: str
    """Its notes as plain text ("" when none)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReportFact:
    """A submitted report: its answers with the questions they answer."""

    global_id: str
    activity_id: str
    """Global ID of the activity reported on."""
    form_name: str
    submitted_at: dt.datetime
    answers: tuple[tuple[str, str, Any], ...]
    """``(label, field type, value)`` per answered field, in the form's order; types are
    ``TEXT``, ``NUMBER``, ``BOOLEAN``, ``CHOICE``, ``DATE``, ``RATING`` (1 to 5)."""


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerFacts:
    """Everything an insights provider may use about one customer, already limited to what
    the viewer may read (a provider never reads the database itself)."""

    customer_id: int
    customer_name: str
    now: dt.datetime
    activities: tuple[ActivityFact, ...]
    """The last year's activities and the planned ones, newest first."""
    reports: tuple[ReportFact, ...]
    """The last year's reports, newest first."""
    notes: tuple[NoteDigest, ...]
    """The last year's notes and the open tasks the viewer may read, newest first."""
    sales: SalesSummary | None
    """Sales figures, when a plugin answers ``customer_sales``."""
    user_names: Mapping[int, str]
    """Names of the users the notes refer to (authors, assignees, mentioned)."""


@dataclasses.dataclass(frozen=True, slots=True)
class InsightItem:
    """One finding, linked to what it comes from."""

    text: str
    source_id: str | None = None
    """Global ID of the note, task, report or activity it is drawn from (None for figures of another plugin)."""
    occurred_at: dt.datetime | None = None
    category: str | None = None
    """A short label (``delivery``, ``payment``, ``overdue task``, ``trend``...)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Insights:
    key_issues: tuple[InsightItem, ...]
    """Problems and concerns raised in recent reports and notes, newest first."""
    pending_topics: tuple[InsightItem, ...]
    """Open tasks (overdue first), unanswered mentions."""
    analysis: tuple[InsightItem, ...]
    """A few sentences: activity trend, last contact, next planned, sales."""
    provider: str
    """Who wrote them (``offline``, ``openai:<model>``, ...)."""


@dataclasses.dataclass(frozen=True, slots=True)
class AssistantField:
    """A report form field to fill."""

    key: str
    label: str
    type: str
    """``TEXT``, ``NUMBER``, ``BOOLEAN``, ``CHOICE``, ``DATE`` or ``RATING``."""
    required: bool
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AssistantRequest:
    """What the user said, to turn into a draft report."""

    fields: tuple[AssistantField, ...]
    answers: Mapping[str, str]
    """FORM mode: the answer to each field's question, by field key. DYNAMIC mode: one
    free account under the key ``""``."""
    reference: dt.datetime
    """The activity's start, aware in the organisation's zone: "demain" / "next Tuesday" are relative to it."""


@dataclasses.dataclass(frozen=True, slots=True)
class ExtractedValue:
    key: str
    """The field filled."""
    value: Any
    """A value valid for the field's type (a number, a bool, one of the choices, ``YYYY-MM-DD``, 1-5, a text)."""
    answer_key: str
    """Which answer it was read from (a field key in FORM mode, ``""`` in DYNAMIC mode)."""
    start: int
    end: int
    """The span of that answer it was read from (Python string indexes, end exclusive)."""
    confidence: float
    """From 0 to 1."""


@dataclasses.dataclass(frozen=True, slots=True)
class AssistantDraft:
    values: tuple[ExtractedValue, ...]
    provider: str
