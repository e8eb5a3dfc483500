"""Request and response bodies of the auth endpoints."""

from pydantic import BaseModel


class TokenResponse(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1) plus who the token belongs to."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    username: str
    role: str
    scope_code: str


class UserOut(BaseModel):
    username: str
    role: str
    scope_code: str
    scope_level: str
    may_read_households: bool
    may_read_contacts: bool = False
    """May read hotline callers' names and phone numbers (gis_api.auth.scope.CONTACT_READERS)."""
