"""Start the API for a benchmark: uvicorn on a free loopback port in its own process group.

Shared by the benchmarks that measure the API over HTTP; the process group lets a benchmark
SIGKILL every worker at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gis_api.db.cluster import free_loopback_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def start_api(
    database_url: str | None = None,
    workers: int = 1,
    keep_alive_s: int = 5,
    cwd: Path = PROJECT_ROOT,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """The API (gis_api.asgi:app) against `database_url` (default: the settings'); returns the
    process and its base URL once /health answers, or exits after 60 s. `cwd` and `extra_env` run
    another checkout of the code (PYTHONPATH) with its own settings."""
    port = free_loopback_port()
    env = {**os.environ, **(extra_env or {})}
    if database_url is not None:
        env["WANGGE_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "uvicorn", "gis_api.asgi:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    command += ["--timeout-keep-alive", str(keep_alive_s)]
    process = subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the API did not start within 60 s")
