"""GeoReport v2 services and service requests mapped onto our categories and cases.

service_code = category code (E0201); service_request_id = case id; status is `open` until the case
is closed or void. Residents need no account, so retries are recognised by an Idempotency-Key header
or, for clients that send none, by the request's own content on the same (UTC) day.

The feed is public: it lists only cases marked public (residents' reports by default, others when
an operator says so), with the description as the reporter wrote it (read from the append-only
report event; ID-card and mobile numbers masked), the location rounded to ~10 m, the status as a
fixed phrase (never an internal note), and media only when the public reporter attached it: a
photo the reporter uploaded is published as our public copy (/open311/v2/media/{digest}).

A new report also gets a `token` (signed, gis_api.auth.links) that lets its reporter rate the
handling once the case is closed (POST /residents/reports/{id}/rating).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.links import LinkSecret, sign
from gis_api.auth.scope import DISTRICT_CODE_LENGTH
from gis_api.cases import media
from gis_api.cases.calendar import local_iso
from gis_api.cases.categories import KIND_NAME, default_catalog
from gis_api.cases.media import REF_PATTERN, is_web_url
from gis_api.cases.service import Actor, create_case, now_utc
from gis_api.errors import InvalidInputError, NotFoundError, OutOfDistrictError
from gis_api.inputs import clean_text, parse_float, parse_int, parse_moment
from gis_api.open311.jurisdictions import Jurisdiction

RESIDENT = Actor(username="open311", role="resident")
MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
MAX_IDS = 200
PUBLIC_DECIMALS = 4
"""Published coordinates are rounded to 4 decimals (about 10 m): enough to find the problem, not
the reporter's doorstep."""
# 18-digit (and old 15-digit) ID-card numbers and mainland mobile numbers in free text
IDENTIFIERS = re.compile(r"(?<![0-9])(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14}|1[3-9][0-9]{9})(?![0-9Xx])")
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
MediaLink = Callable[[str], str]
"""Turns a stored photo's digest into the public URL of its copy."""
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
        for name, value in fields.items():
            clean_text(value, name)  # control characters would break the JSON and XML feeds
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
        if media and not is_web_url(media):
            raise InvalidInputError("media_url must be an http(s) URL of at most 500 characters")
        crs = fields.get("crs", "wgs84").strip().lower() or "wgs84"
        lat = parse_float(fields["lat"], "lat", -90, 90)
        return cls(code, lat, parse_float(fields["long"], "long", -180, 180), description, media, crs)

    def fingerprint(self, day: datetime, photos: Sequence[str] = ()) -> str:
        """A key that is equal for identical submissions (the same photos included) on the same UTC day."""
        fields = [self.service_code, self.lat, self.long, self.description, self.media_url, self.crs]
        content = [*fields, *photos]  # without photos: the same key as before photos were possible
        digest = hashlib.sha256(json.dumps([*content, day.date().isoformat()]).encode()).hexdigest()
        return f"o311:{digest}"


@dataclass(frozen=True)
class Submission:
    """Where a request came in: the jurisdiction it was filed in, the API key's channel, and the
    stored references of the photos the reporter attached."""

    served: Jurisdiction
    channel: str = ""
    photos: Sequence[str] = ()

    @property
    def actor(self) -> Actor:
        name = f"open311:{self.channel}" if self.channel else RESIDENT.username
        return Actor(username=name, role=RESIDENT.role)


def checked_photo(data: bytes | None) -> bytes:
    """An uploaded `media` photo if it is a JPEG, PNG or WebP of at most 5 MB (by its content)."""
    if not data:
        raise InvalidInputError("media is empty: attach a JPEG, PNG or WebP photo")
    if len(data) > media.MAX_BYTES:
        raise InvalidInputError(f"media is larger than {media.MAX_BYTES // (1024 * 1024)} MB")
    if media.image_kind(data) is None:
        raise InvalidInputError("media must be a JPEG, PNG or WebP photo (checked by its content)")
    return data


def report_token(secret: LinkSecret, case_id: int) -> str:
    """The per-report secret that lets its reporter rate the handling (see gis_api.auth.links)."""
    return sign(secret, REPORT_TOKEN_PURPOSE, str(case_id))


def submit(
    session: Session, fields: Mapping[str, str], idempotency_key: str | None, came: Submission
) -> tuple[int, bool]:
    """Create (or find the retried) public case for a resident's request in a jurisdiction; (case
    id, created). A point outside the jurisdiction is refused with a message naming it."""
    request = RequestInput.parse(fields)
    if idempotency_key is not None:
        clean_text(idempotency_key, "Idempotency-Key")
        if not 1 <= len(idempotency_key) <= 100:
            raise InvalidInputError("Idempotency-Key must be 1 to 100 characters long")
    key = f"o311k:{idempotency_key}" if idempotency_key else request.fingerprint(now_utc(), came.photos)
    served = came.served
    try:
        return _create(session, request, key, came)
    except OutOfDistrictError as error:
        if not served.code:
            raise
        raise OutOfDistrictError(
            f"{error}: jurisdiction_id {served.code} ({served.name}) covers only its own area"
        ) from None


