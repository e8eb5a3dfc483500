"""Open311 API keys: one per channel (a WeChat mini program, the residents' page, a 12345 hotline
bridge), required to post service requests.

A key is shown once when it is made; only its SHA-256 is stored. The keys are 32 random bytes, so a
fast hash is enough (no one can guess or brute-force them; Argon2 is for human passwords).

The residents' page (/report) is a channel like any other, with one difference: its key is handed
to every visitor (in /config.json), so it is not a secret. It names the channel: posts through the
page share that key's rate limit, show up as reporter `open311:residents`, and the district can stop
the page's posts at once by revoking it (`wangge apikey revoke residents`, then `wangge apikey
residents` for a new one). What protects the public channel from abuse is the per-address limit, the
per-key limit, the input rules and the fact that only public data is published, not the key.
`wangge demo` (and `wangge apikey residents`) provisions it in <var_dir>/residents_api_key;
WANGGE_RESIDENTS_API_KEY overrides the file (e.g. for several API hosts sharing one key).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.config import Settings
from gis_api.errors import ConflictError, InvalidInputError, PermissionDeniedError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,48}$")
PREFIX = "wg311_"
RESIDENTS_CHANNEL = "residents"
RESIDENTS_KEY_FILE = "residents_api_key"


@dataclass(frozen=True)
class ApiKeyInfo:
    """One channel's key as `wangge apikey list` shows it (never the key itself)."""

    name: str
    created_at: datetime
    revoked_at: datetime | None

    def __str__(self) -> str:
        state = f"revoked {self.revoked_at:%Y-%m-%d %H:%M}" if self.revoked_at else "active"
        return f"{self.name}\tcreated {self.created_at:%Y-%m-%d %H:%M}\t{state}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_key(session: Session, name: str) -> str:
    """Make the channel's key and return it (shown once); ConflictError if the name is taken."""
    if not NAME_PATTERN.match(name):
        raise InvalidInputError(f"channel name {name!r} must be 1-48 letters, digits, _ . -")
    if session.execute(text("SELECT 1 FROM api_key WHERE name = :n"), {"n": name}).first():
        raise ConflictError(f"an API key named {name!r} already exists (revoke it and pick a new name)")
    key = PREFIX + secrets.token_urlsafe(32)
    session.execute(
        text("INSERT INTO api_key (name, key_hash) VALUES (:n, :h)"), {"n": name, "h": _digest(key)}
    )
    session.commit()
    return key


def revoke_key(session: Session, name: str) -> None:
    """Stop accepting the channel's key at once."""
    done = session.execute(
        text("UPDATE api_key SET revoked_at = now() WHERE name = :n AND revoked_at IS NULL RETURNING id"),
        {"n": name},
    ).first()
    if done is None:
        raise InvalidInputError(f"no active API key named {name!r}")
    session.commit()


def list_keys(session: Session) -> list[ApiKeyInfo]:
    rows = session.execute(text("SELECT name, created_at, revoked_at FROM api_key ORDER BY name")).all()
    return [ApiKeyInfo(str(r[0]), r[1], r[2]) for r in rows]


def channel_of(session: Session, key: str | None) -> str:
    """The channel a presented key belongs to; PermissionDeniedError (403) when missing or invalid."""
    if not key:
        raise PermissionDeniedError("api_key is required to post service requests: ask the district for one")
    if len(key) > 200 or not key.isascii():
        raise PermissionDeniedError("api_key is not valid")
    name = session.execute(
        text("SELECT name FROM api_key WHERE key_hash = :h AND revoked_at IS NULL"), {"h": _digest(key)}
    ).scalar_one_or_none()
    if name is None:
        raise PermissionDeniedError("api_key is not valid (unknown or revoked)")
    return str(name)


def residents_key_path(var_dir: Path) -> Path:
    return Path(var_dir) / RESIDENTS_KEY_FILE


def residents_page_key(settings: Settings) -> str:
    """The key the residents' page sends as `api_key`: WANGGE_RESIDENTS_API_KEY, else the one
    provisioned in <var_dir>/residents_api_key, else '' (the page's posts then get 403)."""
    if settings.residents_api_key:
        return settings.residents_api_key
    try:
        return residents_key_path(settings.var_dir).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


@dataclass(frozen=True)
class ProvisionedKey:
    channel: str
    created: bool


def provision_residents_key(session: Session, var_dir: Path) -> ProvisionedKey:
    """Make sure <var_dir>/residents_api_key holds an active key of the residents' page: keep the one
    there while it is active, else make one (channel `residents`, or `residents-2`, ... when earlier
    ones were revoked: names are never reused) and write it atomically."""
    path = residents_key_path(var_dir)
    current = path.read_text(encoding="ascii").strip() if path.is_file() else ""
    try:
        return ProvisionedKey(channel_of(session, current), created=False)
    except PermissionDeniedError:
        pass
    taken = {info.name for info in list_keys(session)}
    channel = next(
        name
        for number in range(1, len(taken) + 2)
        if (name := RESIDENTS_CHANNEL if number == 1 else f"{RESIDENTS_CHANNEL}-{number}") not in taken
    )
    key = add_key(session, channel)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".residents-key-")
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(key + "\n")
    os.replace(temporary, path)
    return ProvisionedKey(channel, created=True)
