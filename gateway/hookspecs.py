"""Every hook a Fiche plugin can implement. The docstrings are the reference documentation.

Implement a hook with ``@fiche.hookimpl`` on a function of the same name in your
plugin's ``hooks`` module; an implementation may accept any subset of the arguments.

Fields a plugin contributes (``register_queries``, ``register_types``,
``register_type_extensions``) are executed breadth-first: each is resolved once for all the
objects at its position in the response. A field of a type that appears in lists should
declare its batch form with :func:`fiche.execution.batched` (parents in, one value per
parent out, usually one ``loader.load_many(keys)``); a per-object resolver still works,
called once per object with its own ``info``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fiche import hookspec

if TYPE_CHECKING:
    from aiodataloader import DataLoader
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.routing import BaseRoute

    from fiche.auth import Identity, Viewer
    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.directory import CustomerAddress, CustomerLocation
    from fiche.interop import AssistantDraft, AssistantRequest, BillableWork, CustomerFacts, Insights, NoteDigest, RouteStop, SalesSummary
    from fiche.nodes import NodeResolver
    from fiche.notifications.kinds import NotificationKind
    from fiche.org_settings import OrganizationSettingSpec
    from fiche.schema import TypeExtension
    from fiche.settings import Settings
    from fiche.storage import FileStorage
    from fiche.timeline import TimelineEntry, TimelineQuery


@hookspec
def register_types() -> Sequence[type]:
    """Strawberry types to put in the schema even when no root field reaches them
    (typically implementations of an interface such as ``Node``)."""


@hookspec
def register_queries() -> Sequence[type]:
    """``@strawberry.type`` classes whose fields are merged into ``Query``.
    A field name used by two plugins is an error when the schema is built."""


@hookspec
def register_mutations() -> Sequence[type]:
    """``@strawberry.type`` classes whose fields are merged into ``Mutation``."""


@hookspec
def register_subscriptions() -> Sequence[type]:
    """``@strawberry.type`` classes whose fields are merged into ``Subscription``."""


@hookspec
def register_type_extensions() -> Sequence[TypeExtension]:
    """Fields to add to a type owned by another plugin, e.g.
    ``TypeExtension("Customer", [notes_field])``. A field whose name the type already has is
    an error; an extension of a type that is not in the schema (its plugin is disabled) is
    skipped."""


@hookspec
def register_loaders(context: OperationContext) -> Mapping[str, DataLoader[Any, Any]]:
    """DataLoaders for one GraphQL operation, by name (``ThingsByKeyLoader`` style).

    A batch resolver (:func:`fiche.execution.batched`) calls ``load_many`` once with the
    keys of every parent at its position; :func:`fiche.execution.load_optional` does the
    same for nullable keys (``load(None)`` raises).

    :param context: the operation's context; loaders close over it to reach the database
        (``context.read()``) and the viewer. Called at most once per operation, lazily.
    """


@hookspec
def register_node_types() -> Mapping[str, NodeResolver]:
    """What ``node(id:)`` can resolve: GraphQL type name -> ``async (context, pks) -> objects``.

    The resolver returns one object (or None) per primary key, in order. It must apply every
    rule that hides a row from the viewer: an ID the viewer may not see resolves like a
    missing one."""


@hookspec
def register_subject_types() -> Sequence[str]:
    """GraphQL type names that notes, tasks and documents can be attached to (``Customer``,
    ``Order``, ...). Each must also be a node type, so a subject ID can be checked."""


@hookspec
def customer_subjects() -> Mapping[str, Any] | None:
    """Which of your subject types (``register_subject_types``) belong to a customer, and to
    which one: subject type name -> a SQL ``SELECT`` of two columns, (subject primary key,
    customer primary key), over ALL of them (no filter: the caller adds the customers it
    reads, and the database applies it inside your statement). The notes plugin uses it to
    list a subject's notes and tasks in its customer's timeline (N8); an activity's notes
    then show on the timeline of the activity's customer or branch.

    Example (the interventions plugin)::

        @hookimpl
        def customer_subjects():
            return {
                "Intervention": select(Intervention.id, Intervention.customer_id),
                "Equipment": select(Equipment.id, Equipment.customer_id),
            }"""


@hookspec
def register_notification_kinds() -> Sequence[NotificationKind]:
    """The notification kinds a plugin sends (``MENTION``, ``TASK_ASSIGNED``, ...), with a
    description and whether they are on by default in users' preferences."""


