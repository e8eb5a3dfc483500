"""GeoReport v2 endpoints under /open311/v2 (JSON and XML by suffix); no login: a public channel.

Errors use the spec's own format ([{"code", "description"}] / <errors>) so Open311 clients can show
them; bad input is 400 as the spec expects. Posting needs the channel's `api_key` and is rate
limited per client address and per key (429 with Retry-After); reading lists public cases only.
Jurisdictions (every district, 6 digits, and every city, 4 digits) come from the database
(gis_api.open311.jurisdictions); a district refuses points outside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from gis_api.auth.links import link_secret
from gis_api.cases import media
from gis_api.db.session import SessionDep
from gis_api.errors import DomainError, InvalidInputError, NotFoundError, TooManyRequestsError, status_for
from gis_api.inputs import clean_text, parse_int
from gis_api.middleware import client_address
from gis_api.open311 import jurisdictions, service
from gis_api.open311.formats import FORMATS, errors, render
from gis_api.open311.keys import channel_of
from gis_api.ratelimit import Limit, take

router = APIRouter(prefix="/open311", tags=["open311"])
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_BODY_BYTES = 64_000
MAX_PHOTOS = 3
SPEC_ERROR = {"description": "the spec's error list: [{code, description}] or <errors>"}
DOCUMENTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/xml": {}}},
    400: SPEC_ERROR,
    404: SPEC_ERROR,
    503: SPEC_ERROR,
}
POST_DOCUMENTED: dict[int | str, dict[str, Any]] = {
    **DOCUMENTED,
    201: {"content": {"application/json": {}, "text/xml": {}}, "description": "created"},
    403: {"description": "api_key missing, unknown or revoked"},
    413: {"description": "request body too large"},
    429: {"description": "rate limit of this address or key; see Retry-After"},
}
PHOTO_DOCUMENTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "the photo"},
    404: {"description": "no such photo attached by the public reporter of a public case"},
}


def _guarded(fmt: str, produce: Callable[[], Response]) -> Response:
    """Run an endpoint body, turning domain errors into the spec's error document."""
    if fmt not in FORMATS:
        return errors("json", 404, f"format {fmt!r} not supported: use .json or .xml")
    try:
        return produce()
    except DomainError as error:
        status = status_for(error)
        answer = errors(fmt, 400 if status == 422 else status, str(error))
        if isinstance(error, TooManyRequestsError):
            answer.headers["Retry-After"] = str(error.retry_after_s)
        return answer
    except DBAPIError as error:
        if error.connection_invalidated:
            return errors(fmt, 503, "database unavailable, retry later")
        raise


def _served(session: Session, jurisdiction_id: str | None) -> jurisdictions.Jurisdiction:
    """The jurisdiction a request names (control characters are a 400 like in any other field)."""
    if jurisdiction_id is not None:
        clean_text(jurisdiction_id, "jurisdiction_id")
    return jurisdictions.resolve(session, jurisdiction_id)


def media_link(request: Request) -> service.MediaLink:
    """Public URLs of reporters' photos (under the configured public base URL, never the Host header)."""
    settings = request.app.state.settings
    return lambda digest: settings.public_link(f"/open311/v2/media/{digest}")


