"""Schemathesis against the whole API, in-process (ASGI) on the real PostGIS test database: every
operation answers generated valid and invalid requests without a 5xx, with a documented status code
and content type, and a body that matches the published schema.

A small example budget keeps this to seconds in CI (WANGGE_FUZZ_EXAMPLES, default 2 per operation
and mode); `bench/fuzz.py` runs the same checks with a large budget.
"""

from __future__ import annotations

import os
from pathlib import Path

from gis_api.config import Settings
from tests.fuzz.runner import fuzz_operation, operations
from tests.security.api_world import Api

EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "2"))


def test_every_operation_conforms_and_never_fails(api: Api, settings: Settings, tmp_path: Path) -> None:
    app = api.client.app
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    results = [fuzz_operation(operation, api.headers("admin"), EXAMPLES) for operation in operations(app)]
    assert len(results) > 40 and sum(r.requests for r in results) > 80
    failures = [f"{r.label}: {r.failure}" for r in results if r.failure]
    assert not failures, "\n\n".join(failures)
