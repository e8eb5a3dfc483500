"""Grid workers and service-team members with availability and last known position."""

import enum
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_api.db.base import Base


class MemberRole(enum.StrEnum):
    GRID_WORKER = "grid_worker"
    SINKING_CADRE = "sinking_cadre"
    STREET_CADRE = "street_cadre"
    PARTY_MEMBER = "party_member"
    VOLUNTEER = "volunteer"


class Availability(enum.StrEnum):
    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    OFF_DUTY = "off_duty"


class TeamMember(Base):
    """A person who handles cases in a home grid."""

    __tablename__ = "team_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[MemberRole] = mapped_column(
        Enum(MemberRole, name="member_role", values_callable=lambda e: [m.value for m in e])
    )
    home_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"))
    status: Mapped[Availability] = mapped_column(
        Enum(Availability, name="availability", values_callable=lambda e: [m.value for m in e]),
        default=Availability.AVAILABLE,
    )
    last_position: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    office_phone: Mapped[str | None] = mapped_column(String(32))
    """The grid office's work phone (public on the grid's notice board), not a private number."""
    office_phone_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
