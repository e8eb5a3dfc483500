"""Bodies of the residents' endpoints: only what a member of the public may see."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gis_api.inputs import Text

Score = Field(ge=1, le=5)


class GridContact(BaseModel):
    """Who looks after a place: its grid, community, street and district, the grid worker and office
    phone, and the Open311 jurisdiction that reports of the place go to."""

    grid_code: str
    grid_name: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str
    district_code: str
    district_name: str
    jurisdiction_id: str = Field(description="Open311 jurisdiction_id for reports of this place")
    worker_name: str | None
    office_phone: str | None
    office_phone_synthetic: bool = Field(description="a demo number (synthetic), not a real line")
    demo_data: bool = Field(description="the district's areas or households are synthetic demo data")


class RatingIn(BaseModel):
    """A reporter's rating of the handling of their closed report, proven by the report's token."""

    model_config = ConfigDict(extra="forbid")
    token: Text = Field(min_length=1, max_length=100)
    rating: int = Score
    note: Text = Field("", max_length=500)


class RatingOut(BaseModel):
    service_request_id: int
    rating: int


class SurveyContext(BaseModel):
    """What the survey page shows before the questions (no personal data of anyone)."""

    period: str
    grid_name: str
    community_name: str
    worker_name: str | None
    answered: bool
    open: bool = Field(description="false once the period is over: the link has expired")


class SurveyAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    familiarity: int = Score
    trust: int = Score
    satisfaction: int = Score
    note: Text = Field("", max_length=500)


class SurveyAnswerOut(BaseModel):
    period: str
    recorded: bool


class SurveyLink(BaseModel):
    household_id: int
    building_id: int | None
    door_label: str | None
    url: str


class SurveyLinks(BaseModel):
    grid_code: str
    period: str
    items: list[SurveyLink]
