"""Login lockout with exponential backoff, per username and per client address, in PostgreSQL (so it
holds across API processes).

A username may fail FREE_FAILURES[kind] times within FAILURE_WINDOW; each further failure locks it
for BASE_LOCK_S · 2^(failures beyond the free ones), at most MAX_LOCK_S. Addresses get more free
failures than usernames (an office behind one NAT address). A success clears the username's count,
never the address's (or one valid account would let an attacker reset the counter at will).
Locking by username lets an attacker delay a real user's login by at most MAX_LOCK_S at a time:
the usual trade for stopping password guessing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import TooManyRequestsError

FREE_FAILURES = {"user": 5, "addr": 20}
BASE_LOCK_S = 2.0
MAX_LOCK_S = 900.0
FAILURE_WINDOW = timedelta(minutes=15)

LOCKED_SQL = """
SELECT key, extract(epoch FROM locked_until - clock_timestamp()) FROM login_failure
WHERE key = ANY(:keys) AND locked_until > clock_timestamp()
ORDER BY locked_until DESC LIMIT 1
"""

FAIL_SQL = """
INSERT INTO login_failure AS f (key, failures, last_failure_at) VALUES (:key, 1, clock_timestamp())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN f.last_failure_at < clock_timestamp() - :window THEN 1 ELSE f.failures + 1 END,
    last_failure_at = clock_timestamp()
RETURNING failures
"""


def _keys(username: str, address: str | None) -> dict[str, str]:
    keys = {"user": f"user:{username.lower()[:64]}"}
    if address:
        keys["addr"] = f"addr:{address[:64]}"
    return keys


def lock_seconds(kind: str, failures: int) -> float:
    """How long the failure number `failures` locks a username ('user') or address ('addr')."""
    beyond = failures - FREE_FAILURES[kind]
    return 0.0 if beyond <= 0 else min(MAX_LOCK_S, BASE_LOCK_S * 2 ** min(beyond - 1, 20))


def check_not_locked(session: Session, username: str, address: str | None) -> None:
    """TooManyRequestsError (429 with Retry-After) while the username or the address is locked."""
    row = session.execute(text(LOCKED_SQL), {"keys": list(_keys(username, address).values())}).first()
    if row is not None:
        wait = max(1, math.ceil(float(row[1])))
        what = "this account" if str(row[0]).startswith("user:") else "this address"
        raise TooManyRequestsError(f"too many failed logins for {what}; retry in {wait} s", wait)


def record_failure(session: Session, username: str, address: str | None, now: datetime | None = None) -> None:
    """Count a failed login for the username and the address, locking them past the free failures;
    committed at once (the login itself is refused afterwards)."""
    for kind, key in _keys(username, address).items():
        failures = session.execute(text(FAIL_SQL), {"key": key, "window": FAILURE_WINDOW}).scalar_one()
        seconds = lock_seconds(kind, int(failures))
        if seconds > 0:
            session.execute(
                text(
                    "UPDATE login_failure SET locked_until = clock_timestamp() + make_interval(secs => :s) "
                    "WHERE key = :key"
                ),
                {"s": seconds, "key": key},
            )
    session.commit()


def record_success(session: Session, username: str) -> None:
    """Forget the username's failures (the caller commits with the login)."""
    session.execute(
        text("DELETE FROM login_failure WHERE key = :key"), {"key": _keys(username, None)["user"]}
    )
