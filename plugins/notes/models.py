"""Tables of notes and tasks, their mentions, organisation categories and customer follows.

A task is a row of ``notes`` with ``is_task`` set (assignee, due date, completion). A
note's target is stored generically (``target_type`` = GraphQL type name, ``target_id`` =
primary key); ``customer_id`` repeats the target's key when it is a ``Customer`` so that
customer lists and the timeline need no join. There is no foreign key to the customers
plugin's tables: that plugin may be disabled, and its hooks (``merge_customers``,
``customer_deleted``) keep these rows in step.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from fiche.db import AuditMixin, Base, TenantMixin, UTCDateTime, conflict_info, utcnow
from fiche.text import fold

__all__ = ["CustomerFollow", "Note", "NoteCategory", "NoteMention", "Visibility"]


class Visibility(enum.Enum):
    """Who may read a note (the author, an assignee and admins always may)."""

    ORGANIZATION = "organization"
    TEAM = "team"
    MANAGERS = "managers"


class NoteCategory(TenantMixin, AuditMixin, Base):
    __tablename__ = "note_categories"
    # The service refuses names equal ignoring case and accents (and takes turns to check);
    # the database's constraint, on the exact name, is the last wall.
    __table_args__ = (
        UniqueConstraint("organization_id", "name", info=conflict_info("Another category has this name.", "input", "name")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    color: Mapped[str] = mapped_column(String(7))


class Note(TenantMixin, AuditMixin, Base):
    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_notes_target_type_target_id", "target_type", "target_id"),
        Index("ix_notes_assignee_id_completed_at", "assignee_id", "completed_at"),
        Index("ix_notes_author_id_created_at", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    # The body lowercased without accents, so that search matches alike on both databases.
    search_text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("note_categories.id", ondelete="SET NULL"), nullable=True, index=True
    )
    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, name="note_visibility", native_enum=False, length=20), default=Visibility.ORGANIZATION
    )
    # A TEAM note whose team was removed stays visible to its author, assignee and admins only.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)
    target_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    target_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_task: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    @validates("body")
    def _keep_search_text(self, key: str, value: str) -> str:
        self.search_text = fold(value)
        return value


class NoteMention(TenantMixin, Base):
    """One ``@handle`` of a note's body resolved to a user, with its character range."""

    __tablename__ = "note_mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    stop: Mapped[int] = mapped_column(Integer)


class CustomerFollow(TenantMixin, Base):
    """A user's bell on a customer: they are told about new notes written by others."""

    __tablename__ = "customer_follows"
    __table_args__ = (UniqueConstraint("customer_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
