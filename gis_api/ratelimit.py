"""Token buckets kept in PostgreSQL, so a limit holds across every uvicorn worker and API process.

Why the database and not memory: `wangge serve --workers N` runs N processes, and an in-process
bucket would allow N times the limit (and forget it on every restart). One upsert per checked
request takes a row lock for a few microseconds and is committed at once, before the request's own
work; the rows are tiny and old ones are removed now and then.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import TooManyRequestsError

# the refill since the last request, capped at the capacity; a request takes one token if there is one
_REFILL = "least(:capacity, b.tokens + extract(epoch FROM clock_timestamp() - b.at) * :rate)"
TAKE_SQL = f"""
INSERT INTO rate_bucket AS b (key, tokens, at, allowed) VALUES (:key, :capacity - 1, clock_timestamp(), true)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN {_REFILL} >= 1 THEN {_REFILL} - 1 ELSE {_REFILL} END,
    allowed = {_REFILL} >= 1,
    at = clock_timestamp()
RETURNING allowed, tokens
"""
PRUNE_SQL = "DELETE FROM rate_bucket WHERE at < clock_timestamp() - interval '1 day'"
PRUNE_CHANCE = 0.001


@dataclass(frozen=True)
class Limit:
    """`per_minute` requests a minute, in bursts of up to `burst`."""

    name: str
    per_minute: float
    burst: float | None = None

    @property
    def capacity(self) -> float:
        return max(1.0, self.burst if self.burst is not None else self.per_minute)

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


def take(session: Session, limit: Limit, subject: str) -> None:
    """Take one token from the bucket of (limit, subject) and commit; TooManyRequestsError (429 with
    Retry-After) when it is empty. The caller's session must have nothing else pending."""
    key = f"{limit.name}:{subject}"[:200]
    row = session.execute(
        text(TAKE_SQL), {"key": key, "capacity": limit.capacity, "rate": limit.per_second}
    ).one()
    if random.random() < PRUNE_CHANCE:
        session.execute(text(PRUNE_SQL))
    session.commit()
    allowed, tokens = bool(row[0]), float(row[1])
    if not allowed:
        wait = math.ceil((1 - tokens) / limit.per_second) if limit.per_second > 0 else 3600
        raise TooManyRequestsError(
            f"too many requests ({limit.name}: {limit.per_minute:g} a minute); retry in {wait} s", wait
        )