def _create(session: Session, request: RequestInput, key: str, came: Submission) -> tuple[int, bool]:
    report = create_case(
        session,
        category_code=request.service_code,
        lon=request.long,
        lat=request.lat,
        actor=came.actor,
        crs=request.crs,
        description=request.description,
        source="open311",
        idempotency_key=key,
        media=[*came.photos, *([request.media_url] if request.media_url else [])],
        within=came.served.code,
    )
    return report.case.id, report.created


REQUESTS_SQL = f"""
SELECT i.id, i.state, i.category_code, coalesce(r.details ->> 'description', i.description) AS description,
       i.created_at, i.updated_at, i.stage_deadline, i.deadline_uncertain,
       ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon, d.name AS district, s.name AS street,
       c.name AS community, g.name AS grid,
       i.grid_code,
       -- media of the report only, and only when the public reporter attached it
       CASE WHEN r.role = 'resident' THEN r.media ->> 0 END AS media_ref
FROM incident i
LEFT JOIN LATERAL (
    SELECT e.details, e.media, e.role FROM case_event e
    WHERE e.case_id = i.id AND e.action = 'report' ORDER BY e.id LIMIT 1
) r ON true
LEFT JOIN grid g ON g.id = i.grid_id
LEFT JOIN community c ON c.id = g.community_id
LEFT JOIN street s ON s.code = i.street_code
LEFT JOIN district d ON d.code = left(i.grid_code, {DISTRICT_CODE_LENGTH})
WHERE i.public AND {{where}}
ORDER BY i.created_at DESC, i.id DESC
LIMIT :limit
"""

PUBLIC_MEDIA_SQL = """
SELECT 1 FROM incident i JOIN case_event e ON e.case_id = i.id
WHERE i.public AND e.action = 'report' AND e.role = 'resident'
  AND e.media @> jsonb_build_array(CAST(:ref AS text))
LIMIT 1
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
        for name, value in params.items():
            clean_text(value, name)
        ids = _csv(params.get("service_request_id"))
        statuses = _csv(params.get("status"))
        for status in statuses or []:
            if status not in ("open", "closed"):
                raise InvalidInputError(f"status {status[:20]!r} must be open or closed")
        if ids and len(ids) > MAX_IDS:
            raise InvalidInputError(f"at most {MAX_IDS} service_request_id values at once")
        numbers = [parse_int(i, "service_request_id") for i in ids] if ids else None
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
    return parse_moment(value, name) if value else None


def requests(session: Session, query: RequestQuery, media_link: MediaLink) -> list[dict[str, Any]]:
    """Public service requests matching the query, newest first, at most 1000."""
    where, values = query.sql()
    rows = session.execute(text(REQUESTS_SQL.format(where=where)), {**values, "limit": MAX_RESULTS}).all()
    return [_request(row, media_link) for row in rows]


def one_request(
    session: Session, request_id: int, media_link: MediaLink, area: str = ""
) -> list[dict[str, Any]]:
    """The single public request (of the jurisdiction `area`) as a one-element list (the spec's
    shape); NotFoundError otherwise (a case that is not public is not found, whether it exists or not)."""
    found = requests(session, RequestQuery(ids=[request_id], area=area), media_link)
    if not found:
        raise NotFoundError(f"service_request_id {request_id} not found")
    return found


def masked(description: str) -> str:
    """The description with ID-card and mobile numbers masked (a public feed is no place for them)."""
    return IDENTIFIERS.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], description)


def public_media_url(ref: str | None, media_link: MediaLink) -> str:
    """A URL for the reporter's media: our public copy of an uploaded photo, their own http(s) URL,
    or empty (anything else never reaches the feed)."""
    if not ref:
        return ""
    match = REF_PATTERN.match(ref)
    if match is not None:
        return media_link(match.group(1))
    return ref if is_web_url(ref) else ""


def is_public_media(session: Session, digest: str) -> bool:
    """True when the photo was attached by the public reporter of a public case."""
    ref = f"media:sha256:{digest}"
    return session.execute(text(PUBLIC_MEDIA_SQL), {"ref": ref}).first() is not None


def _request(row: Any, media_link: MediaLink) -> dict[str, Any]:
    category = default_catalog().categories.get(row.category_code)
    closed = row.state in CLOSED_STATES
    agency = " ".join(part for part in (row.district, row.street, row.community, row.grid) if part)
    return {
        "service_request_id": row.id,
        "status": "closed" if closed else "open",
        "status_notes": STATUS_NOTES.get(row.state, row.state),
        "service_name": category.name if category else row.category_code,
        "service_code": row.category_code,
        "description": masked(row.description or ""),
        "agency_responsible": f"{agency} ({row.grid_code})",
        "service_notice": "",
        "requested_datetime": local_iso(row.created_at),
        "updated_datetime": local_iso(row.updated_at),
        # Beijing time, like the notifications; a deadline counted past the working calendar's
        # years is not published (it may move when the next year's holidays are imported)
        "expected_datetime": None if closed or row.deadline_uncertain else local_iso(row.stage_deadline),
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": round(float(row.lat), PUBLIC_DECIMALS),
        "long": round(float(row.lon), PUBLIC_DECIMALS),
        "media_url": public_media_url(row.media_ref, media_link),
    }
