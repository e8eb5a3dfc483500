"""Request and response bodies of /members."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from gis_api.members.models import Availability


class AvailabilityIn(BaseModel):
    """POST /members/me/availability: the unit's availability (separate from any case's progress)."""

    model_config = ConfigDict(extra="forbid")
    status: Availability


class MemberOut(BaseModel):
    """A team member on the map: last known position (None before the first fix) and availability."""

    id: int
    name: str
    role: str
    status: str
    home_grid_code: str | None
    lon: float | None
    lat: float | None
    last_seen_at: datetime | None


class MemberPage(BaseModel):
    items: list[MemberOut]
    count: int
    scope: str


class TrackPoint(BaseModel):
    t: datetime
    lon: float
    lat: float
    accuracy_m: float | None


class Track(BaseModel):
    """A member's GPS fixes of one local day (device time order), for play-back on the map."""

    member_id: int
    name: str
    date: date
    timezone: str
    points: list[TrackPoint]
    truncated: bool
