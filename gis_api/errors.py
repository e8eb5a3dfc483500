"""Domain exceptions and the single table that maps them to HTTP status codes."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError


class DomainError(Exception):
    """Base of every error our services raise on purpose; the message is shown to the caller."""


class NotFoundError(DomainError):
    """The requested object does not exist (or is outside the caller's scope)."""


class InvalidInputError(DomainError):
    """Input that is well-formed JSON/HTTP but semantically wrong (bad CRS, bad geometry...)."""


class OutOfDistrictError(InvalidInputError):
    """A location that falls outside the district or any of its grids."""


class LoadError(InvalidInputError):
    """A data file that cannot be loaded; nothing from it was written."""


class ConflictError(DomainError):
    """The request conflicts with the current state (e.g. an invalid workflow transition)."""


class AuthenticationError(DomainError):
    """Missing or invalid credentials."""


class PermissionDeniedError(DomainError):
    """The caller's role or scope does not allow this."""


class TooManyRequestsError(DomainError):
    """A rate limit or a login lockout: retry after `retry_after_s` seconds (HTTP 429, Retry-After)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, int(retry_after_s))


class ServiceUnavailableError(DomainError):
    """A dependency (the database) is temporarily unavailable."""


STATUS_BY_ERROR: dict[type[Exception], int] = {
    NotFoundError: 404,
    OutOfDistrictError: 422,
    LoadError: 422,
    InvalidInputError: 422,
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    TooManyRequestsError: 429,
    ServiceUnavailableError: 503,
    OperationalError: 503,
}


def status_for(error: Exception) -> int:
    """HTTP status for an exception: the most specific entry of STATUS_BY_ERROR that matches."""
    for error_type in type(error).__mro__:
        if error_type in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_type]
    return 500


async def _domain_error_handler(request: Request, error: Exception) -> JSONResponse:
    status = status_for(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, TooManyRequestsError):
        headers = {"Retry-After": str(error.retry_after_s)}
    # messages may quote the caller's input: drop what JSON cannot carry (lone surrogates)
    detail = str(error).encode("utf-8", "replace").decode() if isinstance(error, DomainError) else ""
    detail = detail or "database unavailable, retry later"
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Register the table above on an application."""
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(OperationalError, _domain_error_handler)
    app.add_exception_handler(DBAPIError, _db_error_handler)


async def _db_error_handler(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)
    raise error


class ErrorOut(BaseModel):
    """Every error body: a message, or (invalid input) a list of what is wrong with which field."""

    detail: str | list[dict[str, Any]]


ERROR_DESCRIPTIONS = {
    400: "malformed request",
    401: "not logged in, or the session was ended",
    403: "the role or area does not allow this",
    404: "not found (or outside the caller's area)",
    409: "conflicts with the current state",
    413: "request body too large",
    422: "invalid input: the message names the field",
    429: "too many requests; retry after the Retry-After seconds",
    503: "database unavailable; retry later",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` documenting these error statuses with the ErrorOut body."""
    return {status: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


EVERY_ROUTE = error_responses(400, 413, 422, 503)
"""What any route may answer: an unparsable body, body limits, input checks, the database away."""
SIGNED_IN = error_responses(401, 403, 404, 409)
"""What routes behind a login may answer besides."""
