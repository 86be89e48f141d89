"""Documents go through the one upload path: per-requirement types and sizes, SHA-256 recorded,
a re-upload is a new version, and a refused file leaves nothing behind."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.licensing.models import PermitDocument
from tests.licensing.helpers import (
    BASE,
    PDF,
    count,
    draft,
    make_permit_type,
    person,
    png_bytes,
    stored_files,
    upload,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


def test_a_reupload_adds_a_version_with_its_own_hash(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    first = upload(client, applicant.headers, application["id"], "ktp").get_json()
    image = png_bytes()
    second = upload(client, applicant.headers, application["id"], "ktp", image, "ktp.png")
    assert second.status_code == 201
    second_body = second.get_json()
    assert (first["version"], second_body["version"]) == (1, 2)
    assert first["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert second_body["media_type"] == "image/png"
    assert second_body["sha256"] != first["sha256"]
    detail = client.get(f"{BASE}/{application['id']}", headers=applicant.headers).get_json()
    assert [(d["requirement_code"], d["version"]) for d in detail["documents"]] == [
        ("ktp", 1),
        ("ktp", 2),
    ]
    # Both versions stay downloadable.
    old = client.get(
        f"{BASE}/{application['id']}/documents/{first['id']}", headers=applicant.headers
    )
    assert old.data == PDF
    uploads = [e for e in detail["timeline"] if e["action"] == "upload_document"]
    assert [e["details"]["version"] for e in uploads] == [1, 2]


@pytest.mark.parametrize(
    ("requirement", "content", "status", "code"),
    [
        ("ktp", b"%PDF-1.4\n" + b"x" * 5000, 413, "file_too_large"),  # limit 4096 bytes
        ("str", b"GIF89a not accepted here", 415, "unsupported_media_type"),
        ("str", None, 415, "unsupported_media_type"),  # a PNG where only PDF is accepted
    ],
)
def test_refused_uploads_store_nothing(
    app: Flask,
    client: FlaskClient,
    requirement: str,
    content: bytes | None,
    status: int,
    code: str,
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    files_before = stored_files(app)
    rows_before = count(app, PermitDocument)
    response = upload(
        client, applicant.headers, application["id"], requirement, content or png_bytes()
    )
    assert_problem(response, status, code)
    assert stored_files(app) == files_before
    assert count(app, PermitDocument) == rows_before


def test_an_unknown_requirement_or_a_missing_file_is_a_422(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    body = assert_problem(
        upload(client, applicant.headers, application["id"], "paspor"), 422, "validation_error"
    )
    assert "requirement_code" in body["errors"]["files"]
    response = client.post(
        f"{BASE}/{application['id']}/documents",
        headers=applicant.headers,
        data={"requirement_code": "ktp"},
        content_type="multipart/form-data",
    )
    assert "file" in assert_problem(response, 422, "validation_error")["errors"]["files"]
