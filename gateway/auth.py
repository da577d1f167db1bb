"""Bearer-token authentication and the :class:`Viewer` every resolver acts for.

The default token is a JWT (HS256, ``FICHE_SECRET_KEY``) whose ``sub`` is the user id and
``org`` the organisation id. A plugin can replace the check with the ``authenticate`` hook;
either way the gateway then loads the user and refuses inactive users or a user who is not
in the organisation the token names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import time
from collections.abc import Iterable, Sequence
from typing import Any

import jwt
from sqlalchemy import select

from fiche.accounts import models
from fiche.db import Database, utcnow
from fiche.relay import keyed_rows, parse_pk, valid_pk
from fiche.settings import Settings

__all__ = [
    "Identity",
    "Viewer",
    "authenticate_token",
    "bearer_token",
    "decode_token",
    "identify",
    "issue_token",
    "load_viewer",
    "load_viewers",
    "token_expiry",
]

ALGORITHM = "HS256"


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """Who a valid token says the caller is."""

    user_id: int
    organization_id: int
    # When the token stops being valid, if the ``authenticate`` implementation knows; for
    # the default JWT the gateway reads ``exp`` itself (:func:`token_expiry`). Open
    # WebSockets are closed at that moment.
    expires_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated user a request or WebSocket connection acts for."""

    user_id: int
    organization_id: int
    role: models.Role
    name: str
    handle: str
    team_ids: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return self.role is models.Role.ADMIN

    @property
    def is_manager(self) -> bool:
        """Managers and admins: the roles that may merge, delete and see manager-only notes."""
        return self.role in (models.Role.ADMIN, models.Role.MANAGER)

    def has_role(self, *roles: models.Role) -> bool:
        return self.role in roles


