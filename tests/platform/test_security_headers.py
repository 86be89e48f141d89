"""Headers by kind of response (issue 15, point 8): every HTML page refuses to be framed, every
file is an attachment. Set centrally, so that a page or download added later gets them too."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from binjai_api.access import mark_public
from tests.complaints.helpers import report
from tests.conftest import make_test_app
from tests.licensing.helpers import BASE, PDF, make_permit_type, person, submitted
from tests.platform.test_image_budget import _category
from tests.platform.test_uploads import photo_with_gps

pytestmark = pytest.mark.usefixtures("rollback_db")


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_docs_cannot_be_framed(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_page_with_its_own_policy_keeps_it_and_cannot_be_framed(database_url: str) -> None:
    app = make_test_app(database_url)

    def page() -> Response:
        response = Response("<p>Izin sah</p>", mimetype="text/html")
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src data:"
        return response

    app.add_url_rule("/own-policy", "own_policy", mark_public(page))
    policy = app.test_client().get("/own-policy").headers["Content-Security-Policy"]
    assert policy == "default-src 'none'; img-src data:; frame-ancestors 'none'"


def test_a_page_added_later_cannot_be_framed_either(database_url: str) -> None:
    app = make_test_app(database_url)
    app.add_url_rule("/later", "later", mark_public(lambda: "<p>Halo</p>"))
    response = app.test_client().get("/later")
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_json_answers_carry_no_page_policy(client: FlaskClient) -> None:
    response = client.get("/api/v1/agencies")
    assert response.mimetype == "application/json"
    assert "Content-Security-Policy" not in response.headers
    assert "Content-Disposition" not in response.headers


def test_an_application_document_is_downloaded_as_an_attachment(
    app: Flask, client: FlaskClient
) -> None:
    owner = person(app, client)
    app_id = submitted(client, owner, make_permit_type(app))
    document_id = client.get(f"{BASE}/{app_id}", headers=owner.headers).get_json()["documents"][0][
        "id"
    ]
    response = client.get(f"{BASE}/{app_id}/documents/{document_id}", headers=owner.headers)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_complaint_photo_is_an_attachment_too(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    headers = auth_headers()
    complaint = client.post("/api/v1/complaints", headers=headers, json=report(_category(app)))
    complaint_id = complaint.get_json()["id"]
    uploaded = client.post(
        f"/api/v1/complaints/{complaint_id}/photos",
        headers=headers,
        data={"file": (io.BytesIO(photo_with_gps()), "lubang.jpg")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    photo_id = uploaded.get_json()["id"]
    response = client.get(f"/api/v1/complaints/{complaint_id}/photos/{photo_id}", headers=headers)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"] == "attachment"


def test_the_docs_assets_load_inline(client: FlaskClient) -> None:
    response = client.get("/api/static/vendor/redoc/redoc.standalone.js")
    assert response.status_code == 200
    assert not response.headers.get("Content-Disposition", "").startswith("attachment")
