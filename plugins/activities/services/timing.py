"""Start and end of an activity (A2), with the quick entry of the product: "starts now",
"ends now" and duration presets."""

from __future__ import annotations

import dataclasses
import datetime as dt

from fiche.datetimes import instant_problem, shifted
from fiche.errors import ErrorCode, UserError, UserErrors

__all__ = ["DURATION_PRESETS", "TimeEntry", "resolve_times"]

DURATION_PRESETS = (15, 30, 45, 60)


@dataclasses.dataclass(frozen=True, slots=True)
class TimeEntry:
    """What the client sent; at most one way of giving each end."""

    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    starts_now: bool = False
    ends_now: bool = False
    duration_minutes: int | None = None

    @property
    def touches_start(self) -> bool:
        return self.starts_at is not None or self.starts_now

    @property
    def touches_end(self) -> bool:
        return self.ends_at is not None or self.ends_now or self.duration_minutes is not None


def _end_after(start: dt.datetime, duration: dt.timedelta, *path: str) -> dt.datetime:
    """``start + duration``; INVALID at ``path`` when that passes the last representable
    instant (an activity starting on 31 December 9999)."""
    end = shifted(start, duration)
    if end is None or instant_problem(end) is not None:
        raise UserErrors.invalid("The activity would end after the last representable date-time.", *path)
    return end


def _error(message: str, *path: str) -> UserError:
    return UserError(code=ErrorCode.INVALID, message=message, path=list(path))


def resolve_times(
    entry: TimeEntry,
    *,
    now: dt.datetime,
    current: tuple[dt.datetime, dt.datetime] | None = None,
    path: tuple[str, ...] = ("input",),
) -> tuple[dt.datetime, dt.datetime]:
    """The activity's ``(start, end)``.

    ``current`` is the stored pair when updating (None when creating). A start is required
    on creation; without any end the activity ends when it starts. A duration counts from
    the (new or current) start. Moving the start of an existing activity without touching
    its end keeps its duration. The end may not be before the start."""
    errors: list[UserError] = []
    if entry.starts_at is not None and entry.starts_now:
        errors.append(_error("Give either `startsAt` or `startsNow`, not both.", *path, "startsNow"))
    ends_given = [name for name, given in (
        ("endsAt", entry.ends_at is not None),
        ("endsNow", entry.ends_now),
        ("durationMinutes", entry.duration_minutes is not None),
    ) if given]
    if len(ends_given) > 1:
        errors.append(_error(f"Give only one of {', '.join(f'`{name}`' for name in ends_given)}.", *path, ends_given[-1]))
    if entry.duration_minutes is not None and entry.duration_minutes not in DURATION_PRESETS:
        errors.append(_error("The duration is 15, 30, 45 or 60 minutes.", *path, "durationMinutes"))
    for name, value in (("startsAt", entry.starts_at), ("endsAt", entry.ends_at)):
        problem = instant_problem(value) if value is not None else None
        if problem is not None:
            errors.append(_error(f"This date-time {problem}.", *path, name))
    if errors:
        raise UserErrors(errors)

    if entry.starts_now:
        start = now
    elif entry.starts_at is not None:
        start = entry.starts_at
    elif current is not None:
        start = current[0]
    else:
        raise UserErrors.invalid("An activity needs a start: give `startsAt` or `startsNow`.", *path, "startsAt")

    if entry.ends_now:
        end = now
    elif entry.ends_at is not None:
        end = entry.ends_at
    elif entry.duration_minutes is not None:
        end = _end_after(start, dt.timedelta(minutes=entry.duration_minutes), *path, "durationMinutes")
    elif current is not None:
        end = _end_after(start, current[1] - current[0], *path, "startsAt")
    else:
        end = start
    if end < start:
        field = "endsNow" if entry.ends_now else "endsAt"
        raise UserErrors.invalid("The end of an activity cannot be before its start.", *path, field)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
