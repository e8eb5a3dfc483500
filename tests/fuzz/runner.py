"""Run schemathesis over every operation of the API with a given example budget; shared by the CI
test (tests/fuzz/test_schema.py) and the full run (bench/fuzz.py).

Each operation gets valid (positive) and invalid (negative) generated requests, sent in-process to
the ASGI app as a logged-in admin; the checks: no 5xx, a documented status code, a documented
content type, a body that matches the published schema.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STREAM_SECONDS = 0.05
"""Streams are cut short: the fuzz checks their answers, not their patience."""


@dataclass
class OperationResult:
    """What one operation answered: requests sent, statuses seen, the first failure if any."""

    label: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failure: str | None = None
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def operations(app: Any) -> Iterator[Any]:
    """Every operation of the app's published OpenAPI document."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        yield result.ok()


def fuzz_operation(
    operation: Any, headers: dict[str, str], examples: int, checks: list[Any] | None = None
) -> OperationResult:
    """Send up to `examples` positive and `examples` negative requests; stop at the first failure of
    `checks` (default CHECKS; [not_a_server_error] looks for 5xx only)."""
    result = OperationResult(f"{operation.method.upper()} {operation.path}")
    started = time.monotonic()

    def send(case: Any) -> None:
        if case.path == "/events/stream":
            case.query = {**(case.query or {}), "max_seconds": STREAM_SECONDS}
        response = case.call(headers=headers)
        result.requests += 1
        result.statuses[response.status_code] += 1
        case.validate_response(response, checks=checks or CHECKS, headers=headers)

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        run = _hypothesis_test(operation, mode, examples, send)
        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
            continue
        except (Exception, FailureGroup) as error:  # a check failed: keep its report, go on
            result.failure = f"{mode}: {_describe(error)}"
            break
    result.seconds = time.monotonic() - started
    return result


def _describe(error: BaseException) -> str:
    """The failure's message, with the first sub-failure of a group and a trimmed reproduction."""
    parts = [str(error).strip()]
    if isinstance(error, BaseExceptionGroup):
        parts += [str(sub).strip() for sub in error.exceptions[:3]]
    return "\n".join(parts)[:2500]


def _hypothesis_test(operation: Any, mode: GenerationMode, examples: int, send: Callable[[Any], None]) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def run(case: Any) -> None:
        send(case)

    return run
