"""Accounts (each with one role and one area scope) and the append-only audit log."""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from gis_api.db.base import Base


class Role(enum.StrEnum):
    """What a user does; together with the scope code it decides what they may read."""

    ADMIN = "admin"
    CITY_OPERATOR = "city_operator"
    DISTRICT_OPERATOR = "district_operator"
    STREET_OPERATOR = "street_operator"
    COMMUNITY_OPERATOR = "community_operator"
    GRID_WORKER = "grid_worker"
    PLANNER = "planner"


class AppUser(Base):
    """A login account; scope_code is an area code (city 4, district 6, street 9, community 12, grid 13+)."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    scope_code: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    team_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("team_member.id", ondelete="SET NULL"), unique=True
    )
    """The field-team member a grid worker's account acts as (pings, visits, own cases)."""
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    """Carried by every token; bumped when the account is disabled, so older tokens stop working."""


class AuditLog(Base):
    """One row per read of personal data (or refused attempt): who, when, what, how many rows."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    scope_code: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    """The address the request came from (None for the command line)."""
