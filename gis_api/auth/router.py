"""POST /auth/token (OAuth2 password flow) and GET /auth/me."""

from typing import Annotated

from fastapi import APIRouter, Form, Request

from gis_api.auth import models as _models  # noqa: F401  (registers app_user, audit_log)
from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.schemas import TokenResponse, UserOut
from gis_api.auth.scope import HOUSEHOLD_READERS, definitions
from gis_api.auth.service import area_name, authenticate
from gis_api.auth.tokens import issue_token, signing_secret, token_ttl_s
from gis_api.db.session import SessionDep
from gis_api.districts.reads import district_refs

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> TokenResponse:
    """Exchange username and password (form fields) for a signed bearer token."""
    principal = authenticate(session, username, password)
    settings = request.app.state.settings
    ttl_s = token_ttl_s(settings)
    claims = {
        "uid": principal.user_id,
        "sub": principal.username,
        "role": principal.role.value,
        "scope": principal.scope_code,
    }
    token = issue_token(claims, signing_secret(settings), ttl_s)
    return TokenResponse(
        access_token=token,
        expires_in=ttl_s,
        username=principal.username,
        role=principal.role.value,
        scope_code=principal.scope_code,
    )


@router.get("/me")
def me(session: SessionDep, user: CurrentUser) -> UserOut:
    """Who the token belongs to, what they may see and do, their districts, and the role and
    area-code rules (the pages use this after login instead of spelling the rules themselves)."""
    return UserOut(
        username=user.username,
        role=user.role.value,
        scope_code=user.scope_code,
        scope_level=user.level.value,
        scope_name=area_name(session, user.scope_code),
        may_read_households=user.role in HOUSEHOLD_READERS,
        may_work_cases=user.may_work_cases,
        may_operate_cases=user.may_operate_cases,
        may_read_team=user.may_read_team,
        may_activate_plans=user.may_activate_plans,
        may_build_plan_reports=user.may_build_plan_reports,
        districts=district_refs(session, user.district_prefix),
        definitions=definitions(),
    )
