"""GeoReport v2 services and service requests mapped onto our categories and cases.

service_code = category code (E0201); service_request_id = case id; status is `open` until the case
is closed or void. Residents need no account, so retries are recognised by an Idempotency-Key header
or, for clients that send none, by the request's own content on the same (UTC) day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.links import sign
from gis_api.auth.scope import DISTRICT_CODE_LENGTH
from gis_api.cases import media
from gis_api.cases.categories import KIND_NAME, default_catalog
from gis_api.cases.service import Actor, create_case, now_utc
from gis_api.errors import InvalidInputError, NotFoundError, OutOfDistrictError
from gis_api.open311.jurisdictions import Jurisdiction

RESIDENT = Actor(username="open311", role="resident")
MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
DEFAULT_SPAN = timedelta(days=90)
STATUS_NOTES = {
    "reported": "已上报，等待受理",
    "accepted": "已受理",
    "registered": "已立案，等待派遣",
    "dispatched": "已派遣",
    "in_progress": "处置中",
    "disposed": "已处置，等待核查",
    "verified": "已核查",
    "returned": "已回退，重新派遣中",
    "suspended": "挂账",
    "closed": "已结案",
    "void": "已作废",
}
CLOSED_STATES = ("closed", "void")
REPORT_TOKEN_PURPOSE = "report-rating"


def services() -> list[dict[str, Any]]:
    """Every category as a GeoReport service (realtime, no extra attributes)."""
    catalog = default_catalog()
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.full_name,
            "metadata": False,
            "type": "realtime",
            "keywords": f"{KIND_NAME[category.kind]},{category.major_name}",
            "group": f"{KIND_NAME[category.kind]}/{category.major_name}",
        }
        for category in sorted(catalog.categories.values(), key=lambda c: c.code)
    ]


def service_definition(code: str) -> dict[str, Any]:
    """The definition of one service: it has no attributes beyond the standard fields."""
    if code not in default_catalog().categories:
        raise NotFoundError(f"service_code {code!r} not found")
    return {"service_code": code, "attributes": []}


@dataclass(frozen=True)
class RequestInput:
    """The standard POST fields we use (names as in the spec), plus the `crs` extension."""

    service_code: str
    lat: float
    long: float
    description: str
    media_url: str
    crs: str

    @classmethod
    def parse(cls, fields: Mapping[str, str]) -> RequestInput:
        """Validate form/JSON fields; InvalidInputError naming the field at fault."""
        code = fields.get("service_code", "").strip()
        if not code:
            raise InvalidInputError("service_code is required")
        if not fields.get("lat") or not fields.get("long"):
            if fields.get("address_string") or fields.get("address_id"):
                raise InvalidInputError("lat and long are required: this server does not geocode addresses")
            raise InvalidInputError("lat and long are required")
        description = fields.get("description", "")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInputError(f"description is longer than {MAX_DESCRIPTION} characters")
        media = fields.get("media_url", "").strip()
        if (media and not media.startswith(("http://", "https://"))) or len(media) > 500:
            raise InvalidInputError("media_url must be an http(s) URL of at most 500 characters")
        crs = fields.get("crs", "wgs84").strip().lower() or "wgs84"
        return cls(code, _number(fields, "lat"), _number(fields, "long"), description, media, crs)

    def fingerprint(self, day: datetime) -> str:
        """A key that is equal for identical submissions on the same UTC day."""
        content = [self.service_code, self.lat, self.long, self.description, self.media_url, self.crs]
        digest = hashlib.sha256(json.dumps([*content, day.date().isoformat()]).encode()).hexdigest()
        return f"o311:{digest}"


def _number(fields: Mapping[str, str], name: str) -> float:
    try:
        return float(fields[name])
    except ValueError:
        raise InvalidInputError(f"{name} must be a number, got {fields[name]!r}") from None


def checked_photo(data: bytes | None) -> bytes:
    """The uploaded `media` photo if it is a JPEG, PNG or WebP of at most 5 MB."""
    if not data:
        raise InvalidInputError("media is empty: attach a JPEG, PNG or WebP photo")
    if len(data) > media.MAX_BYTES:
        raise InvalidInputError(f"media is larger than {media.MAX_BYTES // (1024 * 1024)} MB")
    if media.image_kind(data) is None:
        raise InvalidInputError("media must be a JPEG, PNG or WebP photo (checked by its content)")
    return data


def report_token(secret: bytes, case_id: int) -> str:
    """The per-report secret that lets its reporter rate the handling (see gis_api.auth.links)."""
    return sign(secret, REPORT_TOKEN_PURPOSE, str(case_id))


def submit(
    session: Session,
    fields: Mapping[str, str],
    idempotency_key: str | None,
    served: Jurisdiction,
    photos: Sequence[str] = (),
) -> tuple[int, bool]:
    """Create (or find the retried) case for a resident's request in a jurisdiction; (case id,
    created). A point outside the jurisdiction is refused with a message naming it. `photos` are
    stored media references of the request's uploaded `media`."""
    request = RequestInput.parse(fields)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        raise InvalidInputError("Idempotency-Key must be 1 to 100 characters long")
    key = f"o311k:{idempotency_key}" if idempotency_key else request.fingerprint(now_utc())
    try:
        return _create(session, request, key, served.code, photos)
    except OutOfDistrictError as error:
        if not served.code:
            raise
        raise OutOfDistrictError(
            f"{error}: jurisdiction_id {served.code} ({served.name}) covers only its own area"
        ) from None


