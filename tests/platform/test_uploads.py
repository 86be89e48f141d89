"""The one upload path: size limit, type from the content, metadata stripped, private storage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from werkzeug.datastructures import FileStorage

from binjai_api import uploads
from binjai_api.errors import Problem

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def photo_with_gps(size: tuple[int, int] = (40, 20), *, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[ORIENTATION_TAG] = orientation
    exif[GPS_TAG] = {1: "N", 2: (3.0, 36.0, 0.0), 3: "E", 4: (98.0, 29.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(content: bytes, filename: str = "photo.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=filename)


def check(
    app: Flask, content: bytes, filename: str = "photo.jpg", max_bytes: int = 1024 * 1024
) -> uploads.CheckedFile:
    with app.test_request_context():
        return uploads.check_upload(
            upload(content, filename), accepted=uploads.IMAGE_TYPES, max_bytes=max_bytes
        )


def test_exif_and_gps_are_stripped_and_the_photo_stays_upright(app: Flask) -> None:
    original = photo_with_gps((40, 20), orientation=6)  # 6: rotate 90° to display
    assert GPS_TAG in Image.open(io.BytesIO(original)).getexif()
    checked = check(app, original)
    stored = Image.open(io.BytesIO(checked.content))
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info and "xmp" not in stored.info
    assert stored.size == (20, 40)  # the orientation was applied before the tag went away
    assert checked.media_type == uploads.JPEG
    assert len(checked.sha256) == 64


def test_the_type_comes_from_the_content_not_the_filename(app: Flask) -> None:
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    assert check(app, png.getvalue(), "looks-like.jpg").media_type == uploads.PNG
    with pytest.raises(Problem) as refused:
        check(app, b"<html>not a photo</html>", "photo.jpg")
    assert (refused.value.status, refused.value.code) == (415, "unsupported_media_type")
    with pytest.raises(Problem) as broken:
        check(app, b"\xff\xd8\xff\xe0 truncated jpeg", "photo.jpg")
    assert broken.value.status == 415
    with pytest.raises(Problem) as pdf_here:
        check(app, b"%PDF-1.7\n...", "scan.pdf")
    assert pdf_here.value.status == 415


def test_a_file_over_the_limit_is_refused_with_413(app: Flask) -> None:
    with pytest.raises(Problem) as too_large:
        check(app, photo_with_gps((400, 400)), max_bytes=1000)
    assert (too_large.value.status, too_large.value.code) == (413, "file_too_large")


def test_a_missing_or_empty_file_is_a_422(app: Flask) -> None:
    for file in (None, upload(b"", "empty.jpg")):
        with app.test_request_context():
            with pytest.raises(Problem) as missing:
                uploads.check_upload(file, accepted=uploads.IMAGE_TYPES, max_bytes=1000)
            assert missing.value.status == 422 and missing.value.errors == {
                "files": {"file": [str(uploads.NO_FILE)]}
            }


def test_stored_files_live_under_the_upload_folder_by_key_only(app: Flask) -> None:
    with app.app_context():
        key = uploads.store(b"content")
        path = Path(app.config["UPLOAD_DIR"]) / key[:2] / key
        assert path.read_bytes() == b"content" == uploads.read_stored(key)
        uploads.delete_stored(key)
        assert not path.exists()
        with pytest.raises(ValueError):
            uploads.read_stored("../../etc/passwd")
