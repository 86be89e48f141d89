"""GET and PATCH /api/v1/me: the owner's own profile, with ETags and fresh-login rules."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.models import User
from binjai_api.auth.schemas import AccountSchema
from binjai_api.extensions import db
from binjai_api.openapi import Blueprint
from tests import factories
from tests.platform.test_errors import assert_problem


def test_me_sends_an_etag_and_honours_if_none_match(client: FlaskClient, auth_headers: Any) -> None:
    headers = auth_headers()
    first = client.get("/api/v1/me", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get("/api/v1/me", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_patch_changes_the_profile(client: FlaskClient, auth_headers: Any) -> None:
    headers = auth_headers()
    response = client.patch(
        "/api/v1/me",
        headers=headers,
        json={
            "full_name": "Siti Aminah Lubis",
            "language": "en",
            "kelurahan_code": "12.75.05.1002",
        },
    )
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Siti Aminah Lubis"
    assert response.get_json()["kelurahan_code"] == "12.75.05.1002"


def test_patch_with_a_stale_if_match_is_a_412(client: FlaskClient, auth_headers: Any) -> None:
    headers = auth_headers()
    etag = client.get("/api/v1/me", headers=headers).headers["ETag"]
    assert (
        client.patch(
            "/api/v1/me", headers={**headers, "If-Match": etag}, json={"full_name": "Nama Pertama"}
        ).status_code
        == 200
    )
    stale = client.patch(
        "/api/v1/me", headers={**headers, "If-Match": etag}, json={"full_name": "Nama Kedua"}
    )
    assert_problem(stale, 412, "precondition_failed")


def test_unknown_kelurahan_is_a_422(client: FlaskClient, auth_headers: Any) -> None:
    response = client.patch(
        "/api/v1/me", headers=auth_headers(), json={"kelurahan_code": "12.75.09.9999"}
    )
    assert list(assert_problem(response, 422, "validation_error")["errors"]["json"]) == [
        "kelurahan_code"
    ]


def test_changing_phone_needs_a_fresh_login(app: Flask, client: FlaskClient) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    ).get_json()
    stale = client.patch(
        "/api/v1/me",
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        json={"phone": "081377778888"},
    )
    assert_problem(stale, 401, "fresh_login_required")
    fresh = factories.login(client, account)
    response = client.patch(
        "/api/v1/me",
        headers={"Authorization": f"Bearer {fresh['access_token']}"},
        json={"phone": "081377778888", "email": "baru@example.com"},
    )
    assert response.status_code == 200
    assert response.get_json()["phone"] == "+6281377778888"


def test_role_cannot_be_changed_through_me(client: FlaskClient, auth_headers: Any) -> None:
    response = client.patch("/api/v1/me", headers=auth_headers(), json={"role": "admin"})
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("role", "fields"),
    [
        ("citizen", {"full_name": "Siti Aminah Nasution-Ñ", "email": None}),
        ("citizen", {"email": "siti@example.com"}),
        ("officer", {"agency_code": "DINKES", "phone": "081234500001"}),
        ("operator", {}),
        ("admin", {}),
    ],
)
def test_me_is_written_as_marshmallow_dumps_the_account(
    app: Flask, client: FlaskClient, role: str, fields: dict[str, Any]
) -> None:
    """GET /me writes the account itself from the session check's row (no ORM object): the
    body, field for field and in order, byte for byte, and its ETag are those of
    `AccountSchema`'s marshmallow dump of the ORM account."""
    account = factories.make_account(app, role, **fields)
    headers = factories.login_headers(client, account)
    if role == "citizen":
        assert (
            client.patch(
                "/api/v1/me", headers=headers, json={"kelurahan_code": "12.75.05.1002"}
            ).status_code
            == 200
        )
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    with app.test_request_context():
        user = db.session.get(User, uuid.UUID(account.id))
        expected = ma.Schema.dump(AccountSchema(), user)
        written = app.json.response(expected)
        expected_etag = Blueprint._generate_etag(expected)
    assert list(response.get_json().items()) == list(expected.items())
    assert response.get_data() == written.get_data()  # type: ignore[attr-defined]
    for header in ("Content-Type", "Content-Length"):
        assert response.headers[header] == written.headers[header]
    assert response.headers["ETag"] == f'"{expected_etag}"'
    assert response.headers["Content-Language"] == "id"
    assert response.headers["Cache-Control"] == "no-store"
    if role == "officer":
        assert response.get_json()["agency"]["code"] == "DINKES"


def test_me_of_an_account_gone_is_a_401(app: Flask, client: FlaskClient) -> None:
    """An account deleted under a live token: the session check finds nothing (401), as when
    it was loaded through the ORM."""
    account = factories.make_account(app)
    headers = factories.login_headers(client, account)
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.id == uuid.UUID(account.id)))
        db.session.commit()
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "token_revoked")


def test_me_answers_a_changed_account_afresh(client: FlaskClient, auth_headers: Any) -> None:
    """/me's answer is written once per distinct account row: a change shows at once, with a new
    ETag, and the old ETag no longer answers 304."""
    headers = auth_headers()
    first = client.get("/api/v1/me", headers=headers)
    assert client.get("/api/v1/me", headers=headers).get_data() == first.get_data()
    changed = client.patch("/api/v1/me", headers=headers, json={"full_name": "Nama Baru Sekali"})
    assert changed.status_code == 200
    after = client.get("/api/v1/me", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["full_name"] == "Nama Baru Sekali"
    assert after.headers["ETag"] not in (first.headers["ETag"], None)
    assert after.headers["ETag"] == changed.headers["ETag"]
    again = client.get("/api/v1/me", headers={**headers, "If-None-Match": after.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
