"""Signed capability links: a short HMAC over a purpose and a message, for holders without an account.

A resident's report token (rate the handling), a household's survey link and a planner's report link
are each `sign(secret, purpose, message)`: the key is derived per purpose from the installation's
secret (auth.tokens.signing_secret), so a value signed for one purpose never verifies for another.
Nothing is stored; rotating the secret invalidates every outstanding link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from gis_api.auth.tokens import signing_secret
from gis_api.config import Settings

SIGNATURE_BYTES = 16
"""128 bits: unguessable, and short enough for a QR code a phone reads at arm's length."""


def link_secret(settings: Settings) -> bytes:
    """The installation's secret (the one bearer tokens are signed with)."""
    return signing_secret(settings)


def sign(secret: bytes, purpose: str, message: str) -> str:
    """URL-safe signature of `message` for `purpose`."""
    key = hmac.new(secret, f"wangge-link:{purpose}".encode(), hashlib.sha256).digest()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(secret: bytes, purpose: str, message: str, signature: str) -> bool:
    """True when `signature` is sign(secret, purpose, message) (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, purpose, message), signature)
