"""Password hashing (Argon2id, legacy scrypt upgraded) and JWT access tokens, without a database."""

import base64
import hashlib

import jwt
import pytest

from gis_api.auth.passwords import hash_password, verify_and_update, verify_password
from gis_api.auth.tokens import (
    KeyRing,
    issue_token,
    key_id,
    keyring,
    read_token,
    rotate_secret_file,
    signing_secret,
)
from gis_api.config import Settings
from gis_api.errors import AuthenticationError

SECRET = b"test-secret-of-thirty-two-bytes!"
CLAIMS = {"uid": 7, "sub": "west_op", "role": "street_operator", "scope": "420106001"}


def legacy_scrypt(password: str) -> str:
    """A hash as the earlier release stored it (scrypt$n$r$p$salt$key)."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def test_password_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    encoded = hash_password("s3cret-pass")
    assert encoded.startswith("$argon2id$")
    assert verify_password("s3cret-pass", encoded)
    assert not verify_password("s3cret-pasS", encoded)
    assert hash_password("s3cret-pass") != encoded  # salted
    assert verify_and_update("s3cret-pass", encoded) == (True, None)  # current parameters: no rehash


def test_legacy_scrypt_hash_verifies_and_is_replaced_by_argon2id() -> None:
    stored = legacy_scrypt("old-password")
    matches, new_hash = verify_and_update("old-password", stored)
    assert matches and new_hash is not None and new_hash.startswith("$argon2id$")
    assert verify_password("old-password", new_hash)
    assert verify_and_update("wrong", stored) == (False, None)


@pytest.mark.parametrize(
    "stored", ["", "plain", "scrypt$1$2$3$!!$!!", "bcrypt$1$2$3$YQ==$YQ==", "$argon2id$v=19$garbage"]
)
def test_malformed_stored_hash_never_verifies(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_token_is_a_standard_hs256_jwt_with_kid() -> None:
    token = issue_token(CLAIMS, SECRET, ttl_s=60)
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"], header["kid"]) == ("HS256", "JWT", key_id(SECRET))
    body = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert body["sub"] == "west_op" and body["exp"] - body["iat"] == 60 and len(body["jti"]) == 32
    claims = read_token(token, SECRET)
    assert (claims.user_id, claims.username, claims.scope_code) == (7, "west_op", "420106001")


def test_expired_token_is_rejected() -> None:
    token = issue_token(CLAIMS, SECRET, ttl_s=60, now=1_000_000)
    with pytest.raises(AuthenticationError, match="expired"):
        read_token(token, SECRET, now=1_000_061)


def test_tampered_payload_and_other_keys_are_rejected() -> None:
    header, payload, signature = issue_token(CLAIMS, SECRET, ttl_s=60).split(".")
    forged = issue_token({**CLAIMS, "scope": "420106"}, SECRET, ttl_s=60).split(".")[1]
    with pytest.raises(AuthenticationError, match="signature"):
        read_token(f"{header}.{forged}.{signature}", SECRET)
    with pytest.raises(AuthenticationError, match="signature"):
        read_token(f"{header}.{payload}.{signature}", b"other-secret")


def test_algorithm_none_and_other_algorithms_are_rejected() -> None:
    unsigned = jwt.encode({**CLAIMS, "iat": 1, "exp": 2**40}, None, algorithm="none")
    with pytest.raises(AuthenticationError, match="malformed"):
        read_token(unsigned, SECRET)
    hs512 = jwt.encode({**CLAIMS, "iat": 1, "exp": 2**40}, SECRET * 2, algorithm="HS512")
    with pytest.raises(AuthenticationError, match=r"malformed|signature"):
        read_token(hs512, SECRET)


@pytest.mark.parametrize("token", ["", "abc", ".", "a.", ".b", "a.b.c", "Bé.x.y"])
def test_malformed_token_is_rejected(token: str) -> None:
    with pytest.raises(AuthenticationError, match=r"malformed|signature"):
        read_token(token, SECRET)


def test_rotation_keeps_tokens_of_the_earlier_key_valid(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WANGGE_AUTH_SECRET", raising=False)
    settings = Settings(var_dir=tmp_path)
    old_token = issue_token(CLAIMS, keyring(settings), ttl_s=60)
    new_kid = rotate_secret_file(settings)
    rotated = keyring(settings)
    assert key_id(rotated.current) == new_kid and len(rotated.keys) == 2
    assert read_token(old_token, rotated).username == "west_op"
    assert jwt.get_unverified_header(issue_token(CLAIMS, rotated, ttl_s=60))["kid"] == new_kid
    with pytest.raises(AuthenticationError, match="unknown signing key"):
        read_token(old_token, KeyRing((rotated.current,)))


def test_secret_file_is_created_once_and_private(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WANGGE_AUTH_SECRET", raising=False)
    settings = Settings(var_dir=tmp_path)
    first = signing_secret(settings)
    assert len(first) == 64
    assert signing_secret(settings) == first
    assert (tmp_path / "auth_secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("WANGGE_AUTH_SECRET", "from-env")
    monkeypatch.setenv("WANGGE_AUTH_PREVIOUS_SECRETS", "older, oldest")
    ring = keyring(Settings(var_dir=tmp_path))
    assert ring.keys == (b"from-env", b"older", b"oldest")
