"""Maintenance recurrences (I5): RFC 5545 RRULEs parsed by python-dateutil, checked, and
expanded only within a bounded period.

A rule is refused unless it is one RRULE (no DTSTART, EXDATE or RDATE: the plan's start
date is the rule's start) at a daily or coarser frequency, without times of day (visits
are days), that occurs at all. Expansion walks the rule from its start (plan dates are in
years 2000-2100) to the end of the period asked (at most :data:`MAX_PERIOD_DAYS`), never
further, and refuses more than :data:`MAX_OCCURRENCES` visits: a rule without an end is
never expanded unbounded, and a hostile one costs a bounded amount of work.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.rrule import DAILY, rrule, rrulestr

from fiche.errors import PublicError, UserErrors

__all__ = ["FIRST_DAY", "LAST_DAY", "MAX_OCCURRENCES", "MAX_PERIOD_DAYS", "MAX_RULE_LENGTH", "RecurrenceError", "check_rule", "is_occurrence", "occurrences", "parse_rule"]

MAX_RULE_LENGTH = 500
MAX_OCCURRENCES = 500  # per request, all plans together
MAX_PERIOD_DAYS = 3 * 366
# Plan dates, and the days whose visits can be listed or scheduled: walking a rule from a
# plan's start never goes further than this.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
_FORBIDDEN = re.compile(r"\b(DTSTART|EXDATE|RDATE|EXRULE|BYHOUR|BYMINUTE|BYSECOND)\b")


class RecurrenceError(ValueError):
    """A rule that cannot be used: the message says why."""


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _body(text: str) -> str:
    body = text.strip()
    return body[len("RRULE:") :] if body.upper().startswith("RRULE:") else body


# The years in which a rule is tried before it is accepted: a rule that never occurs
# (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) would make dateutil scan every day up to year 9999
# (seconds of CPU); tried from here, it gives up after about 30 years of periods.
PROBE_YEAR = 9970
_COUNT_OR_UNTIL = re.compile(r"(^|;)(COUNT|UNTIL)=[^;]*", re.IGNORECASE)


def parse_rule(text: str, starts_on: dt.date) -> rrule:
    """The rule ``text`` (with or without an ``RRULE:`` prefix) starting on ``starts_on``;
    :class:`RecurrenceError` when it is not a usable maintenance recurrence."""
    body = _body(text)
    if not body or len(body) > MAX_RULE_LENGTH or "\n" in body:
        raise RecurrenceError(f"A recurrence is one RRULE of at most {MAX_RULE_LENGTH} characters, e.g. FREQ=MONTHLY;INTERVAL=6.")
    if _FORBIDDEN.search(body.upper()):
        raise RecurrenceError("A recurrence gives days only: no DTSTART, EXDATE, RDATE, EXRULE or times of day (BYHOUR...).")
    try:
        rule = rrulestr(body, dtstart=_start(starts_on))
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
        raise RecurrenceError(f"Not a valid RFC 5545 RRULE ({exc}).") from exc
    if not isinstance(rule, rrule):
        raise RecurrenceError("A recurrence is one RRULE.")
    if rule._freq > DAILY:  # HOURLY, MINUTELY, SECONDLY
        raise RecurrenceError("A maintenance recurrence is daily at most (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY).")
    probe_start = dt.datetime(PROBE_YEAR, starts_on.month, min(starts_on.day, 28))
    try:
        possible = rrulestr(_COUNT_OR_UNTIL.sub("", body).strip(";"), dtstart=probe_start).after(probe_start, inc=True) is not None
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
        raise RecurrenceError(f"Not a valid RFC 5545 RRULE ({exc}).") from exc
    if not possible:
        raise RecurrenceError("This recurrence never occurs (e.g. February 30).")
    return rule


def check_rule(text: str, starts_on: dt.date, *path: str) -> str:
    """``text`` without its ``RRULE:`` prefix, or INVALID at ``path``."""
    try:
        parse_rule(text, starts_on)
    except RecurrenceError as exc:
        raise UserErrors.invalid(str(exc), *path) from exc
    return _body(text)


def occurrences(rule: rrule, start: dt.date, end: dt.date, until: dt.date | None, budget: int) -> list[dt.date]:
    """The rule's days in ``[start, end)`` (and not after ``until``), at most ``budget`` of
    them (a LIMIT_EXCEEDED error of the query beyond). The walk stops at the end of the period: a rule without
    an end is never expanded further."""
    last = end if until is None else min(end, until + dt.timedelta(days=1))
    found: list[dt.date] = []
    for moment in rule:
        day = moment.date()
        if day >= last:
            break
        if day >= start:
            if len(found) == budget:
                raise PublicError(f"More than {MAX_OCCURRENCES} maintenance visits in the period: ask for a shorter one.", "LIMIT_EXCEEDED")
            found.append(day)
    return found


def is_occurrence(rule: rrule, day: dt.date, until: dt.date | None) -> bool:
    """Whether ``day`` is one of the rule's days (not after ``until``)."""
    if until is not None and day > until:
        return False
    return rule.after(_start(day), inc=True) == _start(day)
