"""POST /auth/token (OAuth2 password flow) and GET /auth/me."""

from typing import Annotated

from fastapi import APIRouter, Form, Request

from gis_api.auth import models as _models  # noqa: F401  (registers app_user, audit_log)
from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.schemas import TokenResponse, UserOut
from gis_api.auth.scope import CONTACT_READERS, HOUSEHOLD_READERS
from gis_api.auth.service import authenticate
from gis_api.auth.tokens import issue_token, signing_secret, token_ttl_s
from gis_api.db.session import SessionDep

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
def me(user: CurrentUser) -> UserOut:
    """Who the token belongs to and what they may see (the map uses this after login)."""
    return UserOut(
        username=user.username,
        role=user.role.value,
        scope_code=user.scope_code,
        scope_level=user.level.value,
        may_read_households=user.role in HOUSEHOLD_READERS,
        may_read_contacts=user.role in CONTACT_READERS,
    )
