"""Photos attached to case reports and actions, stored by content under <var_dir>/media.

The reference is the SHA-256 of the bytes (`media:sha256:<hex>`), so a client can compute it
before uploading, a re-sent upload stores nothing new, and a case event can cite it offline.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gis_api.errors import InvalidInputError, NotFoundError

MAX_BYTES = 5 * 1024 * 1024
REF_PATTERN = re.compile(r"^media:sha256:([0-9a-f]{64})$")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class StoredMedia:
    ref: str
    content_type: str
    size: int
    created: bool


def image_kind(data: bytes) -> str | None:
    """'jpg', 'png' or 'webp' from the file's magic bytes (never from its name or declared type)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def is_web_url(value: str) -> bool:
    """An absolute http(s) URL of at most 500 characters (never javascript:, data: and the like)."""
    return len(value) <= 500 and value.lower().startswith(("http://", "https://")) and " " not in value


def check_ref(value: str) -> str:
    """Pydantic validator of a cited photo: a stored reference or an http(s) URL, else ValueError."""
    if REF_PATTERN.match(value) or is_web_url(value):
        return value
    raise ValueError("must be a stored photo (media:sha256:<64 hex digits>) or an http(s) URL")


def digest_of(ref: str) -> str | None:
    """The SHA-256 hex digest of a stored photo's reference (None for other references)."""
    match = REF_PATTERN.match(ref)
    return match.group(1) if match else None


def media_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "media"


def store(var_dir: Path, data: bytes) -> StoredMedia:
    """Write the image once under its digest (atomically: a crash never leaves half a photo)."""
    kind = image_kind(data)
    if kind is None:
        raise InvalidInputError("the photo must be a JPEG, PNG or WebP image")
    digest = hashlib.sha256(data).hexdigest()
    folder = media_dir(var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.{kind}"
    created = not target.exists()
    if created:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    return StoredMedia(f"media:sha256:{digest}", CONTENT_TYPES[kind], len(data), created)


def locate(var_dir: Path, ref: str) -> tuple[Path, str]:
    """The stored file of a reference and its content type; 422 for a malformed one, 404 if absent."""
    match = REF_PATTERN.match(ref)
    if match is None:
        raise InvalidInputError(f"media reference {ref[:80]!r} must look like media:sha256:<64 hex digits>")
    for kind, content_type in CONTENT_TYPES.items():
        path = media_dir(var_dir) / f"{match.group(1)}.{kind}"
        if path.is_file():
            return path, content_type
    raise NotFoundError(f"media {ref} not found")
