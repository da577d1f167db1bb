"""The description of a notification kind a plugin registers."""

from __future__ import annotations

import dataclasses

__all__ = ["MAX_NOTIFICATION_KINDS", "NotificationKind"]

# Registered kinds, all plugins together (``notificationPreferences`` lists them whole).
MAX_NOTIFICATION_KINDS = 100


@dataclasses.dataclass(frozen=True, slots=True)
class NotificationKind:
    name: str  # e.g. "MENTION"
    description: str
    default_enabled: bool = True
