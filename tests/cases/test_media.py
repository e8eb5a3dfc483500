"""POST /media and GET /media/{ref}: photos checked by content, stored once under their digest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from gis_api.cases.media import MAX_BYTES, image_kind
from gis_api.config import Settings
from tests.security.api_world import Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"JFIF\x00" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24)


@pytest.fixture
def var_dir(app: FastAPI, settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """The app's var_dir moved to a temporary folder, so uploads never touch the real one."""
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path})
    yield tmp_path


def upload(api: Api, data: bytes, name: str = "photo.bin", mime: str = "application/octet-stream") -> object:
    return api.post("/media", files={"file": (name, data, mime)})


def test_magic_bytes_decide_the_kind() -> None:
    assert [image_kind(b) for b in (PNG, JPEG, WEBP)] == ["png", "jpg", "webp"]
    assert image_kind(b"GIF89a" + bytes(20)) is None and image_kind(b"RIFF\x00\x00\x00\x00WAVE") is None


def test_upload_stores_once_and_reads_back(api: Api, var_dir: Path) -> None:
    response = upload(api.as_("west_worker"), PNG, "IMG_0001.jpg", "image/jpeg")  # the name lies
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    digest = hashlib.sha256(PNG).hexdigest()
    assert response.json() == {"ref": f"media:sha256:{digest}", "content_type": "image/png", "size": len(PNG)}  # type: ignore[attr-defined]
    assert (var_dir / "media" / f"{digest}.png").read_bytes() == PNG
    again = upload(api.as_("west_op"), PNG)
    assert again.json()["ref"] == f"media:sha256:{digest}"  # type: ignore[attr-defined]
    assert sorted(p.name for p in (var_dir / "media").iterdir()) == [f"{digest}.png"]
    read = api.as_("west_op").get(f"/media/media:sha256:{digest}")  # an uploader reads it back
    assert read.status_code == 200 and read.content == PNG and read.headers["content-type"] == "image/png"
    assert read.headers["cache-control"] == "no-store"
    assert (
        api.as_("east_op").get(f"/media/media:sha256:{digest}").status_code == 404
    )  # cited nowhere of theirs
    assert api.as_("planner").get(f"/media/media:sha256:{digest}").status_code == 403


def test_photo_ref_is_cited_by_a_disposal(api: Api, var_dir: Path) -> None:
    ref = upload(api, JPEG).json()["ref"]  # type: ignore[attr-defined]
    case_id = api.registered()
    assert api.post(f"/cases/{case_id}/dispatch", {}).status_code == 200
    for action in ("start", "dispose"):
        assert api.post(f"/cases/{case_id}/actions/{action}", {"media": [ref]}).status_code == 200
    events = api.get(f"/cases/{case_id}").json()["events"]
    assert events[-1]["action"] == "dispose" and events[-1]["media"] == [ref]
    assert api.get(f"/media/{ref}").content == JPEG


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"GIF89a" + bytes(100), 415, "JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "JPEG, PNG or WebP"),
        (b"", 415, "JPEG, PNG or WebP"),
        (JPEG + bytes(MAX_BYTES), 413, "larger than 5 MB"),
    ],
)
def test_bad_uploads_store_nothing(api: Api, var_dir: Path, data: bytes, status: int, message: str) -> None:
    response = upload(api, data, "x.jpg", "image/jpeg")
    assert response.status_code == status and message in response.text  # type: ignore[attr-defined]
    assert not (var_dir / "media").exists() or not any((var_dir / "media").iterdir())


def test_upload_needs_a_file_and_a_login(api: Api, var_dir: Path) -> None:
    assert api.client.post("/media", files={"file": ("a.png", PNG, "image/png")}).status_code == 401
    missing = api.post("/media", data={"note": "no file"})
    assert missing.status_code == 422 and "body field file" in missing.text
    assert api.client.get(f"/media/media:sha256:{'0' * 64}").status_code == 401


@pytest.mark.parametrize(
    ("ref", "status", "message"),
    [
        (f"media:sha256:{'0' * 64}", 404, "not found"),
        ("media:sha256:abc", 422, "must look like media:sha256"),
        (f"media:sha256:{'G' * 64}", 422, "must look like media:sha256"),
        ("auth_secret", 422, "must look like media:sha256"),
    ],
)
def test_bad_refs(api: Api, var_dir: Path, ref: str, status: int, message: str) -> None:
    response = api.get(f"/media/{ref}")
    assert response.status_code == status and message in response.text, response.text
