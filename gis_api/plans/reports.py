"""The plan report built on request from the planner page, cached per plan state, opened by link.

Building it reads whole layers and renders the map (seconds on a district): the router runs it in a
worker thread, one build at a time. The file is kept under <var_dir>/reports keyed by the plan, its
status, the active plan of its district it is compared with and the district's name and metric CRS,
so a second request reuses it and any change builds a new one. The page opens it
through a link signed for ten minutes (a browser tab cannot send our bearer token).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from gis_api.auth.links import LinkSecret, sign, verify
from gis_api.errors import NotFoundError, PermissionDeniedError

LINK_PURPOSE = "plan-report"
LINK_TTL_S = 600
STATE_SQL = """
SELECT p.status::text, a.plan_id, p.created_at, ap.created_at, d.name, d.metric_crs
FROM plan p JOIN district d ON d.code = p.district_code
LEFT JOIN active_plan a ON a.district_code = p.district_code LEFT JOIN plan ap ON ap.id = a.plan_id
WHERE p.id = :p
"""
"""What a report depends on: the plan's status, its district's active plan (the comparison), when
both were made (a reloaded database reuses plan ids) and the district's name and metric CRS."""
# The report is a folium document full of inline scripts: it gets its own policy, sandboxed into
# an opaque origin so its scripts can reach neither our pages' storage nor the API with a session.
REPORT_HEADERS = {
    "Content-Security-Policy": (
        "sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; img-src data:"
    ),
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class BuiltReport:
    path: Path
    built_s: float
    cached: bool


def report_path(connection: Connection, var_dir: Path, plan_id: int) -> Path:
    """Where the report of the plan in its current state is kept; NotFoundError for no such plan."""
    row = connection.execute(text(STATE_SQL), {"p": plan_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    stamp = hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:12]
    return Path(var_dir) / "reports" / f"plan-{plan_id}-{row[0]}-vs-{row[1] or 0}-{stamp}.html"


def build_report(connection: Connection, var_dir: Path, plan_id: int) -> BuiltReport:
    """The report file, written now unless this plan state's report is already there (atomic write)."""
    from gis_api.redistrict.report import write_plan_report

    path = report_path(connection, var_dir, plan_id)
    if path.is_file():
        return BuiltReport(path, 0.0, cached=True)
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".html")
    os.close(handle)
    try:
        write_plan_report(connection, plan_id, Path(temporary))
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return BuiltReport(path, time.perf_counter() - started, cached=False)


def report_link(secret: LinkSecret, plan_id: int, now: float | None = None) -> str:
    """A URL path opening the plan's report for LINK_TTL_S seconds."""
    expires = int((now or time.time()) + LINK_TTL_S)
    signature = sign(secret, LINK_PURPOSE, f"{plan_id}:{expires}")
    return f"/plans/{plan_id}/report.html?expires={expires}&sig={signature}"


def check_link(
    secret: LinkSecret, plan_id: int, expires: int, signature: str, now: float | None = None
) -> None:
    """PermissionDeniedError unless the link is genuine and not expired."""
    if not verify(secret, LINK_PURPOSE, f"{plan_id}:{expires}", signature):
        raise PermissionDeniedError("this report link is not valid: open the report from the planner page")
    if expires < (now or time.time()):
        raise PermissionDeniedError(
            "this report link has expired: open the report again from the planner page"
        )


def english(page: str) -> str:
    """The report with its language switch set to English."""
    from gis_api.redistrict.report_text import LANGUAGE_TOGGLE_ID

    box = f'id="{LANGUAGE_TOGGLE_ID}" class="wg-lang-box"'
    return page.replace(box, box + " checked", 1)
