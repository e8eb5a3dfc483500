"""FastAPI dependencies: `CurrentUser` (401 on a missing, invalid, expired or revoked token)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.auth.service import active_principal
from gis_api.auth.tokens import keyring, read_token
from gis_api.db.session import ReadSessionDep, SessionDep
from gis_api.errors import AuthenticationError

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal:
    """The caller behind the request's bearer token, re-read from the database (a disabled account,
    a changed role or scope take effect on the next request)."""
    return _principal(request, session, token)


def current_reader(
    request: Request, session: ReadSessionDep, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal:
    """current_user on the request's autocommit session (routes declaring ReadSessionDep use one
    connection for the account and their reads)."""
    return _principal(request, session, token)


def _principal(request: Request, session: Session, token: str | None) -> Principal:
    if not token:
        raise AuthenticationError("not authenticated: send 'Authorization: Bearer <token>'")
    if not token.isascii():  # headers arrive as latin-1: anything else is not one of our tokens
        raise AuthenticationError("malformed token")
    claims = read_token(token, keyring(request.app.state.settings))
    return active_principal(session, claims.user_id, claims.version)


CurrentUser = Annotated[Principal, Depends(current_user)]
CurrentReader = Annotated[Principal, Depends(current_reader)]