@router.get("/discovery.{fmt}", responses=DOCUMENTED, response_class=Response)
def discovery(
    request: Request, session: SessionDep, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is, which formats it speaks, and the
    jurisdictions served (every district and city)."""
    base = request.app.state.settings.public_link("/open311/v2/")

    def produce() -> Response:
        served = _served(session, jurisdiction_id)
        document = _discovery_document(base, served.contact)
        document["jurisdictions"] = [
            {"jurisdiction_id": item.code, "name": item.name} for item in jurisdictions.jurisdictions(session)
        ]
        return render(fmt, "discovery", "", document)

    return _guarded(fmt, produce)


def _discovery_document(base: str, contact: str) -> dict[str, Any]:
    return {
        "changeset": "2026-11-28T00:00:00+08:00",
        "contact": contact,
        "key_service": "",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base,
                "changeset": "2026-11-28T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


@router.get("/v2/services.{fmt}", responses=DOCUMENTED, response_class=Response)
def services(session: SessionDep, fmt: str, jurisdiction_id: str | None = None) -> Response:
    """Every category a resident may report."""

    def produce() -> Response:
        _served(session, jurisdiction_id)
        return render(fmt, "services", "service", service.services())

    return _guarded(fmt, produce)


@router.get("/v2/services/{code}.{fmt}", responses=DOCUMENTED, response_class=Response)
def service_definition(
    session: SessionDep, code: str, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    def produce() -> Response:
        _served(session, jurisdiction_id)
        return render(fmt, "service_definition", "", service.service_definition(code))

    return _guarded(fmt, produce)


async def _fields(request: Request) -> tuple[dict[str, str], list[bytes]]:
    """POST fields from a form (the spec) or a JSON object (also accepted), and up to MAX_PHOTOS
    photos sent as multipart file fields named `media`."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise InvalidInputError(f"request body larger than {MAX_BODY_BYTES} bytes")
        try:
            parsed: Any = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidInputError(f"malformed JSON body: {error}") from None
        if not isinstance(parsed, dict):
            raise InvalidInputError("the JSON body must be an object of request fields")
        return {str(k): "" if v is None else str(v) for k, v in parsed.items()}, []
    try:
        form = await request.form(max_files=MAX_PHOTOS, max_fields=100)
    except HTTPException as error:  # a malformed multipart body, or more than MAX_PHOTOS files
        raise InvalidInputError(f"malformed form body: {error.detail}") from None
    photos = [
        await value.read(media.MAX_BYTES + 1)
        for key, value in form.multi_items()
        if key == "media" and isinstance(value, UploadFile)
    ]
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if sum(len(value) for value in fields.values()) > MAX_BODY_BYTES:
        raise InvalidInputError(f"request fields larger than {MAX_BODY_BYTES} bytes")
    return fields, photos


def _admit(request: Request, session: Session, api_key: str | None) -> str:
    """Rate limits (per address, then per key) and the key check; the channel's name."""
    settings = request.app.state.settings
    take(
        session,
        Limit("open311-address", settings.open311_per_minute_per_address),
        client_address() or "unknown",
    )
    channel = channel_of(session, api_key)
    take(session, Limit("open311-key", settings.open311_per_minute_per_key), channel)
    return channel


def _store_photos(request: Request, photos: list[bytes]) -> list[str]:
    """Store the reporter's photos (checked by content) and return their references."""
    var_dir = request.app.state.settings.var_dir
    return [media.store(var_dir, service.checked_photo(data)).ref for data in photos]


@router.post("/v2/requests.{fmt}", responses=POST_DOCUMENTED, response_class=Response)
async def create_request(
    request: Request,
    session: SessionDep,
    fmt: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Report a problem with the channel's `api_key`; 201 once committed. Retries (same key, or same
    content today) get the same id. Photos may come as multipart files named `media` (the api_key
    then is a form field like the others). A new report (or a retry with its Idempotency-Key) also
    gets `token`, the secret that lets its reporter rate the handling once it is closed."""
    try:
        fields, photos = await _fields(request)
    except InvalidInputError as error:
        return errors(fmt if fmt in FORMATS else "json", 400, str(error))
    settings = request.app.state.settings

    def produce() -> Response:
        channel = _admit(request, session, fields.pop("api_key", None))
        service.RequestInput.parse(fields)  # validate before storing any photo
        served = _served(session, fields.get("jurisdiction_id"))
        came = service.Submission(served, channel, _store_photos(request, photos))
        case_id, created = service.submit(session, fields, idempotency_key, came)
        session.commit()
        notice = "已受理，请保存编号以便查询" if created else "重复提交：返回原编号"
        answer: dict[str, Any] = {"service_request_id": case_id, "service_notice": notice, "account_id": None}
        if created or idempotency_key:
            answer["token"] = service.report_token(link_secret(settings), case_id)
        return render(fmt, "service_requests", "request", [answer], 201 if created else 200)

    # the database work is synchronous: keep it off the event loop
    return await run_in_threadpool(_guarded, fmt, produce)


@router.get("/v2/requests.{fmt}", responses=DOCUMENTED, response_class=Response)
def list_requests(request: Request, session: SessionDep, fmt: str) -> Response:
    """Public requests of a jurisdiction by id list, service code, status and date span (default the
    last 90 days, max 1000)."""

    def produce() -> Response:
        params = dict(request.query_params)
        query = service.RequestQuery.parse(params)  # control characters in any parameter: 400
        served = _served(session, params.get("jurisdiction_id"))
        found = service.requests(session, replace(query, area=served.code), media_link(request))
        return render(fmt, "service_requests", "request", found)

    return _guarded(fmt, produce)


@router.get("/v2/requests/{request_id}.{fmt}", responses=DOCUMENTED, response_class=Response)
def get_request(
    request: Request, session: SessionDep, request_id: str, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    def produce() -> Response:
        served = _served(session, jurisdiction_id)
        try:
            number = parse_int(request_id, "service_request_id")
        except InvalidInputError:
            raise NotFoundError(f"service_request_id {request_id[:30]!r} not found") from None
        found = service.one_request(session, number, media_link(request), served.code)
        return render(fmt, "service_requests", "request", found)

    return _guarded(fmt, produce)


@router.get("/v2/media/{digest}", responses=PHOTO_DOCUMENTED, response_class=FileResponse)
def public_media(
    request: Request, session: SessionDep, digest: Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
) -> FileResponse:
    """The public copy of a photo the reporter of a public case attached (nothing else is served)."""
    if not service.is_public_media(session, digest):
        raise NotFoundError("media not found")
    path, content_type = media.locate(request.app.state.settings.var_dir, f"media:sha256:{digest}")
    return FileResponse(path, media_type=content_type)
