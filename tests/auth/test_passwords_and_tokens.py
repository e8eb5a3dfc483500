"""Password hashing and signed tokens, without a database."""

import pytest

from gis_api.auth.passwords import hash_password, verify_password
from gis_api.auth.tokens import issue_token, read_token, signing_secret
from gis_api.config import Settings
from gis_api.errors import AuthenticationError

SECRET = b"test-secret"
CLAIMS = {"uid": 7, "sub": "west_op", "role": "street_operator", "scope": "420106001"}


def test_password_hash_verifies_only_the_right_password() -> None:
    encoded = hash_password("s3cret-pass")
    assert encoded.startswith("scrypt$")
    assert verify_password("s3cret-pass", encoded)
    assert not verify_password("s3cret-pasS", encoded)
    assert hash_password("s3cret-pass") != encoded  # salted


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$1$2$3$!!$!!", "bcrypt$1$2$3$YQ==$YQ=="])
def test_malformed_stored_hash_never_verifies(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_token_round_trip() -> None:
    claims = read_token(issue_token(CLAIMS, SECRET, ttl_s=60), SECRET)
    assert (claims.user_id, claims.username, claims.scope_code) == (7, "west_op", "420106001")


def test_expired_token_is_rejected() -> None:
    token = issue_token(CLAIMS, SECRET, ttl_s=60, now=1_000_000)
    with pytest.raises(AuthenticationError, match="expired"):
        read_token(token, SECRET, now=1_000_061)


def test_tampered_payload_is_rejected() -> None:
    payload, signature = issue_token(CLAIMS, SECRET, ttl_s=60).split(".")
    forged = issue_token({**CLAIMS, "scope": "420106"}, SECRET, ttl_s=60).split(".")[0]
    with pytest.raises(AuthenticationError, match="signature"):
        read_token(f"{forged}.{signature}", SECRET)
    with pytest.raises(AuthenticationError, match="signature"):
        read_token(f"{payload}.{signature}", b"other-secret")


@pytest.mark.parametrize("token", ["", "abc", ".", "a.", ".b"])
def test_malformed_token_is_rejected(token: str) -> None:
    with pytest.raises(AuthenticationError, match=r"malformed|signature"):
        read_token(token, SECRET)


def test_secret_file_is_created_once_and_private(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WANGGE_AUTH_SECRET", raising=False)
    settings = Settings(var_dir=tmp_path)
    first = signing_secret(settings)
    assert len(first) == 64
    assert signing_secret(settings) == first
    assert (tmp_path / "auth_secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("WANGGE_AUTH_SECRET", "from-env")
    assert signing_secret(Settings(var_dir=tmp_path)) == b"from-env"
