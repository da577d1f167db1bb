"""Tables of organisations, users, teams, memberships and organisation settings."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry
from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fiche.db import Base, TenantMixin, UTCDateTime, utcnow

__all__ = ["Organization", "OrganizationSetting", "Role", "Team", "TeamMembership", "User"]


@strawberry.enum(description="What a user may do in their organisation.")
class Role(enum.Enum):
    ADMIN = strawberry.enum_value("admin", description="Manages users, teams, settings and everything else.")
    MANAGER = strawberry.enum_value("manager", description="Leads teams; may merge and delete customers and read manager-only notes.")
    MEMBER = strawberry.enum_value("member", description="A sales or office user.")
    TECHNICIAN = strawberry.enum_value("technician", description="A field technician.")


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(TenantMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("organization_id", "handle"),
        UniqueConstraint("organization_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    handle: Mapped[str] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=20), default=Role.MEMBER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Team(TenantMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class TeamMembership(TenantMixin, Base):
    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class OrganizationSetting(TenantMixin, Base):
    """A value of a setting that a plugin registered (``register_settings``)."""

    __tablename__ = "organization_settings"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON)
