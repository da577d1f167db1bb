"""Who a note concerns, read in ONE statement: the active users its ``@handle``s name, the
active followers of its customer and any other user asked for (a task's assignee), each
with their role and teams, so that mentions are resolved, checked against the note's
visibility and notified without a read per question.

Before, a note cost a read of the mentioned handles, one of the followers, one of the
users' roles and one of their teams. The statement is built once per shape (which of the
three sources a note has, and the dialect) and kept (:func:`fiche.db.prepared`); it runs
through :func:`fiche.db.read_rows`, so every table it reads carries the organisation
predicate (checked on its first execution).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Select, String, any_, bindparam, false, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from fiche.accounts import models as accounts
from fiche.db import prepared, read_rows
from fiche.plugins.notes import models, services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Audience", "load_audience"]


@dataclasses.dataclass(frozen=True, slots=True)
class Audience:
    """The ACTIVE users a note concerns (others are absent everywhere)."""

    mentions: list[services.ResolvedMention]
    followers: list[int]  # of the note's customer
    access: dict[int, services.UserAccess]  # everyone above, and the extra users asked for


def _listed(dialect: str, column: Any, name: str, item: Any) -> Any:
    """``column`` among the values of parameter ``name``: ONE array parameter on PostgreSQL
    (an expanding IN is rendered anew for each count of values at every execution)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item)))
    return column.in_(bindparam(name, expanding=True))


def _statement(dialect: str, handles: bool, customer: bool, extra: bool) -> Any:
    user, membership, follow = accounts.User, accounts.TeamMembership, models.CustomerFollow
    sources: list[Select[Any]] = []
    if handles:
        sources.append(select(user.id).where(_listed(dialect, user.handle, "handles", String)))
    if customer:
        sources.append(select(follow.user_id).where(follow.customer_id == bindparam("customer")))
    if extra:
        sources.append(select(user.id).where(_listed(dialect, user.id, "extra", Integer)))
    # A union rather than an OR of the three: each source is an index lookup (handle, the
    # customer's follows, primary key), and the users are then read by primary key.
    wanted = union_all(*sources) if len(sources) > 1 else sources[0]
    following = (
        user.id.in_(select(follow.user_id).where(follow.customer_id == bindparam("customer"))) if customer else false()
    )
    return (
        select(user.id, user.handle, user.role, membership.team_id, following.label("follows"))
        .outerjoin(membership, membership.user_id == user.id)
        .where(user.is_active.is_(True), user.id.in_(wanted))
    )


async def load_audience(
    session: AsyncSession, body: str | None, customer_id: int | None = None, extra: Collection[int] = ()
) -> Audience:
    """The mentions of ``body`` (None: no body to scan), the followers of ``customer_id`` and
    the access of every one of them and of ``extra``, all in at most one statement."""
    candidates = services.find_mention_candidates(body) if body else []
    handles = sorted({variant for candidate in candidates for variant in services.handle_variants(candidate.handle)})
    extra_ids = sorted(set(extra))
    if not handles and customer_id is None and not extra_ids:
        return Audience([], [], {})
    dialect = session.bind.dialect.name if session.bind is not None else ""
    shape = ("notes.audience", dialect, bool(handles), customer_id is not None, bool(extra_ids))
    stmt = prepared(shape, lambda: _statement(dialect, bool(handles), customer_id is not None, bool(extra_ids)))
    parameters: dict[str, Any] = {}
    if handles:
        parameters["handles"] = handles
    if customer_id is not None:
        parameters["customer"] = customer_id
    if extra_ids:
        parameters["extra"] = extra_ids
    rows = await read_rows(session, stmt, parameters)
    return _audience(candidates, rows)


def _audience(candidates: Sequence[services.MentionCandidate], rows: Sequence[Any]) -> Audience:
    by_handle: dict[str, int] = {}
    roles: dict[int, accounts.Role] = {}
    teams: dict[int, set[int]] = {}
    followers: set[int] = set()
    for user_id, handle, role, team_id, follows in rows:
        by_handle[handle.lower()] = user_id
        roles[user_id] = role
        user_teams = teams.setdefault(user_id, set())
        if team_id is not None:
            user_teams.add(team_id)
        if follows:
            followers.add(user_id)
    access = {
        user_id: services.UserAccess(
            user_id=user_id,
            is_admin=role is accounts.Role.ADMIN,
            is_manager=role in (accounts.Role.ADMIN, accounts.Role.MANAGER),
            team_ids=frozenset(teams[user_id]),
        )
        for user_id, role in roles.items()
    }
    # A follower or an extra user whose handle happens to look like a candidate is a
    # mention only if the body names them: resolve_mentions looks up candidates only.
    return Audience(services.resolve_mentions(candidates, by_handle), sorted(followers), access)
