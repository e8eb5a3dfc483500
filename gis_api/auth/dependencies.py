"""FastAPI dependencies: `CurrentUser` (401 on a missing, invalid or expired token)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from gis_api.auth.scope import Principal
from gis_api.auth.service import active_principal
from gis_api.auth.tokens import read_token, signing_secret
from gis_api.db.session import SessionDep
from gis_api.errors import AuthenticationError

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal:
    """The caller behind the request's bearer token, re-read from the database."""
    if not token:
        raise AuthenticationError("not authenticated: send 'Authorization: Bearer <token>'")
    claims = read_token(token, signing_secret(request.app.state.settings))
    return active_principal(session, claims.user_id)


CurrentUser = Annotated[Principal, Depends(current_user)]
