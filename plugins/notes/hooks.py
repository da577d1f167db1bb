"""Hook implementations of the notes plugin: its schema, loaders, node types, notification
kinds, timeline part, task creation for other plugins, customer merges and deletions, demo
data and migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fiche import hookimpl
from fiche.notifications import NotificationKind
from fiche.relay import encode_id
from fiche.schema import SUBJECT_TYPES, TypeExtension
from fiche.plugins.notes import demo as demo_data
from fiche.plugins.notes import digest, dispatch, lifecycle, loaders, nodes, timeline, writes
from fiche.plugins.notes.fields import CUSTOMER_FIELDS, SUBJECT_FIELDS, VIEWER_FIELDS
from fiche.plugins.notes.mutations import MUTATIONS
from fiche.plugins.notes.queries import NotesQueries
from fiche.plugins.notes.types import Note, NoteCategory, NoteTimelineEntry, TaskTimelineEntry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.timeline import TimelineQuery

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


@hookimpl
def register_types() -> list[type]:
    return [Note, NoteCategory, NoteTimelineEntry, TaskTimelineEntry]


@hookimpl
def register_queries() -> list[type]:
    return [NotesQueries]


@hookimpl
def register_mutations() -> list[type]:
    return list(MUTATIONS)


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    return [
        TypeExtension(SUBJECT_TYPES, SUBJECT_FIELDS),
        TypeExtension("Customer", CUSTOMER_FIELDS),
        TypeExtension("Viewer", VIEWER_FIELDS),
    ]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, Any]:
    return {
        "notes_by_customer": loaders.NotesByCustomerLoader(context),
        "notes_by_target": loaders.NotesByTargetLoader(context),
        "note_counts_by_target": loaders.NoteCountsByTargetLoader(context),
        "mentions_by_note": loaders.MentionsByNoteLoader(context),
        "categories_by_id": loaders.CategoriesByIdLoader(context),
        "followers_by_customer": loaders.FollowersByCustomerLoader(context),
        "viewer_follows_by_customer": loaders.ViewerFollowsByCustomerLoader(context),
        "tasks_by_assignee": loaders.TasksByAssigneeLoader(context),
    }


@hookimpl
def register_node_types() -> dict[str, Any]:
    # A note the viewer may not read resolves exactly like a missing one.
    return {"Note": nodes.load_notes, "NoteCategory": nodes.load_categories}


@hookimpl
def notification_visibility(context: OperationContext, object_ids: Sequence[str]) -> Any:
    return nodes.notification_visibility(context, object_ids)


@hookimpl
def register_notification_kinds() -> list[NotificationKind]:
    return list(dispatch.KINDS)


@hookimpl
def timeline_entries(context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int) -> Any:
    return timeline.timeline_entries(context, location_ids, query, limit)


@hookimpl
def create_task(context: OperationContext, body: str, assignee_id: int, target_id: str | None, due_at: dt.datetime | None) -> Any:
    async def create() -> str:
        draft = writes.Draft(body=body, target_gid=target_id, is_task=True, assignee=assignee_id, due_at=due_at)
        note = await writes.create_note(context, draft, path=())
        return encode_id("Note", note.id)

    return create()


@hookimpl
def merge_customers(session: AsyncSession, source_id: int, target_id: int) -> Any:
    return lifecycle.merge_customer_rows(session, source_id, target_id)


@hookimpl
def customer_deleted(session: AsyncSession, customer_id: int) -> Any:
    return lifecycle.delete_customer_rows(session, customer_id)


@hookimpl
def subjects_deleted(session: AsyncSession, type_name: str, ids: Sequence[int]) -> Any:
    return lifecycle.delete_subject_notes(session, type_name, ids)


@hookimpl
def customer_followers(session: AsyncSession, customer_ids: Sequence[int]) -> Any:
    return lifecycle.followers_of_customers(session, customer_ids)


@hookimpl
def customer_notes(context: OperationContext, customer_ids: Sequence[int], since: dt.datetime, limit: int, subjects: Mapping[str, Any]) -> Any:
    return digest.customer_notes(context, customer_ids, since, limit, subjects)


@hookimpl
def seed_demo(demo: DemoContext) -> Any:
    return demo_data.seed_demo(demo)


@hookimpl
def register_migrations() -> list[Path]:
    return [MIGRATIONS]
