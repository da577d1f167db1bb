"""When a report may be submitted (A4): once the activity has started, and until the
organisation's time limit after its end."""

from __future__ import annotations

import datetime as dt

from fiche.errors import UserErrors

__all__ = ["check_report_time", "report_deadline"]


def report_deadline(ends_at: dt.datetime, limit_hours: int) -> dt.datetime | None:
    """The last moment a report is accepted, or None when the organisation sets no limit."""
    if limit_hours <= 0:
        return None
    return ends_at + dt.timedelta(hours=limit_hours)


def check_report_time(now: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime, limit_hours: int, *path: str) -> None:
    """CONFLICT before the start or after the deadline, with the dates in the message."""
    if now < starts_at:
        raise UserErrors.conflict(
            f"The activity has not started yet: reports are accepted from {starts_at:%Y-%m-%d %H:%M} UTC.", *path
        )
    deadline = report_deadline(ends_at, limit_hours)
    if deadline is not None and now > deadline:
        raise UserErrors.conflict(
            f"Too late for a report: your organisation accepts reports until {limit_hours} hours after the end of "
            f"an activity, and this one's limit passed on {deadline:%Y-%m-%d %H:%M} UTC.",
            *path,
        )
