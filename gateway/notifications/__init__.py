"""Notifications core (G11): a persisted inbox per user, preferences per kind, ``notify()``
for plugins, and the ``notifications`` subscription that replays what a client missed."""

from gateway.notifications.kinds import NotificationKind
from gateway.notifications.service import notify, user_topic

__all__ = ["NotificationKind", "notify", "user_topic"]