@hookspec
def register_settings() -> Sequence[OrganizationSettingSpec]:
    """Organisation-level settings a plugin reads (e.g. the GPS radius), with their type,
    default and description. Admins change them with ``organizationSettingSet``."""


@hookspec
def register_migrations() -> Sequence[Path]:
    """Alembic version directories of the plugin. Each plugin's migrations form their own
    branch (``branch_labels = ("<plugin>",)``), depending on the branches they need."""


@hookspec
def register_routes(settings: Settings) -> Sequence[BaseRoute]:
    """Extra Starlette routes (e.g. an authenticated file download).

    :param settings: the gateway settings."""


@hookspec(firstresult=True)
def authenticate(token: str, settings: Settings) -> Identity | Awaitable[Identity | None] | None:
    """Who a bearer token identifies, replacing the default JWT check; the first non-None
    answer wins (return None to let the next implementation try). May return an awaitable.

    :param token: the raw token from ``Authorization: Bearer`` or ``connection_init``.
    :param settings: the gateway settings (e.g. ``secret_key``)."""


@hookspec
def seed_demo(demo: DemoContext) -> Awaitable[None] | None:
    """Add demo data to a new demo organisation. Called in plugin registration order, so a
    plugin finds the rows of the plugins registered before it (customers before notes).

    :param demo: the session, organisation, users, teams, requested size and a seeded
        random generator; ``demo.shared`` passes facts between plugins."""


@hookspec
def merge_customers(session: AsyncSession, source_id: int, target_id: int) -> Awaitable[None] | None:
    """Re-point every row of the plugin from customer ``source_id`` (the duplicate) to
    ``target_id`` (the record kept). Runs inside the merge transaction; raise
    ``UserErrors`` to abort the whole merge.

    :param session: the merge transaction's session (tenant-scoped).
    :param source_id: primary key of the duplicate, deleted after the hooks ran.
    :param target_id: primary key of the record kept."""


@hookspec
def customer_deletion_blockers(session: AsyncSession, customer_id: int) -> Awaitable[Sequence[str]] | None:
    """Reasons that forbid deleting a customer (e.g. billing documents exist), or an empty list.

    :param session: the deletion transaction's session.
    :param customer_id: primary key of the customer to delete."""


@hookspec
def customer_deleted(session: AsyncSession, customer_id: int, context: OperationContext) -> Awaitable[None] | None:
    """Remove or detach the plugin's rows of a customer being deleted, in the same transaction.

    :param session: the deletion transaction's session.
    :param customer_id: primary key of the deleted customer.
    :param context: the operation, e.g. to remove stored files once the deletion commits
        (:func:`fiche.files.remove_after_commit`)."""


@hookspec(firstresult=True)
def customer_branches(session: AsyncSession, customer_ids: Sequence[int]) -> Awaitable[Mapping[int, Sequence[int]]] | None:
    """The branches (direct and indirect) of each customer, for "include branches" options
    (C6). Implemented by the plugin that owns customers; see :mod:`fiche.directory`.

    :param session: a tenant-scoped session.
    :param customer_ids: primary keys of customers."""


@hookspec(firstresult=True)
def customer_locations(session: AsyncSession, customer_ids: Sequence[int]) -> Awaitable[Mapping[int, CustomerLocation]] | None:
    """What other plugins may know of a customer or branch without importing its plugin:
    parent, display name, primary-address coordinates, preferred contact. Missing
    customers are absent from the mapping.

    :param session: a tenant-scoped session.
    :param customer_ids: primary keys of customers or branches."""


