"""Open311 requests with photos (multipart `media`, the api_key a form field like the others), the
public copy of a resident's photo, and the reporter's token."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_api.config import Settings
from tests.open311.test_georeport import BASE, FORM, case_count
from tests.security.api_world import Api

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def media_dir(api: Api, settings: Settings, tmp_path: Path) -> Path:
    """Uploads go to a temporary folder, never the installation's var/media."""
    api.client.app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    return tmp_path / "media"


def test_photos_are_stored_cited_and_published_as_public_copies(api: Api, media_dir: Path) -> None:
    files = [("media", ("scene.png", PNG, "image/png")), ("media", ("near.png", OTHER_PNG, "image/png"))]
    created = api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM), files=files)
    assert created.status_code == 201, created.text
    answer = created.json()[0]
    digests = [hashlib.sha256(photo).hexdigest() for photo in (PNG, OTHER_PNG)]
    assert (media_dir / f"{digests[0]}.png").read_bytes() == PNG
    report = api.get(f"/cases/{answer['service_request_id']}").json()["events"][0]
    assert report["media"] == [f"media:sha256:{digest}" for digest in digests]
    public = api.client.get(f"{BASE}/requests/{answer['service_request_id']}.json").json()[0]
    assert public["media_url"] == f"{BASE}/media/{digests[0]}"  # the first photo's public copy
    photo = api.client.get(public["media_url"])
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"


def test_multipart_without_a_valid_key_is_403_and_stores_nothing(
    api: Api, db_session: Session, media_dir: Path
) -> None:
    for key in ("", "wg311_not-a-key"):
        photo = {"media": ("a.png", PNG, "image/png")}
        refused = api.client.post(f"{BASE}/requests.json", data={**FORM, "api_key": key}, files=photo)
        assert refused.status_code == 403, refused.text
        assert "api_key" in refused.json()[0]["description"]
    assert case_count(db_session) == 0 and not media_dir.exists()


def test_bad_photos_are_400_and_store_nothing(api: Api, db_session: Session, media_dir: Path) -> None:
    for name, content, message in (
        ("a.txt", b"not an image at all", "JPEG, PNG or WebP"),
        ("big.png", PNG + bytes(5 * 1024 * 1024), "larger than"),
        ("empty.png", b"", "media is empty"),
    ):
        response = api.client.post(
            f"{BASE}/requests.json", data=api.keyed(FORM), files={"media": (name, content, "image/png")}
        )
        assert response.status_code == 400, response.text
        assert message in response.json()[0]["description"]
    four = [("media", (f"{n}.png", PNG, "image/png")) for n in range(4)]
    too_many = api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM), files=four)
    assert too_many.status_code == 400 and "malformed form body" in too_many.json()[0]["description"]
    assert case_count(db_session) == 0 and not media_dir.exists()


def test_token_comes_back_with_the_idempotency_key(api: Api) -> None:
    key = {"Idempotency-Key": "phone-7"}
    first = api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM), headers=key).json()[0]
    again = api.client.post(f"{BASE}/requests.json", data=api.keyed(FORM), headers=key)
    assert again.status_code == 200 and again.json()[0]["token"] == first["token"]
    assert len(first["token"]) >= 20
