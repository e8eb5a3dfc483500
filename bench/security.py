"""Security bench: each failure class of issue 10, probed over HTTP against the code before the fixes
and against this checkout, side by side.

Both sides run from their own code (`--before REV` is unpacked with `git archive` into a temporary
folder; default 9aa2f15, main when the issue was filed), each on its own fresh database in the
embedded cluster with the same small world (tiny district, road ladder, team members, one account
per role), served by uvicorn with 2 workers on loopback. A probe answers "open" when the weakness
shows, "fixed" when it does not. The database roles, TLS and backups of issue 10 belong to the
deploy work and are not probed here.

    .venv/bin/python bench/security.py [--before REV] [--only-after]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.api_process import PROJECT_ROOT, start_api
from gis_api.config import get_settings
from gis_api.db.cluster import EmbeddedCluster

PASSWORD = "correct horse battery"
INCIDENT = {"lon": 114.3055, "lat": 30.5452}  # south-west grid of the tiny district
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(48))
SEED = r"""
import json, sys
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from gis_api.auth.service import create_user
from gis_api.db import migrate
from tests import tiny_district
from tests.cases import fixtures
url = sys.argv[1]
engine = create_engine(url)
migrate.upgrade(engine)
with engine.begin() as connection:
    world = fixtures.build(connection)
    plan = connection.execute(text("SELECT id FROM plan WHERE status = 'active'")).scalar_one()
    shape = tiny_district.box(114.30, 30.56, 114.31, 30.57)
    community = connection.execute(text(
        "INSERT INTO community (plan_id, code, name, street_code, geom) "
        "VALUES (:p, '420106001002', 'north', '420106001', :g) RETURNING id"),
        {"p": plan, "g": shape}).scalar()
    grid = connection.execute(text(
        "INSERT INTO grid (plan_id, code, name, community_id, geom) "
        "VALUES (:p, '42010600100201', 'north', :c, :g) RETURNING id"),
        {"p": plan, "c": community, "g": shape}).scalar()
    outsider = connection.execute(text(
        "INSERT INTO team_member (name, role, home_grid_id, status, last_position, last_seen_at) "
        "VALUES ('outsider', 'grid_worker', :g, 'available', ST_SetSRID(ST_MakePoint(114.305, 30.55), 4326), "
        "now()) RETURNING id"), {"g": grid}).scalar()
users = {"admin": ("admin", "420106"), "west_op": ("street_operator", "420106001"),
         "west_community_op": ("community_operator", "420106001001"),
         "west_worker": ("grid_worker", "42010600100101"), "planner": ("planner", "420106")}
key = ""
with Session(engine) as session:
    for name, (role, scope) in users.items():
        create_user(session, name, "correct horse battery", role, scope)
    session.execute(text("UPDATE app_user SET team_member_id = :m WHERE username = 'west_worker'"),
                    {"m": world.members["worker"]})
    session.commit()
    try:
        from gis_api.open311.keys import add_key
        key = add_key(session, "bench")
    except ImportError:
        pass
