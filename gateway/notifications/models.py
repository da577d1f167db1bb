"""Inbox rows, per-user preferences, and the per-user counter that orders a user's inbox.

A user's notifications are numbered 1, 2, 3... (``recipient_seq``) in the order their
transactions commit: the rows ``notify()`` gathers are written right before the commit,
bumping the recipient's :class:`NotificationCounter` row, and the row lock that takes is held
until the transaction ends, so a concurrent writer to the same user waits for this one's
commit before it gets the next number. IDs alone cannot give
that order: two overlapping transactions take IDs 10 and 11 and may commit 11 first.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fiche.db import Base, TenantMixin, UTCDateTime, utcnow

__all__ = ["Notification", "NotificationCounter", "NotificationPreference"]


class Notification(TenantMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
        UniqueConstraint("recipient_id", "recipient_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # 1, 2, 3... per recipient, in commit order (see the module docstring).
    recipient_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class NotificationPreference(TenantMixin, Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    enabled: Mapped[bool] = mapped_column(Boolean)


class NotificationCounter(TenantMixin, Base):
    """The last ``recipient_seq`` given to a user. Created by the user's first notification."""

    __tablename__ = "notification_counters"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
