"""Request and response bodies of the auth endpoints."""

from typing import Any

from pydantic import BaseModel, Field

from gis_api.districts.schemas import DistrictRef


class TokenResponse(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1) plus who the token belongs to."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    username: str
    role: str
    scope_code: str


class UserOut(BaseModel):
    """Who the caller is, what their scope is called, what they may do, and the rules the pages
    need (so no page re-spells roles or code lengths)."""

    username: str
    role: str
    scope_code: str
    scope_level: str
    scope_name: str = Field(description="the name of the scope's area, e.g. 武汉市 or 中南路街道")
    may_read_households: bool
    may_work_cases: bool
    may_operate_cases: bool
    may_read_team: bool
    may_activate_plans: bool
    may_read_contacts: bool = Field(description="may read and type hotline callers' contact details")
    may_read_tracks: bool = Field(description="may play back the tracks of team members in scope")
    may_build_plan_reports: bool
    districts: list[DistrictRef] = Field(description="the districts the scope touches")
    definitions: dict[str, Any] = Field(description="levels with their code lengths, roles and their rights")