@hookspec(firstresult=True)
def customer_addresses(session: AsyncSession, address_ids: Sequence[int]) -> Awaitable[Mapping[int, CustomerAddress]] | None:
    """Addresses by primary key, with the customer (or branch) each belongs to, for plugins
    that place their rows at one of a customer's addresses (an intervention, an equipment)
    without importing the customers plugin: they check that an address given in an input
    is one of THAT customer's. Implemented by the plugin that owns customers; see
    :mod:`fiche.directory`. Missing addresses, and those of other organisations, are
    absent from the mapping. One statement.

    :param session: a tenant-scoped session.
    :param address_ids: primary keys of addresses."""


@hookspec(firstresult=True)
def file_storage(settings: Settings) -> FileStorage | None:
    """The storage of uploaded files; the first answer wins, the default is a local
    directory (``FICHE_UPLOAD_DIR``).

    :param settings: the gateway settings."""


@hookspec
def timeline_entries(
    context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
) -> Awaitable[Sequence[TimelineEntry]] | None:
    """The plugin's part of the customer timeline (G12): for EACH location (customer or
    branch) in ``location_ids``, its newest ``limit`` entries that match ``query`` (date
    range, kinds, team, strictly older than ``query.before``) and that the viewer may see.
    Use :func:`fiche.timeline.latest_per_location` to do it in one statement. Return
    objects of your own types implementing ``TimelineEntry`` (register them in
    ``register_types``), with ``source`` set to a constant tag of your plugin.

    :param context: the operation context (viewer, ``read()`` sessions).
    :param location_ids: customer / branch primary keys.
    :param query: filters and cursor.
    :param limit: how many entries per location at most."""


@hookspec(firstresult=True)
def create_task(
    context: OperationContext,
    body: str,
    assignee_id: int,
    target_id: str | None,
    due_at: dt.datetime | None,
) -> Awaitable[str] | None:
    """Create a task in the operation's write transaction through the plugin that owns
    tasks, so that another plugin (activities' follow-up) need not import it. Returns the
    task's global ID; raises ``UserErrors`` on bad input (notifications included).

    :param context: the operation context (its write session is used).
    :param body: the task's text.
    :param assignee_id: primary key of the user who gets the task.
    :param target_id: global ID of what the task is about (a customer, ...), or None.
    :param due_at: optional due date."""


@hookspec
def notification_visibility(context: OperationContext, object_ids: Sequence[str]) -> Awaitable[Mapping[str, bool]] | Mapping[str, bool] | None:
    """Whether the viewer may STILL see what notifications point at, checked when the inbox
    is read (list, ``node``, replay of the ``notifications`` subscription, and live events
    after the socket's access changed): a user who lost access to a note (role lowered,
    left a team, task reassigned away) must not read it through an older notification.

    Called once per page (or replay batch) with every distinct subject and target ID of it:
    answer in a constant number of statements. Answer only for the IDs of your own types
    (``{global_id: may_see}``) and leave the others out; an ID that an implementation answers
    False for hides every notification pointing at it, an ID nobody answers for is visible.
    A hidden notification keeps its kind, actor, time and read state, but its message is
    replaced and its link, subject and target are null (see docs/architecture.md).

    :param context: the operation; ``context.viewer`` is the reader's CURRENT role and teams.
    :param object_ids: global IDs of the subjects and targets of the notifications read."""


@hookspec(firstresult=True)
def intervention_quote_condition(intervention_id: Any, has_quote: bool, viewer: Viewer) -> Any:
    """A SQL condition on an intervention primary-key column: true for the interventions
    that have a quote linked (``has_quote``) or none (``not has_quote``), as ``viewer`` may
    know them. Answered by the plugin that owns quotes (billing); the interventions plugin
    uses it for its ``hasQuote`` filter, which is in the schema only when some plugin answers
    this hook. To a viewer who may not read quotes (billing: technicians), answer as if no
    intervention had one (``false()`` for ``has_quote``, ``true()`` otherwise): the filter
    must not tell them what the quotes would not.

    An answer (billing)::

        linked = select(Quote.intervention_id).where(Quote.intervention_id.is_not(None))
        return intervention_id.in_(linked) if has_quote else intervention_id.not_in(linked)

    :param intervention_id: the column (a SQLAlchemy ``ColumnElement[int]``) to test.
    :param has_quote: which interventions the condition keeps.
    :param viewer: who filters."""


