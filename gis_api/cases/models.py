"""Cases (案卷), their append-only event log, field-worker position pings and household visits."""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

# the tables our foreign keys point at must be in the metadata before the first flush
import gis_api.auth.models
import gis_api.households.models
import gis_api.plans.models
import gis_api.teams.models  # noqa: F401
from gis_api.db.base import Base


class Case(Base):
    """A reported problem followed from report to closure; area codes are frozen at registration."""

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(16))
    categories_version: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="reported")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"))
    grid_code: Mapped[str] = mapped_column(String(20))
    community_code: Mapped[str] = mapped_column(String(12))
    street_code: Mapped[str] = mapped_column(String(9))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    reporter: Mapped[str] = mapped_column(String(128), default="")
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_remaining_s: Mapped[float | None] = mapped_column(Float)
    deadline_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    """The deadline was counted past the working calendar's covered years (holidays unknown)."""
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[str] = mapped_column(String(16), default="community")
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_member_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id", ondelete="SET NULL"))
    dispatch_explanation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    extensions_granted: Mapped[int] = mapped_column(SmallInteger, default=0)
    extension_requested_hours: Mapped[float | None] = mapped_column(Float)
    rework_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    suspended_from: Mapped[str | None] = mapped_column(String(16))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    """Published on the Open311 feed: residents' reports by default, others when an operator says so."""


class CaseEvent(Base):
    """One entry of a case's history; the table refuses UPDATE and DELETE (append-only)."""

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))


class PositionPing(Base):
    """A GPS fix from a team member's device; (member, device time) is unique so retries are harmless."""

    __tablename__ = "position_ping"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id", ondelete="CASCADE"))
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))


class Visit(Base):
    """A grid worker's check-in at a household (走访), optionally with the resident's satisfaction."""

    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id", ondelete="CASCADE"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"))
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str] = mapped_column(Text, default="")
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))


__all__ = ["Case", "CaseEvent", "PositionPing", "Visit"]