def _create(
    session: Session, request: RequestInput, key: str, within: str, photos: Sequence[str]
) -> tuple[int, bool]:
    report = create_case(
        session,
        category_code=request.service_code,
        lon=request.long,
        lat=request.lat,
        actor=RESIDENT,
        crs=request.crs,
        description=request.description,
        source="open311",
        idempotency_key=key,
        media=[*photos, *([request.media_url] if request.media_url else [])],
        within=within,
    )
    return report.case.id, report.created


REQUESTS_SQL = f"""
SELECT i.id, i.state, i.category_code, i.description, i.created_at, i.updated_at, i.stage_deadline,
       ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon, d.name AS district, s.name AS street,
       c.name AS community, g.name AS grid,
       i.grid_code,
       -- only resolution notes are public; other notes are internal to the command centre
       (SELECT e.note FROM case_event e WHERE e.case_id = i.id AND e.note <> ''
          AND e.action IN ('dispose', 'self_dispose', 'close', 'void')
         ORDER BY e.id DESC LIMIT 1) AS last_note,
       -- a public URL given by the reporter; uploaded photos stay internal (media:sha256 references)
       (SELECT m.url FROM case_event e, jsonb_array_elements_text(e.media) AS m(url)
         WHERE e.case_id = i.id AND e.action = 'report' AND m.url ~ '^https?://' LIMIT 1) AS media_url
FROM incident i
LEFT JOIN grid g ON g.id = i.grid_id
LEFT JOIN community c ON c.id = g.community_id
LEFT JOIN street s ON s.code = i.street_code
LEFT JOIN district d ON d.code = left(i.grid_code, {DISTRICT_CODE_LENGTH})
WHERE {{where}}
ORDER BY i.created_at DESC, i.id DESC
LIMIT :limit
"""


@dataclass(frozen=True)
class RequestQuery:
    """GET requests filters: ids, service codes, status and a date span (default the last 90 days)."""

    ids: list[int] | None = None
    service_codes: list[str] | None = None
    statuses: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    area: str = ""
    """City or district code of the jurisdiction ('' = all)."""

    @classmethod
    def parse(cls, params: Mapping[str, str], area: str = "") -> RequestQuery:
        ids = _csv(params.get("service_request_id"))
        statuses = _csv(params.get("status"))
        for status in statuses or []:
            if status not in ("open", "closed"):
                raise InvalidInputError(f"status {status!r} must be open or closed")
        try:
            numbers = [int(i) for i in ids] if ids else None
        except ValueError:
            raise InvalidInputError("service_request_id must be a comma-separated list of numbers") from None
        if numbers and any(not 0 < n < 2**63 for n in numbers):
            raise InvalidInputError("service_request_id out of range")
        start, end = _date(params.get("start_date"), "start_date"), _date(params.get("end_date"), "end_date")
        return cls(numbers, _csv(params.get("service_code")), statuses, start, end, area)

    def sql(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = ["i.grid_code LIKE :area"]
        values: dict[str, Any] = {"area": f"{self.area}%"}
        if self.ids:
            clauses.append("i.id = ANY(:ids)")
            values["ids"] = self.ids
        else:
            end = self.end or now_utc()
            clauses.append("i.created_at >= :start AND i.created_at < :end")
            values.update(start=self.start or end - DEFAULT_SPAN, end=end)
        if self.service_codes:
            clauses.append("i.category_code = ANY(:codes)")
            values["codes"] = self.service_codes
        if self.statuses and set(self.statuses) != {"open", "closed"}:
            negate = "" if self.statuses == ["closed"] else "NOT "
            clauses.append(f"{negate}(i.state IN ('closed', 'void'))")
        return " AND ".join(clauses), values


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()] or None


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{name} must be an ISO 8601 date-time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def requests(session: Session, query: RequestQuery) -> list[dict[str, Any]]:
    """Service requests matching the query, newest first, at most 1000."""
    where, values = query.sql()
    rows = session.execute(text(REQUESTS_SQL.format(where=where)), {**values, "limit": MAX_RESULTS}).all()
    return [_request(row) for row in rows]


def one_request(session: Session, request_id: int, area: str = "") -> list[dict[str, Any]]:
    """The single request (of the jurisdiction `area`) as a one-element list (the spec's shape);
    NotFoundError if unknown."""
    found = requests(session, RequestQuery(ids=[request_id], area=area))
    if not found:
        raise NotFoundError(f"service_request_id {request_id} not found")
    return found


def _request(row: Any) -> dict[str, Any]:
    category = default_catalog().categories.get(row.category_code)
    closed = row.state in CLOSED_STATES
    notes = STATUS_NOTES.get(row.state, row.state)
    agency = " ".join(part for part in (row.district, row.street, row.community, row.grid) if part)
    return {
        "service_request_id": row.id,
        "status": "closed" if closed else "open",
        "status_notes": f"{notes}: {row.last_note}" if row.last_note else notes,
        "service_name": category.name if category else row.category_code,
        "service_code": row.category_code,
        "description": row.description,
        "agency_responsible": f"{agency} ({row.grid_code})",
        "service_notice": "",
        "requested_datetime": _iso(row.created_at),
        "updated_datetime": _iso(row.updated_at),
        "expected_datetime": None if closed else _iso(row.stage_deadline),
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": round(float(row.lat), 7),
        "long": round(float(row.lon), 7),
        "media_url": row.media_url or "",
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