@hookspec(firstresult=True)
def intervention_customers(session: AsyncSession, intervention_ids: Sequence[int]) -> Awaitable[Mapping[int, int]] | None:
    """The customer of each intervention (``{intervention pk: customer pk}``), for plugins
    that link their rows to interventions (a quote made for an intervention) without
    importing the interventions plugin. Missing interventions, and those of other
    organisations, are absent. One statement.

    :param session: a tenant-scoped session.
    :param intervention_ids: primary keys of interventions."""


@hookspec(firstresult=True)
def billable_work(context: OperationContext, customer_id: int, work_ids: Sequence[int] | None) -> Awaitable[Sequence[BillableWork]] | None:
    """The customer's finished work waiting to be invoiced (interventions flagged "to
    invoice", done, not invoiced yet), oldest first, read in the operation's WRITE session
    and locked against a concurrent invoicing. Answered by the interventions plugin; the
    billing plugin turns it into invoice lines (B4).

    :param context: the operation (``context.session`` is the write transaction).
    :param customer_id: primary key of the customer.
    :param work_ids: only these primary keys (others are ignored), or None for all."""


@hookspec
def work_invoiced(context: OperationContext, work: Sequence[BillableWork], document_id: str) -> Awaitable[None] | None:
    """Mark work returned by ``billable_work`` as invoiced by the document ``document_id``
    (a global ID), in the operation's write transaction: it is no longer billable, and its
    plugin may show the link.

    :param context: the operation (``context.session`` is the write transaction).
    :param work: what was invoiced.
    :param document_id: global ID of the invoice."""


@hookspec
def work_released(context: OperationContext, document_id: str) -> Awaitable[None] | None:
    """The invoice ``document_id`` (a global ID) was deleted while still a draft: the work
    it invoiced (``work_invoiced``) is billable again. Forget the link, in the operation's
    write transaction (the billing plugin calls it when a draft invoice is deleted).

    :param context: the operation (``context.session`` is the write transaction).
    :param document_id: global ID of the deleted invoice."""


@hookspec
def route_stops(context: OperationContext, user_id: int, day: dt.date) -> Awaitable[Sequence[RouteStop]] | None:
    """The plugin's stops for ``user_id`` on ``day`` (in the organisation's time zone), for
    the route planner (A8): activities contribute visits, the interventions plugin its
    appointments. The caller has checked that the viewer may see that user's day; answer
    with what the viewer may see. Constant number of statements.

    :param context: the operation.
    :param user_id: primary key of the user whose day it is.
    :param day: the day."""


@hookspec(firstresult=True)
def customer_sales(context: OperationContext, customer_ids: Sequence[int]) -> Awaitable[Mapping[int, SalesSummary]] | None:
    """Sales figures of each customer (issued invoices, credit notes, payments, open
    quotes), for customer insights (A6). Answered by the billing plugin; customers with no
    billing document may be absent. Only for viewers allowed to read billing documents:
    answer an empty mapping otherwise. Constant number of statements.

    :param context: the operation.
    :param customer_ids: primary keys of customers."""


@hookspec
def subjects_deleted(session: AsyncSession, type_name: str, ids: Sequence[int]) -> Awaitable[None] | None:
    """Objects of a subject type (``register_subject_types``) are being deleted in the
    session's transaction: delete or detach whatever your plugin attached to them (the
    notes plugin deletes their notes and tasks and withdraws the notifications about them).
    Called by the plugin that owns the type, before its rows go. Constant number of
    statements, whatever the number of ids.

    A caller (the activities plugin deleting activities)::

        await context.pm.hook.subjects_deleted(session=session, type_name="Activity", ids=activity_ids)

    :param session: the write session (tenant-scoped) of the deletion.
    :param type_name: the GraphQL type name of the objects (``Activity``, ``Customer``, ...).
    :param ids: their primary keys."""


