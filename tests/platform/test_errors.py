"""Every error is RFC 9457 problem+json with a stable code, the request path and the request id."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from binjai_api.extensions import db
from tests import factories
from tests.conftest import make_test_app

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_MEMBERS, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:binjai:problem:{code}"
    assert body["instance"] == response.request.path
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["title"] and body["detail"]
    return dict(body)


def test_unknown_route_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_html_is_never_answered_even_for_browsers(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert_problem(response, 404, "not_found")


def test_wrong_method_is_a_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/agencies")
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_malformed_json_is_a_400(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_wrong_media_type_is_a_415(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/auth/login",
        data="username=a&password=b",
        content_type="application/x-www-form-urlencoded",
    )
    body = assert_problem(response, 415, "unsupported_media_type")
    assert "application/json" in body["detail"]


def test_too_large_body_is_a_413(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from binjai_api.extensions import limiter

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/api/v1/auth/register", json={"full_name": "x" * 5000})
    assert_problem(response, 413, "payload_too_large")
    # The limiter's key functions read the body too: an oversized one must not make the
    # limiter think its storage died and fall back to per-instance memory.
    assert not limiter._storage_dead


def test_invalid_fields_are_a_422_listing_each_field(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/register", json={"full_name": "S", "nik": 5})
    body = assert_problem(response, 422, "validation_error")
    fields = body["errors"]["json"]
    assert set(fields) >= {"full_name", "nik", "phone", "password"}
    assert all(isinstance(messages, list) and messages for messages in fields.values())


def test_nested_and_list_field_errors_are_dotted_paths(
    client: FlaskClient, auth_headers: Any
) -> None:
    """ProblemSchema has one level of fields: list items and nested fields are named by path."""
    response = client.put(
        "/api/v1/me/notification-preferences",
        json={"muted_kinds": ["announcement", 7], "topics": [None]},
        headers=auth_headers("citizen"),
    )
    fields = assert_problem(response, 422, "validation_error")["errors"]["json"]
    assert set(fields) == {"muted_kinds.1", "topics.0"}
    response = client.post(
        "/api/v1/queue-bookings",
        json={"patient": {"name": 5}},
        headers=auth_headers("citizen"),
    )
    fields = assert_problem(response, 422, "validation_error")["errors"]["json"]
    assert "patient.name" in fields
    for messages in fields.values():
        assert isinstance(messages, list)
        assert all(isinstance(message, str) for message in messages)


def test_missing_token_is_a_401_with_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert_problem(response, 401, "missing_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_role_is_a_403(client: FlaskClient, auth_headers: Any) -> None:
    response = client.get("/api/v1/admin/accounts", headers=auth_headers("citizen"))
    assert_problem(response, 403, "forbidden")


def test_duplicate_is_a_409(client: FlaskClient) -> None:
    body = factories.registration()
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    again = factories.registration(nik=body["nik"])
    assert_problem(client.post("/api/v1/auth/register", json=again), 409, "nik_taken")


def test_request_id_is_echoed_when_sane_and_replaced_when_not(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "app-123.abc"})
    assert response.headers["X-Request-ID"] == "app-123.abc"
    assert response.get_json()["request_id"] == "app-123.abc"
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_successful_responses_carry_a_request_id(client: FlaskClient) -> None:
    assert client.get("/healthz").headers["X-Request-ID"]


def test_unreachable_database_is_a_503_with_retry_after() -> None:
    # A real connection attempt to a closed port: refused at once, never a hang or a 500.
    unreachable = make_test_app("postgresql+psycopg://postgres@127.0.0.1:1/none")
    client = unreachable.test_client()
    for path in ("/readyz", "/api/v1/agencies"):
        response = client.get(path)
        assert_problem(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == "5"  # ours, not the rate limiter's window
    assert client.get("/healthz").status_code == 200  # the process itself is alive


@pytest.mark.postgres_only
def test_a_connection_lost_under_a_request_still_answers_json(database_url: str) -> None:
    """PostgreSQL ends the request's connection (a restart): the rollback that closes the
    session fails after the answer was made. It must not turn into gunicorn's HTML 500."""
    throwaway = make_test_app(database_url)
    killer = sa.create_engine(database_url)

    @throwaway.get("/api/v1/_lose_connection")
    def lose_connection() -> dict[str, str]:
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return {"status": "answered"}

    client = throwaway.test_client()
    try:
        response = client.get("/api/v1/_lose_connection")
        assert response.status_code == 200
        assert response.get_json() == {"status": "answered"}
        assert client.get("/readyz").status_code == 200  # the pool replaced the connection
    finally:
        killer.dispose()


def test_unexpected_exception_is_a_500_without_internals(database_url: str) -> None:
    throwaway = make_test_app(database_url)

    @throwaway.get("/api/v1/_explode")
    def explode() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    response = throwaway.test_client().get("/api/v1/_explode")
    body = assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in body["detail"]


def test_details_follow_accept_language(client: FlaskClient) -> None:
    indonesian = client.get("/api/v1/no-such-thing")
    english = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert indonesian.headers["Content-Language"] == "id"
    assert english.headers["Content-Language"] == "en"
    assert indonesian.get_json()["detail"] == "Data yang diminta tidak ditemukan."
    assert english.get_json()["detail"] == "The requested resource was not found."
    # codes are never translated
    assert indonesian.get_json()["code"] == english.get_json()["code"] == "not_found"


def test_validation_messages_are_translated(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "x"})
    assert response.get_json()["errors"]["json"]["password"] == ["Isian wajib belum diisi."]


def test_token_and_account_answers_are_never_cached(client: FlaskClient, auth_headers: Any) -> None:
    response = client.get("/api/v1/me", headers=auth_headers())
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
