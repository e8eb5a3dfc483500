"""Open311 requests with a photo (multipart `media`), and the reporter's token."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_api.config import Settings
from tests.open311.test_georeport import BASE, FORM, case_count
from tests.security.api_world import Api

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def media_dir(api: Api, settings: Settings, tmp_path: Path) -> Path:
    """Uploads go to a temporary folder, never the installation's var/media."""
    api.client.app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    return tmp_path / "media"


def test_photo_is_stored_and_cited_but_not_published(api: Api, media_dir: Path) -> None:
    files = {"media": ("scene.png", PNG, "image/png")}
    created = api.client.post(f"{BASE}/requests.json", data={**FORM, "api_key": ""}, files=files)
    assert created.status_code == 201, created.text
    answer = created.json()[0]
    ref = f"media:sha256:{hashlib.sha256(PNG).hexdigest()}"
    assert (media_dir / f"{hashlib.sha256(PNG).hexdigest()}.png").read_bytes() == PNG
    report = api.get(f"/cases/{answer['service_request_id']}").json()["events"][0]
    assert report["media"] == [ref]
    public = api.client.get(f"{BASE}/requests/{answer['service_request_id']}.json").json()[0]
    assert public["media_url"] == ""  # the photo stays with the case; photos are not public


def test_bad_photos_are_400_and_store_nothing(api: Api, db_session: Session, media_dir: Path) -> None:
    for name, content, message in (
        ("a.txt", b"not an image at all", "JPEG, PNG or WebP"),
        ("big.png", PNG + bytes(5 * 1024 * 1024), "larger than"),
        ("empty.png", b"", "media is empty"),
    ):
        response = api.client.post(
            f"{BASE}/requests.json", data=FORM, files={"media": (name, content, "image/png")}
        )
        assert response.status_code == 400, response.text
        assert message in response.json()[0]["description"]
    assert case_count(db_session) == 0 and not media_dir.exists()


def test_token_comes_back_with_the_idempotency_key(api: Api) -> None:
    key = {"Idempotency-Key": "phone-7"}
    first = api.client.post(f"{BASE}/requests.json", data=FORM, headers=key).json()[0]
    again = api.client.post(f"{BASE}/requests.json", data=FORM, headers=key)
    assert again.status_code == 200 and again.json()[0]["token"] == first["token"]
    assert len(first["token"]) >= 20