@hookspec(firstresult=True)
def customer_followers(session: AsyncSession, customer_ids: Sequence[int]) -> Awaitable[Mapping[int, Sequence[int]]] | None:
    """The users who follow each customer (the bell of N3), for plugins that tell followers
    about their own objects (the activities plugin notifies them of a new activity, the
    interventions plugin of an intervention done, each with a notification kind of its own). Answered by the notes plugin, which owns follows;
    customers nobody follows may be absent; deactivated users are left out (``notify``
    then applies each follower's preferences). One statement.

    A caller reads ``await pm.hook.customer_followers(session=session, customer_ids=[42]) or {}``,
    e.g. ``{42: [3, 7]}``.

    :param session: a tenant-scoped session (the operation's write session when notifying).
    :param customer_ids: primary keys of customers (or branches)."""


@hookspec(firstresult=True)
def customer_notes(
    context: OperationContext, customer_ids: Sequence[int], since: dt.datetime, limit: int, subjects: Mapping[str, Any]
) -> Awaitable[Mapping[int, Sequence[NoteDigest]]] | None:
    """The notes and tasks about each customer that the VIEWER may read (N4), for customer
    insights (A6): those written since ``since`` and the open tasks of any age, newest
    first, at most ``limit`` per customer; notes attached to a subject of another plugin
    count for that subject's customer, as ``subjects`` says. Answered by the notes plugin;
    the activities plugin reads it without importing it. Constant number of statements.

    A caller (the activities plugin: its activities' notes are notes about their customer)::

        pairs = select(Activity.id, Activity.location_id).where(Activity.location_id.in_([42]))
        notes = await pm.hook.customer_notes(context=context, customer_ids=[42], since=a_year_ago, limit=200, subjects={"Activity": pairs}) or {}
        # {42: [NoteDigest(global_id="Tm90ZTox", customer_id=42, body="Late delivery again", ...)]}

    :param context: the operation (its viewer decides what is readable).
    :param customer_ids: primary keys of customers (or branches).
    :param since: the oldest creation time of notes to include (open tasks are included whatever their age).
    :param limit: the most notes and tasks per customer.
    :param subjects: subject type name -> a SQL ``SELECT`` of two columns, (subject primary
        key, customer primary key), of the subjects whose notes count for a customer."""


@hookspec(firstresult=True)
def customer_insights(context: OperationContext, facts: CustomerFacts) -> Awaitable[Insights] | None:
    """Customer insights (A6) from the facts gathered for the viewer: key issues, pending
    topics and a short analysis, each item linked to its source. The first answer wins: the
    activities plugin answers with the provider chosen by ``FICHE_AI_PROVIDER`` (``offline``,
    deterministic and in-process; ``openai``, an OpenAI-compatible endpoint with a timeout
    and a fallback to ``offline``); a plugin of yours may answer first (``tryfirst=True``)
    to use another engine. ``facts`` holds only what the viewer may read: never read more.

    Example::

        @hookimpl(tryfirst=True)
        async def customer_insights(context, facts):
            return Insights(key_issues=(), pending_topics=(), analysis=(InsightItem("Quiet month."),), provider="mine")

    :param context: the operation.
    :param facts: the customer's activities, reports, readable notes and sales."""


@hookspec(firstresult=True)
def report_assistant(context: OperationContext, request: AssistantRequest) -> Awaitable[AssistantDraft] | None:
    """The report assistant (A7): values for a report form's fields read from what the user
    said (one answer per question in FORM mode, one free account in DYNAMIC mode), each
    with the span it was read from and a confidence. Fields it cannot fill are left out.
    Chosen like ``customer_insights`` (``FICHE_AI_PROVIDER``); the activities plugin checks
    every value against the form and drops invalid ones; nothing is saved.

    Example::

        @hookimpl(tryfirst=True)
        async def report_assistant(context, request):
            text = request.answers.get("summary", "")
            return AssistantDraft(values=(ExtractedValue("summary", text, "summary", 0, len(text), 1.0),), provider="mine")

    :param context: the operation.
    :param request: the form's fields, the answers and the reference time."""
