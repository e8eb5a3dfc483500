"""Request and response bodies of /cases, /positions, /visits and /assessment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from gis_api.cases.media import check_ref
from gis_api.inputs import Id, Moment, Text
from gis_api.locate.service import Crs

Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
MediaRef = Annotated[Text, Field(min_length=1, max_length=500), AfterValidator(check_ref)]
"""A stored photo (media:sha256:<hex>) or an http(s) URL; javascript:, data: and the like are refused."""
Note = Annotated[Text, Field(max_length=2000)]
MAX_PINGS = 1000


def crs_name(value: Any) -> Any:
    """Accept 'WGS84', ' gcj02 ' and the like; anything else is left for the enum to reject."""
    return value.strip().lower() if isinstance(value, str) else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(Strict):
    """POST /cases: what and where; `crs` names the datum of lon/lat."""

    category_code: Text = Field(min_length=1, max_length=16, description="小类 code such as E0201")
    lon: Longitude
    lat: Latitude
    crs: Crs = Crs.WGS84
    description: Text = Field("", max_length=4000)
    media: list[MediaRef] = Field(default_factory=list, max_length=20)

    _normalise_crs = field_validator("crs", mode="before")(crs_name)


class ActionIn(Strict):
    """POST /cases/{id}/actions/{action}: note, photos, where it happened, extension hours."""

    note: Note = ""
    media: list[MediaRef] = Field(default_factory=list, max_length=20)
    lon: Longitude | None = None
    lat: Latitude | None = None
    crs: Crs = Crs.WGS84
    hours: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="request_extension only")

    _normalise_crs = field_validator("crs", mode="before")(crs_name)

    @model_validator(mode="after")
    def _both_or_neither(self) -> ActionIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat of where it happened, or neither")
        return self


class DispatchIn(Strict):
    note: Note = ""


class ReassignIn(Strict):
    member_id: Id
    note: Note = ""


class VisibilityIn(Strict):
    """POST /cases/{id}/visibility: publish the case on the Open311 feed (true) or withdraw it."""

    public: bool
    note: Note = ""


class RatingIn(Strict):
    """A resident's rating of a closed case (回访满意度), recorded by an operator."""

    rating: int = Field(ge=1, le=5)
    note: Note = ""


class CaseOut(BaseModel):
    id: int
    category_code: str
    category_name: str
    state: str
    stage: str | None
    stage_deadline: datetime | None
    deadline_uncertain: bool
    """The deadline lies past the years the working calendar covers: holidays there are unknown."""
    remaining_s: float | None
    overdue: bool
    supervised: bool
    escalation_level: str
    grid_code: str
    community_code: str
    street_code: str
    lon: float
    lat: float
    source: str
    description: str
    assigned_member_id: int | None
    extensions_granted: int
    rework_count: int
    rating: int | None
    public: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str
    note: str
    media: list[Any]
    details: dict[str, Any]
    lon: float | None
    lat: float | None
    actor_name: str | None = None
    """The team member's name behind a field account (None: show `actor`)."""


class AssignedMember(BaseModel):
    """Who handles a case, by name, with their team role and home grid."""

    id: int
    name: str
    role: str
    home_grid_code: str | None
    home_grid_name: str | None


class CaseDetail(CaseOut):
    """One case with its full timeline, the stored dispatch explanation and what the caller may do."""

    events: list[EventOut]
    dispatch_explanation: dict[str, Any] | None
    allowed_actions: list[str]
    assigned_member: AssignedMember | None = None
    area_names: dict[str, str] = Field(default_factory=dict)
    """street, community and grid names of the case's codes."""
    photo_on_dispose: bool = False
    """Its category needs a photo when disposed."""


class CasePage(BaseModel):
    items: list[CaseOut]
    count: int
    next_before_id: int | None


class DispatchOut(BaseModel):
    case: CaseOut
    member_id: int
    explanation: dict[str, Any]


class PingIn(Strict):
    lon: Longitude
    lat: Latitude
    device_time: Moment
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)


class PingBatch(Strict):
    """POST /positions: up to 1,000 fixes, in any order, possibly re-sent."""

    crs: Crs = Crs.WGS84
    pings: list[PingIn] = Field(min_length=1, max_length=MAX_PINGS)

    _normalise_crs = field_validator("crs", mode="before")(crs_name)


class PingReport(BaseModel):
    received: int
    stored: int
    duplicates: int
    last_device_time: datetime | None
    position_changed: bool


class VisitIn(Strict):
    """POST /visits: a check-in at one household of the worker's own grid."""

    household_id: Id
    visited_at: Moment
    note: Note = ""
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    lon: Longitude | None = None
    lat: Latitude | None = None
    crs: Crs = Crs.WGS84

    _normalise_crs = field_validator("crs", mode="before")(crs_name)

    @model_validator(mode="after")
    def _both_or_neither(self) -> VisitIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat of the visit, or neither")
        return self


class VisitOut(BaseModel):
    id: int
    household_id: int
    grid_code: str
    visited_at: datetime
    created: bool


class SurveyIn(Strict):
    """POST /assessment/surveys: one resident's survey answers about their grid worker."""

    household_id: Id
    surveyed_at: Moment
    trust: int = Field(ge=1, le=5)
    satisfaction: int = Field(ge=1, le=5)
    familiarity: int | None = Field(default=None, ge=1, le=5, description="熟悉度: knows the worker")
    note: Note = ""
