"""Signed capability links: a short HMAC over a purpose and a message, for holders without an account.

A resident's report token (rate the handling), a household's survey link and a planner's report link
are each `sign(secret, purpose, message)`: the key is derived per purpose from the installation's
secret (auth.tokens.signing_secret), so a value signed for one purpose never verifies for another.
Nothing is stored. Links are signed with the current signing key and verified with every key of
the ring (auth.tokens.KeyRing), so `wangge auth rotate-key` does not void the survey QR codes already
printed or the rating tokens residents hold; only dropping a key from the ring does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from gis_api.auth.tokens import KeyRing, keyring
from gis_api.config import Settings

SIGNATURE_BYTES = 16
"""128 bits: unguessable, and short enough for a QR code a phone reads at arm's length."""
LinkSecret = bytes | KeyRing
"""One key, or the installation's ring (signs with its current key, verifies with any)."""


def link_secret(settings: Settings) -> KeyRing:
    """The installation's keys (the ones bearer tokens are signed and verified with)."""
    return keyring(settings)


def _signature(key: bytes, purpose: str, message: str) -> str:
    purpose_key = hmac.new(key, f"wangge-link:{purpose}".encode(), hashlib.sha256).digest()
    digest = hmac.new(purpose_key, message.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: LinkSecret, purpose: str, message: str) -> str:
    """URL-safe signature of `message` for `purpose` with the current key."""
    return _signature(KeyRing.of(secret).current, purpose, message)


def verify(secret: LinkSecret, purpose: str, message: str, signature: str) -> bool:
    """True when `signature` is the signature of `message` for `purpose` by any key of the ring
    (constant-time comparison; anything not ASCII is simply not a signature)."""
    if not signature.isascii():
        return False
    given = signature.encode("ascii")
    keys = KeyRing.of(secret).keys
    return any(hmac.compare_digest(_signature(key, purpose, message).encode("ascii"), given) for key in keys)