def issue_token(settings: Settings, user_id: int, organization_id: int, *, ttl: int | None = None) -> str:
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "org": organization_id,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(seconds=ttl or settings.token_ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


# Tokens found valid, by (secret, token): every request of a client carries the same token,
# and checking its signature and claims costs ~0.3 ms of CPU. An entry answers only until
# the token's ``exp`` (what PyJWT checks: valid while now < exp; ``iat`` and ``nbf`` only
# ever pass once they have), and only for the secret that signed it. Who the token names
# is still loaded, active and of its organisation, by every request (load_viewers): a
# deactivated user is refused however their token was checked.
_DECODED: dict[tuple[str, str], tuple[Identity, float]] = {}
_DECODED_MAX = 4096


def decode_token(settings: Settings, token: str) -> Identity | None:
    """The default ``authenticate`` implementation: a valid, unexpired JWT or None."""
    key = (settings.secret_key, token)
    known = _DECODED.get(key)
    if known is not None:
        identity, expires = known
        if time.time() < expires:
            return identity
        _DECODED.pop(key, None)
        return None
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError:
        return None
    # Signed by us, yet only ids that can be keys identify anyone: an out-of-range one
    # would otherwise reach the database (and fail there) instead of answering 401.
    user_id = parse_pk(claims["sub"]) if isinstance(claims.get("sub"), str) else None
    organization_id = claims.get("org")
    if user_id is None or not valid_pk(organization_id):
        return None
    identity = Identity(user_id=user_id, organization_id=organization_id)
    if len(_DECODED) >= _DECODED_MAX:
        del _DECODED[next(iter(_DECODED))]  # the oldest entry
    _DECODED[key] = (identity, float(claims["exp"]))  # an integer: PyJWT checked it
    return identity


def token_expiry(settings: Settings, token: str) -> dt.datetime | None:
    """When a valid default JWT expires; None for any other token (a plugin's).

    A token :func:`decode_token` just found valid is not decoded again (a WebSocket's
    ``connection_init`` asks both)."""
    known = _DECODED.get((settings.secret_key, token))
    if known is not None and time.time() < known[1]:
        return dt.datetime.fromtimestamp(int(known[1]), dt.UTC)
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], options={"require": ["exp"]})
        return dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def bearer_token(value: Any) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, else None."""
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_VIEWER_WIDTH = 6


def _viewers(users: Any, settings: Sequence[str]) -> Any:
    # Kept once built (fiche.relay.keyed_rows): every request loads its viewer with it.
    setting = models.OrganizationSetting
    stored = [select(setting.value).where(setting.key == key).scalar_subquery().label(f"setting_{index}") for index, key in enumerate(settings)]
    return (
        select(models.User.id, models.User.role, models.User.name, models.User.handle, models.User.is_active, models.TeamMembership.team_id, *stored)
        .outerjoin(models.TeamMembership, models.TeamMembership.user_id == models.User.id)
        .where(users)
    )


async def load_viewer(db: Database, identity: Identity) -> Viewer | None:
    """The active user a token names, with their teams, in one statement."""
    return (await load_viewers(db, identity.organization_id, [identity.user_id])).get(identity.user_id)


async def load_viewers(
    db: Database, organization_id: int, user_ids: Iterable[int], *, settings: Sequence[str] = (), found: dict[str, Any] | None = None
) -> dict[int, Viewer]:
    """The current state of the ACTIVE users among ``user_ids`` of the organisation, with
    their teams, in one statement; deactivated, deleted and foreign users are absent.

    ``settings`` names organisation settings read by the same statement (their stored
    values, None when never set, go into ``found``): a request then reads its viewer and
    the settings every page needs (the time zone) in one round trip."""
    # An ``authenticate`` plugin may name ids no key can hold: nobody, not a database error.
    wanted = sorted(user_id for user_id in set(user_ids) if valid_pk(user_id))
    if not wanted or not valid_pk(organization_id):
        return {}
    keys = tuple(settings)
    async with db.reader(organization_id) as session:
        rows = await keyed_rows(session, models.User.id, wanted, lambda users: _viewers(users, keys), shape=("viewers", keys))
    if found is not None and rows:
        found.update(zip(keys, rows[0][_VIEWER_WIDTH:]))
    teams: dict[int, set[int]] = {}
    for row in rows:
        members = teams.setdefault(row.id, set())
        if row.team_id is not None:
            members.add(row.team_id)
    users = {row.id: row for row in rows}
    return {
        user.id: Viewer(
            user_id=user.id,
            organization_id=organization_id,
            role=user.role,
            name=user.name,
            handle=user.handle,
            team_ids=frozenset(teams[user.id]),
        )
        for user in users.values()
        if user.is_active
    }


async def _identify(pm: Any, settings: Settings, token: str) -> Identity | None:
    """The first non-None answer of the ``authenticate`` implementations, in hook order.

    pluggy's own ``firstresult`` stops at the first non-None return value, and a coroutine
    is one even when it will resolve to None: an async plugin that declines a token would
    then hide every implementation after it (the default JWT check included). So each
    answer is awaited before deciding whether to ask the next implementation."""
    arguments = {"token": token, "settings": settings}
    # get_hookimpls() lists implementations in reverse call order (tryfirst last).
    for impl in reversed(pm.hook.authenticate.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        identity = impl.function(*(arguments[name] for name in impl.argnames))
        if inspect.isawaitable(identity):
            identity = await identity
        if identity is not None:
            return identity
    return None


async def identify(pm: Any, settings: Settings, token: str | None) -> Identity | None:
    """Who ``token`` identifies (the ``authenticate`` hook, first answer wins), with its
    expiry filled in from the default JWT when the implementation did not give one."""
    if not token:
        return None
    identity = await _identify(pm, settings, token)
    if identity is None or identity.expires_at is not None:
        return identity
    return dataclasses.replace(identity, expires_at=token_expiry(settings, token))


async def authenticate_token(
    pm: Any, settings: Settings, db: Database, token: str | None, *, preload: Sequence[str] = (), found: dict[str, Any] | None = None
) -> Viewer | None:
    """Run the ``authenticate`` hook (first answer wins) and load the viewer it names
    (with the organisation settings ``preload`` names, into ``found``: see :func:`load_viewers`)."""
    if not token:
        return None
    identity = await _identify(pm, settings, token)
    if identity is None:
        return None
    return (await load_viewers(db, identity.organization_id, [identity.user_id], settings=preload, found=found)).get(identity.user_id)
