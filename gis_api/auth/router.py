"""POST /auth/token (OAuth2 password flow), /auth/refresh, /auth/logout and GET /auth/me."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from gis_api.auth import models as _models  # noqa: F401  (registers app_user, audit_log)
from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.login import LoginResult, log_in, log_out, renew
from gis_api.auth.schemas import TokenResponse, UserOut
from gis_api.auth.scope import HOUSEHOLD_READERS, definitions
from gis_api.auth.service import area_name
from gis_api.db.session import SessionDep
from gis_api.districts.reads import district_refs
from gis_api.inputs import Text
from gis_api.middleware import client_address

router = APIRouter(prefix="/auth", tags=["auth"])
REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "wrong credentials, or an expired, revoked or reused refresh token"},
    429: {"description": "too many attempts from this address or for this account; see Retry-After"},
}
RefreshToken = Annotated[Text, Form(min_length=1, max_length=200, description="from the last token response")]


def _answer(request: Request, started: LoginResult) -> TokenResponse:
    settings = request.app.state.settings
    principal = started.principal
    return TokenResponse(
        access_token=started.access_token,
        expires_in=settings.token_ttl_s,
        refresh_token=started.refresh_token,
        refresh_expires_in=settings.refresh_ttl_s,
        username=principal.username,
        role=principal.role.value,
        scope_code=principal.scope_code,
    )


@router.post("/token", responses=REFUSED)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[Text, Form(min_length=1, max_length=64)],
    password: Annotated[Text, Form(min_length=1, max_length=256)],
) -> TokenResponse:
    """Exchange username and password (form fields) for an access token and a refresh token.
    Failed attempts are counted per username and per address: past a few, 429 with Retry-After."""
    settings = request.app.state.settings
    return _answer(request, log_in(session, settings, username, password, client_address()))


@router.post("/refresh", responses=REFUSED)
def refresh(
    request: Request,
    session: SessionDep,
    refresh_token: RefreshToken,
    grant_type: Annotated[Text | None, Form(max_length=32, description="refresh_token (optional)")] = None,
) -> TokenResponse:
    """A new access token for a refresh token; the refresh token is replaced (use the new one)."""
    settings = request.app.state.settings
    return _answer(request, renew(session, settings, refresh_token, client_address()))


@router.post("/logout", status_code=204, response_class=Response)
def logout(session: SessionDep, refresh_token: RefreshToken) -> Response:
    """End this device's login: its refresh token stops working (access tokens expire soon)."""
    log_out(session, refresh_token)
    return Response(status_code=204)


@router.get("/me", responses={401: {"description": "not logged in, or the session was ended"}})
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
        may_read_contacts=user.may_read_contacts,
        may_read_tracks=user.may_read_tracks,
        may_build_plan_reports=user.may_build_plan_reports,
        districts=district_refs(session, user.district_prefix),
        definitions=definitions(),
    )