print(json.dumps({"key": key, "outsider": outsider, "household": 2}))
"""


@dataclass
class Side:
    """One running API and what the probes need to know about its world."""

    name: str
    base: str
    database_url: str
    code_dir: Path
    env: dict[str, str]
    key: str
    outsider: int
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            answer = httpx.post(
                f"{self.base}/auth/token", data={"username": user, "password": PASSWORD}, timeout=30
            )
            answer.raise_for_status()
            self.tokens[user] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(self.headers(user) if user else {}), **kwargs.pop("headers", {})}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def post(self, path: str, user: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(self.headers(user) if user else {}), **kwargs.pop("headers", {})}
        return httpx.post(f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def report(self, user: str = "admin", **extra: Any) -> int:
        answer = self.post("/cases", user, json={"category_code": "E0201", **INCIDENT, **extra})
        return int(answer.json()["id"])

    def post311(self, **fields: Any) -> httpx.Response:
        form = {"service_code": "E0201", "lat": str(INCIDENT["lat"]), "long": str(INCIDENT["lon"]), **fields}
        return self.post("/open311/v2/requests.json", data={**form, "api_key": self.key})

    def feed(self) -> str:
        return self.get("/open311/v2/requests.json").text

    def sql(self, statement: str) -> Any:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.begin() as connection:
            result = connection.execute(text(statement))
            value = result.scalar() if result.returns_rows else None
        engine.dispose()
        return value


# ------------------------------------------------------------------ probes: True = the weakness shows


def feed_lists_internal_cases(side: Side) -> tuple[bool, str]:
    case_id = side.report(description="张三 身份证 420106198001011234 电话 13812345678")
    feed = side.feed()
    leaked = f'"service_request_id": {case_id}' in feed or "13812345678" in feed
    return leaked, "operator case with ID/phone in the feed" if leaked else "only public cases"


def feed_coordinates_too_fine(side: Side) -> tuple[bool, str]:
    side.post311(description="coords", lat="30.5452137", long="114.3055219")  # a phone's GPS fix
    entries = json.loads(side.feed())
    decimals = max((len(str(e["lat"]).split(".")[1]) for e in entries), default=0)
    return decimals > 4, f"{decimals} decimals"


def feed_shows_internal_notes(side: Side) -> tuple[bool, str]:
    case_id = int(side.post311(description="notes").json()[0]["service_request_id"])
    side.post(f"/cases/{case_id}/actions/void", "admin", json={"note": "内部备注 联系人李四"})
    leaked = "李四" in side.feed()
    return leaked, "void note in status_notes" if leaked else "fixed phrases only"


def javascript_media_in_feed(side: Side) -> tuple[bool, str]:
    status = side.post(
        "/cases", "admin", json={"category_code": "E0201", **INCIDENT, "media": ["javascript:alert(1)"]}
    )
    leaked = "javascript:" in side.feed()
    return leaked, f"POST /cases {status.status_code}; feed {'has' if leaked else 'has no'} javascript:"


def xml_broken_by_control_characters(side: Side) -> tuple[bool, str]:
    posted = side.post311(description="bad\x01text")
    try:
        ElementTree.fromstring(side.get("/open311/v2/requests.xml").content)
    except ElementTree.ParseError as error:
        return True, f"post {posted.status_code}, XML: {error}"
    return False, f"post {posted.status_code}, XML parses"


def open311_key_ignored(side: Side) -> tuple[bool, str]:
    form = {
        "service_code": "E0201",
        "lat": str(INCIDENT["lat"]),
        "long": str(INCIDENT["lon"]),
        "description": "k",
    }
    status = side.post("/open311/v2/requests.json", data=form).status_code
    return status in (200, 201), f"post without api_key: {status}"


def open311_unthrottled(side: Side) -> tuple[bool, str]:
    started = time.monotonic()
    statuses = [side.post311(description=f"flood {n}").status_code for n in range(20)]
    took = time.monotonic() - started
    limited = statuses.count(429)
    return limited == 0, f"20 posts in {took:.2f} s, {limited} × 429 (2 workers)"


def photos_readable_by_anyone(side: Side) -> tuple[bool, str]:
    ref = side.post("/media", "admin", files={"file": ("p.png", PNG, "image/png")}).json()["ref"]
    side.report(media=[ref])
    status = side.get(f"/media/{ref}", "planner").status_code
    return status == 200, f"planner reads a case photo: {status}"


def worker_verifies_own_disposal(side: Side) -> tuple[bool, str]:
    case_id = side.report("west_worker", category_code="E0102")
    side.post(f"/cases/{case_id}/actions/self_dispose", "west_worker", json={})
    status = side.post(f"/cases/{case_id}/actions/verify", "west_worker", json={}).status_code
    return status == 200, f"verify own disposal: {status}"


def reassign_outside_scope(side: Side) -> tuple[bool, str]:
    case_id = side.report()
    for action in ("accept", "register"):
        side.post(f"/cases/{case_id}/actions/{action}", "admin", json={})
    side.post(f"/cases/{case_id}/dispatch", "admin", json={})
    answer = side.post(f"/cases/{case_id}/reassign", "west_community_op", json={"member_id": side.outsider})
    return (
        answer.status_code == 200,
        f"community operator assigns another community's worker: {answer.status_code}",
    )


def planner_sees_worker_kpis(side: Side) -> tuple[bool, str]:
    span = {"level": "worker", "start": "2026-01-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}
    answer = side.get("/assessment/kpis", "planner", params=span)
    return answer.status_code == 200, f"planner, level=worker: {answer.status_code}"


def reads_not_audited(side: Side) -> tuple[bool, str]:
    side.get("/members", "west_op")
    side.get(
        "/assessment/kpis",
        "west_op",
        params={"level": "grid", "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"},
    )
    try:
        rows = side.sql(
            "SELECT count(*) FROM audit_log "
            "WHERE action IN ('members.read', 'kpis.read') AND client_addr IS NOT NULL"
        )
    except Exception:
        rows = 0
    return rows < 2, f"{rows} audit rows with a client address for 2 reads"


def bodies_unbounded(side: Side) -> tuple[bool, str]:
    body = json.dumps({"category_code": "E0201", **INCIDENT, "description": "x" * 3_000_000})
    answer = side.post("/cases", "admin", content=body, headers={"Content-Type": "application/json"})
    return answer.status_code != 413, f"3 MB in: {answer.status_code}, {len(answer.content):,} bytes out"


def no_security_headers(side: Side) -> tuple[bool, str]:
    headers = side.get("/").headers
    missing = [
        h for h in ("content-security-policy", "referrer-policy", "x-frame-options") if h not in headers
    ]
    return bool(missing), f"missing: {', '.join(missing) or 'none'}"


def household_tiles_cached(side: Side) -> tuple[bool, str]:
    control = side.get("/tiles/households/16/53451/27230.mvt", "admin").headers.get("cache-control", "")
    return "no-store" not in control, f"Cache-Control: {control}"


def host_header_in_links(side: Side) -> tuple[bool, str]:
    page = side.get("/households?limit=1", "admin", headers={"Host": "evil.example.com"}).json()
    link = str(page.get("next"))
    return "evil.example.com" in link, f"next = {link[:60]}"


def visit_in_2099(side: Side) -> tuple[bool, str]:
    body = {"household_id": 2, "visited_at": "2099-06-01T10:00:00+08:00"}
    status = side.post("/visits", "west_worker", json=body).status_code
    return status in (200, 201), f"visit dated 2099: {status}"


def disabled_stream_stays_open(side: Side) -> tuple[bool, str]:
    token = httpx.post(
        f"{side.base}/auth/token", data={"username": "west_op", "password": PASSWORD}, timeout=30
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    ended, opened = threading.Event(), threading.Event()

    def read() -> None:
        try:
            with httpx.stream(
                "GET", f"{side.base}/events/stream?max_seconds=30", headers=headers, timeout=40
            ) as r:
                for _ in r.iter_lines():
                    opened.set()
        except httpx.HTTPError:
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    opened.wait(10)
    disable(side, "west_op", True)
    started = time.monotonic()  # after the command returned: its own start-up is not counted
    closed = ended.wait(8)
    took = time.monotonic() - started
    disable(side, "west_op", False)
    return not closed, f"stream ended {took:.1f} s after the disable" if closed else "still open after 8 s"


def disable(side: Side, user: str, off: bool) -> None:
    """`wangge user disable/enable` where it exists, else what an admin had: the active flag."""
    command = [sys.executable, "-m", "gis_api.cli", "user", "disable" if off else "enable", user]
    done = subprocess.run(command, cwd=side.code_dir, env=side.env, capture_output=True, check=False)
    if done.returncode != 0:
        side.sql(f"UPDATE app_user SET active = {'false' if off else 'true'} WHERE username = '{user}'")


def server_errors(requests: list[Callable[[Side], httpx.Response]]) -> Callable[[Side], tuple[bool, str]]:
    def probe(side: Side) -> tuple[bool, str]:
        statuses = [request(side).status_code for request in requests]
        failed = sum(status >= 500 for status in statuses)
        return failed > 0, f"{failed}/{len(statuses)} answered 5xx ({', '.join(map(str, statuses))})"

    return probe


def _nested(depth: int, path: str = "/cases", field: str = "description") -> Callable[[Side], httpx.Response]:
    def send(side: Side) -> httpx.Response:
        body = b'{"category_code": "E0201", "' + field.encode() + b'": ' + b"[" * depth + b"]" * depth + b"}"
        user = None if path.startswith("/open311") else "admin"
        return side.post(path, user, content=body, headers={"Content-Type": "application/json"})

    return send


CAUSES_OF_500: dict[str, list[Callable[[Side], httpx.Response]]] = {
    "500: non-ASCII Authorization header": [
        lambda s: s.get("/cases", headers={"Authorization": "Bearer é.é".encode()}),  # type: ignore[dict-item]
        lambda s: s.get("/open311/v2/requests.json", headers={"Authorization": "Bearer 令牌".encode()}),  # type: ignore[dict-item]
    ],
    "500: NUL byte in a text field": [
        lambda s: s.post311(description="a\x00b"),
        lambda s: s.post(
            "/cases", "admin", json={"category_code": "E0201", **INCIDENT, "description": "\x00"}
        ),
        lambda s: s.post(f"/cases/{s.report()}/actions/accept", "admin", json={"note": "\x00"}),
        lambda s: s.post(
            "/visits",
            "west_worker",
            json={"household_id": 2, "visited_at": "2026-11-02T10:00:00+08:00", "note": "\x00"},
        ),
        lambda s: s.get("/cases", "admin", params={"state": "open\x00"}),
    ],
    "500: Unicode digits": [
        lambda s: s.get("/open311/v2/requests/².json"),
        lambda s: s.get("/events/stream?max_seconds=1", "admin", headers={"Last-Event-ID": "²".encode()}),  # type: ignore[dict-item]
        lambda s: s.get("/assessment/streets/ranking", "admin", params={"month": "２０２６-１１"}),
    ],
    "500: 5,000-digit id": [
        lambda s: s.get(f"/open311/v2/requests/{'9' * 5000}.json"),
        lambda s: s.get(f"/open311/v2/requests.json?service_request_id={'9' * 5000}"),
    ],
    "500: year 1 or 9999": [
        lambda s: s.get("/open311/v2/requests.json", params={"start_date": "0001-01-01T00:00:00Z"}),
        lambda s: s.get(
            "/assessment/kpis",
            "admin",
            params={"level": "grid", "start": "0001-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        ),
        lambda s: s.get("/assessment/streets/ranking", "admin", params={"month": "9999-12"}),
        lambda s: s.post(
            "/positions",
            "west_worker",
            json={"pings": [{**INCIDENT, "device_time": "0001-01-01T00:00:00+08:00"}]},
        ),
    ],
    "500: deeply nested JSON": [
        _nested(100_000),
        _nested(100_000, "/open311/v2/requests.json", "service_code"),
        _nested(900, "/cases", "media"),
    ],
    "500: NaN/Infinity in JSON": [
        lambda s: s.post(
            "/cases",
            "admin",
            content=b'{"category_code": "E0201", "lon": NaN, "lat": 30.5}',
            headers={"Content-Type": "application/json"},
        ),
        lambda s: s.post(
            "/locate/batch",
            "admin",
            content=b'{"points": [{"lon": Infinity, "lat": 1}]}',
            headers={"Content-Type": "application/json"},
        ),
    ],
}


def brute_force(side: Side) -> tuple[bool, str]:
    started = time.monotonic()
    statuses = [
        httpx.post(
            f"{side.base}/auth/token", data={"username": "admin", "password": f"guess{n}"}, timeout=30
        ).status_code
        for n in range(60)
    ]
    took = time.monotonic() - started
    return 429 not in statuses, f"60 wrong passwords in {took:.1f} s: {statuses.count(429)} × 429"


PROBES: list[tuple[str, Callable[[Side], tuple[bool, str]]]] = [
    ("Open311 lists internal cases", feed_lists_internal_cases),
    ("Open311 coordinates to ~1 cm", feed_coordinates_too_fine),
    ("Open311 shows internal notes", feed_shows_internal_notes),
    ("javascript: media in the feed", javascript_media_in_feed),
    ("control characters break the XML feed", xml_broken_by_control_characters),
    ("Open311 api_key ignored", open311_key_ignored),
    *[(name, server_errors(requests)) for name, requests in CAUSES_OF_500.items()],
    ("any user reads any photo", photos_readable_by_anyone),
    ("worker verifies own disposal", worker_verifies_own_disposal),
    ("assigning outside the operator's area", reassign_outside_scope),
    ("planner sees per-worker KPIs", planner_sees_worker_kpis),
    ("reads unaudited, no client address", reads_not_audited),
    ("request bodies unbounded", bodies_unbounded),
    ("no CSP / frame / referrer headers", no_security_headers),
    ("household tiles cached", household_tiles_cached),
    ("Host header copied into next links", host_header_in_links),
    ("visit dated 2099 accepted", visit_in_2099),
    ("disabled account's stream stays open", disabled_stream_stays_open),
    ("Open311 posts unthrottled", open311_unthrottled),  # after the other Open311 probes
    ("password brute force unthrottled", brute_force),  # last: it locks the address out
]


# ------------------------------------------------------------------ sides


def code_of(revision: str) -> Path:
    """The checkout of `revision` (git archive) in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="wangge-before-"))
    archive = subprocess.run(["git", "archive", revision], cwd=PROJECT_ROOT, capture_output=True, check=True)
    archive_path = folder / "code.tar"
    archive_path.write_bytes(archive.stdout)
    with tarfile.open(archive_path) as tar:
        tar.extractall(folder, filter="data")
    archive_path.unlink()
    return folder


