"""Real error answers carry a code the spec documents for that operation and status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request_finished
from flask.testing import FlaskClient

from binjai_api.complaints import service as complaint_service
from binjai_api.extensions import db
from tests import factories
from tests.complaints.conftest import make_person
from tests.complaints.helpers import act, submit
from tests.health.conftest import Clock, booking_body, create_facility, session_entry
from tests.patching import patch_service
from tests.platform.test_errors import assert_problem

Answer = tuple[str, str, int, str]  # method, spec path, status, code


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    return dict(app.test_client().get("/api/v1/openapi.json").get_json())


@pytest.fixture
def answers(app: Flask) -> Iterator[list[Answer]]:
    """Every problem the app answers during the test, by operation (the spec's path)."""
    seen: list[Answer] = []

    def record(sender: Flask, response: Response, **extra: Any) -> None:
        from flask import request

        if response.mimetype == "application/problem+json" and request.url_rule is not None:
            path = request.url_rule.rule
            for converter in ("uuid:", "int:", "string:", "path:"):
                path = path.replace(f"<{converter}", "<")
            path = path.replace("<", "{").replace(">", "}")
            code = response.get_json()["code"]
            seen.append((request.method.lower(), path, response.status_code, code))

    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)


def _assert_documented(spec: dict[str, Any], answers: list[Answer], expected: set[str]) -> None:
    assert expected <= {code for *_, code in answers}, answers
    for method, path, status, code in answers:
        response = spec["paths"][path][method]["responses"][str(status)]
        assert code in response["x-problem-codes"], (method, path, status, code)
        assert f"`{code}`" in response["description"]


def test_registration_conflicts_are_documented(
    client: FlaskClient, spec: dict[str, Any], answers: list[Answer]
) -> None:
    """409 nik_taken / phone_taken, a 422 and a malformed body on POST /auth/register."""
    first = factories.registration()
    assert client.post("/api/v1/auth/register", json=first).status_code == 201
    for field, code in (("nik", "nik_taken"), ("phone", "phone_taken")):
        second = factories.registration(**{field: first[field]})
        assert_problem(client.post("/api/v1/auth/register", json=second), 409, code)
    assert_problem(client.post("/api/v1/auth/register", json={}), 422, "validation_error")
    broken = client.post(
        "/api/v1/auth/register", data="{", headers={"Content-Type": "application/json"}
    )
    assert_problem(broken, 400, "malformed_json")
    _assert_documented(
        spec, answers, {"nik_taken", "phone_taken", "validation_error", "malformed_json"}
    )


def test_booking_refusals_are_documented(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    spec: dict[str, Any],
    answers: list[Answer],
) -> None:
    """409 quota_full, already_booked, idempotency_key_reuse and a 404 on the queue."""
    from binjai_api.health import service as health_service

    clock = Clock()
    patch_service(monkeypatch, health_service, "current_time", lambda: clock.now)
    small = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [session_entry("monday", online_quota=1)],
            }
        ],
    )
    first, second = (
        factories.login_headers(client, factories.make_account(app, "citizen")) for _ in range(2)
    )
    key = {"Idempotency-Key": "booking-1"}
    booked = client.post(
        "/api/v1/queue-bookings", json=booking_body(small), headers={**first, **key}
    )
    assert booked.status_code == 201, booked.get_json()
    again = client.post("/api/v1/queue-bookings", json=booking_body(small), headers=first)
    assert_problem(again, 409, "already_booked")
    full = client.post("/api/v1/queue-bookings", json=booking_body(small), headers=second)
    assert_problem(full, 409, "quota_full")
    other_body = {**booking_body(small), "complaint": "batuk"}
    reused = client.post("/api/v1/queue-bookings", json=other_body, headers={**first, **key})
    assert reused.status_code == 422
    missing = "/api/v1/queue-bookings/00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(missing, headers=first), 404, "not_found")
    assert_problem(client.get(missing), 401, "missing_token")
    _assert_documented(
        spec, answers, {"already_booked", "quota_full", "not_found", "missing_token"}
    )


def test_complaint_refusals_are_documented(
    app: Flask, client: FlaskClient, rollback_db: None, spec: dict[str, Any], answers: list[Answer]
) -> None:
    """409 invalid_transition and own_report, 403 forbidden on a complaint."""
    with app.app_context():
        complaint_service.seed_categories()
        category = str(next(iter(db.session.scalars(complaint_service.categories_query()))).id)
    resident = make_person(app, client)
    operator = make_person(app, client, "operator")
    cid = submit(client, resident.headers, category)["id"]
    assert_problem(act(client, operator.headers, cid, "close"), 409, "invalid_transition")
    support = client.post(f"/api/v1/complaints/{cid}/support", headers=resident.headers)
    assert support.status_code == 409
    officers = client.get("/api/v1/admin/accounts", headers=resident.headers)
    assert_problem(officers, 403, "forbidden")
    _assert_documented(spec, answers, {"invalid_transition", "forbidden"})
