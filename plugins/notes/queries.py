"""Root queries: ``notes`` (general notes, yours, those mentioning you, ...),
``noteCategories`` and ``mentionableUsers`` (``@`` autocompletion)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.accounts.types import USER_COLUMNS, User, user_from_row
from fiche.cost import list_size
from fiche.errors import PublicError
from fiche.relay import Connection, InvalidID, decode_id, page_size, paginate
from fiche.text import fold
from fiche.plugins.notes import models, services
from fiche.plugins.notes.inputs import After, First, NoteFilter, NoteScope, note_query
from fiche.plugins.notes.loaders import NEWEST_FIRST, notes_statement
from fiche.plugins.notes.types import CATEGORY_COLUMNS, Note, NoteCategory, NoteVisibility, category_from_row, note_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NotesQueries", "rank_mentionable"]

MENTIONABLE_DEFAULT = 10
MENTIONABLE_MAX = 50


def rank_mentionable(prefix: str, handle: str, name: str) -> int | None:
    """How well a user matches what follows ``@`` (lower is better), None when not at all:
    the handle itself, then a handle prefix, then a prefix of the name or of a word in it
    (case and accents ignored)."""
    wanted = fold(prefix.strip().lstrip("@"))
    if not wanted:
        return 3
    handle = handle.lower()
    if handle == wanted:
        return 0
    if handle.startswith(wanted):
        return 1
    folded = fold(name)
    if folded.startswith(wanted) or any(word.startswith(wanted) for word in folded.split()):
        return 2
    return None


@strawberry.type
class NotesQueries:
    @strawberry.field(
        description="Notes and tasks you may read, newest first: general ones, yours, those mentioning you, or all."
    )
    async def notes(
        self,
        info: strawberry.Info,
        scope: Annotated[
            NoteScope, strawberry.argument(description="Which notes: all, general, yours, or mentioning you.")
        ] = NoteScope.ALL,
        filter: Annotated[
            NoteFilter | None, strawberry.argument(description="Further filters (kind, categories, author).")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Note]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        stmt = notes_statement(context, note_query(filter))
        if scope is NoteScope.GENERAL:
            stmt = stmt.where(models.Note.target_type.is_(None))
        elif scope is NoteScope.MINE:
            stmt = stmt.where(models.Note.author_id == viewer.user_id)
        elif scope is NoteScope.MENTIONING_ME:
            mentioned = select(models.NoteMention.note_id).where(models.NoteMention.user_id == viewer.user_id)
            stmt = stmt.where(models.Note.id.in_(mentioned))
        async with context.read() as session:
            return await paginate(session, stmt, NEWEST_FIRST, first=size, after=after, build=note_from_row)

    @strawberry.field(description="The categories of notes and tasks of your organisation, by name.", metadata=list_size(services.MAX_CATEGORIES))
    async def note_categories(self, info: strawberry.Info) -> list[NoteCategory]:
        context: OperationContext = info.context
        async with context.read() as session:
            rows = (await session.execute(select(*CATEGORY_COLUMNS).order_by(models.NoteCategory.name))).all()
        return [category_from_row(row) for row in rows]

    @strawberry.field(
        description=(
            "Colleagues to suggest while typing `@…`: active users whose handle, name or a word of their name "
            "starts with `prefix` (case and accents ignored), best matches first. Pass the note's visibility "
            "(and team) to suggest only colleagues who could read it."
        ),
        metadata=list_size(MENTIONABLE_MAX, argument="first", default=MENTIONABLE_DEFAULT),
    )
    async def mentionable_users(
        self,
        info: strawberry.Info,
        prefix: Annotated[str, strawberry.argument(description="What follows `@` so far (the `@` itself may be included).")],
        first: Annotated[
            int | None, strawberry.argument(description="How many users to suggest (10 by default, 50 at most).")
        ] = None,
        visibility: Annotated[
            NoteVisibility | None, strawberry.argument(description="The visibility of the note being written.")
        ] = None,
        team_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="With TEAM visibility: the note's team.")
        ] = None,
    ) -> list[User]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        size = page_size(first, default=MENTIONABLE_DEFAULT, maximum=MENTIONABLE_MAX)
        team_pk = None
        if team_id is not None:
            try:
                team_pk = decode_id(team_id, "Team")[1]
            except InvalidID as exc:
                raise PublicError.bad_request(str(exc)) from exc
        async with context.read() as session:
            rows = (
                await session.execute(select(*USER_COLUMNS).where(accounts.User.is_active.is_(True)).order_by(accounts.User.name))
            ).all()
            members: set[int] = set()
            if team_pk is not None:
                members = set(
                    (
                        await session.scalars(
                            select(accounts.TeamMembership.user_id).where(accounts.TeamMembership.team_id == team_pk)
                        )
                    ).all()
                )
        ranked = []
        for row in rows:
            rank = rank_mentionable(prefix, row.handle, row.name)
            if rank is None:
                continue
            if visibility is not None and row.id != viewer.user_id:
                access = services.UserAccess(
                    user_id=row.id,
                    is_admin=row.role is accounts.Role.ADMIN,
                    is_manager=row.role in (accounts.Role.ADMIN, accounts.Role.MANAGER),
                    team_ids=frozenset({team_pk}) if row.id in members and team_pk is not None else frozenset(),
                )
                note = services.NoteAccess(models.Visibility[visibility.name], team_pk, viewer.user_id)
                if not services.can_see(access, note):
                    continue
            ranked.append((rank, fold(row.name), row.id, row))
        ranked.sort(key=lambda item: item[:3])
        return [user_from_row(item[3]) for item in ranked[:size]]