def start_side(name: str, code_dir: Path, cluster: EmbeddedCluster) -> tuple[Side, subprocess.Popen[bytes]]:
    database = f"wangge_bench_security_{name}"
    cluster.drop_database(database)
    url = cluster.create_database(database)
    var_dir = tempfile.mkdtemp(prefix=f"wangge-{name}-")
    env = {
        **os.environ,
        "PYTHONPATH": str(code_dir),
        "WANGGE_DATABASE_URL": url,
        "WANGGE_VAR_DIR": var_dir,
        "WANGGE_BASEMAP_URL": "",
    }
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, url], cwd=code_dir, env=env, capture_output=True, text=True
    )
    if seeded.returncode != 0:
        raise SystemExit(f"seeding the {name} side failed:\n{seeded.stderr[-2000:]}")
    world = json.loads(seeded.stdout.strip().splitlines()[-1])
    process, base = start_api(url, workers=2, cwd=code_dir, extra_env=env)
    return Side(name, base, url, code_dir, env, world["key"], world["outsider"]), process


def run_side(side: Side) -> dict[str, tuple[bool, str]]:
    results: dict[str, tuple[bool, str]] = {}
    for user in ("admin", "west_op", "west_community_op", "west_worker", "planner"):
        side.headers(user)  # log in before the brute-force probe locks the address
    for name, probe in PROBES:
        try:
            results[name] = probe(side)
        except Exception as error:  # a probe that cannot even run says so in the table
            results[name] = (True, f"probe failed: {type(error).__name__}: {str(error)[:80]}")
        print(
            f"  [{side.name}] {name}: {'OPEN' if results[name][0] else 'fixed'} ({results[name][1]})",
            flush=True,
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default="9aa2f15", help="git revision before the fixes")
    parser.add_argument("--only-after", action="store_true", help="probe this checkout only")
    args = parser.parse_args()
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    sides = (
        [("after", PROJECT_ROOT)]
        if args.only_after
        else [("before", code_of(args.before)), ("after", PROJECT_ROOT)]
    )
    outcome: dict[str, dict[str, tuple[bool, str]]] = {}
    for name, code_dir in sides:
        print(f"[{name}] starting the API from {code_dir}", flush=True)
        side, process = start_side(name, code_dir, cluster)
        try:
            outcome[name] = run_side(side)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            cluster.drop_database(f"wangge_bench_security_{name}")
    print_table(outcome)
    return 0


def print_table(outcome: dict[str, dict[str, tuple[bool, str]]]) -> None:
    names = [name for name, _ in PROBES]
    width = max(len(n) for n in names)
    print(f"\n{'failure class':<{width}}  {'before':<7} {'after':<7} after: detail")
    for name in names:
        cells = [
            ("OPEN" if outcome[s][name][0] else "fixed") if s in outcome else "-" for s in ("before", "after")
        ]
        print(f"{name:<{width}}  {cells[0]:<7} {cells[1]:<7} {outcome['after'][name][1]}")
    summary = {
        side: {"open": sum(v[0] for v in results.values()), "probes": len(results)}
        for side, results in outcome.items()
    }
    detail = {side: {name: not v[0] for name, v in results.items()} for side, results in outcome.items()}
    print(json.dumps({"bench": "security", "summary": summary, "fixed": detail}, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
