"""Photos: content-checked, at most 5 MB and 5 per report, stripped of EXIF/GPS, and nothing
stored when a check fails."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from binjai_api.complaints.models import ComplaintPhoto
from binjai_api.extensions import db
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, jpeg_with_gps, submit, upload
from tests.platform.test_errors import assert_problem


def _stored_files(app: Flask) -> set[Path]:
    return {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}


def _photo_rows(app: Flask, complaint_id: str) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ComplaintPhoto)
                .where(ComplaintPhoto.complaint_id == uuid.UUID(complaint_id))
            )
            or 0
        )


def test_a_photo_is_stored_without_exif_and_gps(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the phone's GPS
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    response = upload(client, resident.headers, cid, original)
    assert response.status_code == 201, response.get_json()
    photo = response.get_json()
    assert photo["purpose"] == "report" and photo["media_type"] == "image/jpeg"
    assert "storage" not in str(photo) and photo["url"].startswith("/api/v1/complaints/")
    own = client.get(photo["url"], headers=resident.headers)
    assert own.status_code == 200 and own.mimetype == "image/jpeg"
    stored = Image.open(io.BytesIO(own.data))
    assert not stored.getexif() and "exif" not in stored.info
    # The report is public: anyone can see the photo, through the public path only.
    public = client.get(f"/api/v1/public/complaints/{cid}").get_json()["photos"][0]["url"]
    assert public == f"/api/v1/public/complaints/{cid}/photos/{photo['id']}"
    assert client.get(public).data == own.data


def test_oversized_and_non_image_uploads_store_nothing(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    before = _stored_files(app)
    too_big = jpeg_with_gps() + b"\0" * (5 * 1024 * 1024)
    assert_problem(upload(client, resident.headers, cid, too_big), 413, "file_too_large")
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
    assert_problem(
        upload(client, resident.headers, cid, pdf, "photo.jpg"), 415, "unsupported_media_type"
    )
    fake = b"\xff\xd8\xff" + b"not really a jpeg" * 20
    assert_problem(upload(client, resident.headers, cid, fake), 415, "unsupported_media_type")
    missing = client.post(
        f"/api/v1/complaints/{cid}/photos",
        headers=resident.headers,
        data={},
        content_type="multipart/form-data",
    )
    assert_problem(missing, 422, "validation_error")
    assert _stored_files(app) == before
    assert _photo_rows(app, cid) == 0


def test_at_most_five_photos_per_report(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    cid = submit(client, resident.headers, categories["waste"])["id"]
    for _ in range(5):
        assert upload(client, resident.headers, cid, jpeg_with_gps()).status_code == 201
    before = _stored_files(app)
    assert_problem(
        upload(client, resident.headers, cid, jpeg_with_gps()), 409, "photo_limit_reached"
    )
    assert _stored_files(app) == before and _photo_rows(app, cid) == 5


def test_officers_add_resolution_photos_and_confidential_photos_stay_private(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"], privacy="confidential")["id"]
    act(client, operator.headers, cid, "dispatch")
    act(client, pupr_officer.headers, cid, "resolve", note="Sudah ditambal")
    fix = upload(client, pupr_officer.headers, cid, jpeg_with_gps())
    assert fix.status_code == 201 and fix.get_json()["purpose"] == "resolution"
    photo_id = fix.get_json()["id"]
    assert client.get(fix.get_json()["url"], headers=resident.headers).status_code == 200
    assert_problem(
        client.get(fix.get_json()["url"], headers=other_resident.headers), 404, "not_found"
    )
    assert_problem(
        client.get(f"/api/v1/public/complaints/{cid}/photos/{photo_id}"), 404, "not_found"
    )
    # The reporter's own photos belong to an open report.
    assert_problem(
        upload(client, resident.headers, cid, jpeg_with_gps()), 409, "invalid_transition"
    )
