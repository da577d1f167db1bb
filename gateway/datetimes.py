"""Client-given date-times: one check for every argument, filter, input and cursor.

A date-time without a time zone means a different instant on every server, and one whose
UTC equivalent falls outside years 1-9999 (``0001-01-01T00:00:00+01:00``) cannot be
stored or compared: both are the client's mistake, answered as such before any database
sees them."""

from __future__ import annotations

import datetime as dt

from fiche.errors import PublicError

__all__ = ["instant_problem", "require_instant", "shifted"]


def instant_problem(value: dt.datetime) -> str | None:
    """What is wrong with ``value`` as an instant (a sentence fragment), or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "needs a time zone (e.g. `2026-05-04T09:30:00Z`)"
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        return "is out of range"
    return None


def require_instant(value: dt.datetime | None, name: str) -> dt.datetime | None:
    """``value`` in UTC (None stays None); a ``BAD_USER_INPUT`` error naming the argument
    ``name`` otherwise."""
    if value is None:
        return None
    problem = instant_problem(value)
    if problem is not None:
        raise PublicError.bad_request(f"`{name}` {problem}.")
    return value.astimezone(dt.UTC)


def shifted(value: dt.datetime, delta: dt.timedelta) -> dt.datetime | None:
    """``value + delta``, or None when that falls outside the representable years."""
    try:
        return value + delta
    except OverflowError:
        return None
