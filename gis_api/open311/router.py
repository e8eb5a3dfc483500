"""GeoReport v2 endpoints under /open311/v2 (JSON and XML by suffix); no login: a public channel.

Errors use the spec's own format ([{"code", "description"}] / <errors>) so Open311 clients can show
them; bad input is 400 as the spec expects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from gis_api.auth.links import link_secret
from gis_api.cases import media
from gis_api.db.session import SessionDep
from gis_api.errors import DomainError, InvalidInputError, NotFoundError, status_for
from gis_api.open311 import jurisdictions, service
from gis_api.open311.formats import FORMATS, errors, render

router = APIRouter(prefix="/open311", tags=["open311"])
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_BODY_BYTES = 64_000
MAX_MEDIA_BODY_BYTES = media.MAX_BYTES + MAX_BODY_BYTES


def _guarded(fmt: str, produce: Callable[[], Response]) -> Response:
    """Run an endpoint body, turning domain errors into the spec's error document."""
    if fmt not in FORMATS:
        return errors("json", 404, f"format {fmt!r} not supported: use .json or .xml")
    try:
        return produce()
    except DomainError as error:
        status = status_for(error)
        return errors(fmt, 400 if status == 422 else status, str(error))
    except DBAPIError as error:
        if error.connection_invalidated:
            return errors(fmt, 503, "database unavailable, retry later")
        raise


@router.get("/discovery.{fmt}")
def discovery(
    request: Request, session: SessionDep, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is, which formats it speaks, and the
    jurisdictions served (every district and city)."""
    base = str(request.base_url).rstrip("/") + "/open311/v2/"

    def produce() -> Response:
        served = jurisdictions.resolve(session, jurisdiction_id)
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


@router.get("/v2/services.{fmt}")
def services(session: SessionDep, fmt: str, jurisdiction_id: str | None = None) -> Response:
    """Every category a resident may report."""

    def produce() -> Response:
        jurisdictions.resolve(session, jurisdiction_id)
        return render(fmt, "services", "service", service.services())

    return _guarded(fmt, produce)


@router.get("/v2/services/{code}.{fmt}")
def service_definition(
    session: SessionDep, code: str, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    def produce() -> Response:
        jurisdictions.resolve(session, jurisdiction_id)
        return render(fmt, "service_definition", "", service.service_definition(code))

    return _guarded(fmt, produce)


async def _body_within(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInputError(f"request body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInputError(f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _fields(request: Request) -> tuple[dict[str, str], bytes | None]:
    """POST fields from a form (the spec), multipart with a `media` photo, or a JSON object."""
    content_type = request.headers.get("content-type", "")
    multipart = content_type.startswith("multipart/form-data")
    body = await _body_within(request, MAX_MEDIA_BODY_BYTES if multipart else MAX_BODY_BYTES)
    if content_type.startswith("application/json"):
        try:
            parsed: Any = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidInputError(f"malformed JSON body: {error}") from None
        if not isinstance(parsed, dict):
            raise InvalidInputError("the JSON body must be an object of request fields")
        return {str(k): "" if v is None else str(v) for k, v in parsed.items()}, None

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form()
    except (ValueError, KeyError, AssertionError) as error:  # a malformed multipart body
        raise InvalidInputError(f"malformed form body: {error}") from None
    upload = form.get("media")
    photo = await upload.read() if isinstance(upload, UploadFile) else None
    return {key: value for key, value in form.items() if isinstance(value, str)}, photo


@router.post("/v2/requests.{fmt}")
async def create_request(
    request: Request,
    session: SessionDep,
    fmt: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Report a problem (optionally with a `media` photo, multipart); 201 once committed. Retries (same
    key, or same content today) get the same id. A new report (or a retry with its Idempotency-Key)
    also gets `token`, the secret that lets its reporter rate the handling once it is closed."""
    try:
        fields, photo = await _fields(request)
    except InvalidInputError as error:
        return errors(fmt if fmt in FORMATS else "json", 400, str(error))
    settings = request.app.state.settings

    def produce() -> Response:
        served = jurisdictions.resolve(session, fields.get("jurisdiction_id"))
        refs = [] if photo is None else [media.store(settings.var_dir, service.checked_photo(photo)).ref]
        case_id, created = service.submit(session, fields, idempotency_key, served, refs)
        session.commit()
        notice = "已受理，请保存编号以便查询" if created else "重复提交：返回原编号"
        answer: dict[str, Any] = {"service_request_id": case_id, "service_notice": notice, "account_id": None}
        if created or idempotency_key:
            answer["token"] = service.report_token(link_secret(settings), case_id)
        return render(fmt, "service_requests", "request", [answer], 201 if created else 200)

    # the database work is synchronous: keep it off the event loop
    return await run_in_threadpool(_guarded, fmt, produce)


@router.get("/v2/requests.{fmt}")
def list_requests(request: Request, session: SessionDep, fmt: str) -> Response:
    """Requests by id list, service code, status and date span (default the last 90 days, max 1000)."""

    def produce() -> Response:
        params = dict(request.query_params)
        served = jurisdictions.resolve(session, params.get("jurisdiction_id"))
        found = service.requests(session, service.RequestQuery.parse(params, served.code))
        return render(fmt, "service_requests", "request", found)

    return _guarded(fmt, produce)


@router.get("/v2/requests/{request_id}.{fmt}")
def get_request(
    session: SessionDep, request_id: str, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    def produce() -> Response:
        served = jurisdictions.resolve(session, jurisdiction_id)
        if not request_id.isdigit() or not 0 < int(request_id) < 2**63:
            raise NotFoundError(f"service_request_id {request_id!r} not found")
        found = service.one_request(session, int(request_id), served.code)
        return render(fmt, "service_requests", "request", found)

    return _guarded(fmt, produce)
