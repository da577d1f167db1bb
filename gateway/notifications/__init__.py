"""Notifications core (G11): a persisted inbox per user, preferences per kind, ``notify()``
for plugins, and the ``notifications`` subscription that replays what a client missed."""

from fiche.notifications.kinds import NotificationKind
from fiche.notifications.service import notify, user_topic

__all__ = ["NotificationKind", "notify", "user_topic"]
