"""The description of a notification kind a plugin registers."""

from __future__ import annotations

import dataclasses

__all__ = ["NotificationKind"]


@dataclasses.dataclass(frozen=True, slots=True)
class NotificationKind:
    name: str  # e.g. "MENTION"
    description: str
    default_enabled: bool = True
