"""The payment gateway's callback: HMAC-signed, idempotent, and exact about the amount."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.licensing.models import PermitApplicationEvent
from tests.licensing.helpers import (
    BASE,
    acted,
    callback,
    count,
    make_permit_type,
    officer,
    person,
    submitted,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


@pytest.fixture
def billed(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """An approved application waiting for its levy of Rp 150.000."""
    permit_type = make_permit_type(app, levy_idr=150000)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    dinkes = officer(app, client, "DINKES")
    app_id = submitted(client, applicant, permit_type)
    acted(client, dpmptsp, app_id, "verify")
    acted(client, dinkes, app_id, "record_review", review_result="recommended", note="Layak.")
    detail = acted(client, dpmptsp, app_id, "approve")
    return {"id": app_id, "bill": detail["bill"], "applicant": applicant}


def _payments(app: Flask, app_id: str) -> int:
    return count(
        app,
        PermitApplicationEvent,
        PermitApplicationEvent.action == "confirm_payment",
        PermitApplicationEvent.application_id == uuid.UUID(app_id),
    )


def test_a_replayed_callback_answers_the_same_without_paying_twice(
    app: Flask, client: FlaskClient, billed: dict[str, Any]
) -> None:
    body = {
        "payment_code": billed["bill"]["payment_code"],
        "amount_idr": 150000,
        "reference": "QRIS-778899",
        "paid_at": "2026-12-01T03:15:00Z",
        "channel": "qris",
    }
    first = callback(client, body, app=app)
    again = callback(client, body, app=app)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert first.get_json()["paid_at"] == "2026-12-01T03:15:00.000000Z"
    assert _payments(app, billed["id"]) == 1
    detail = client.get(f"{BASE}/{billed['id']}", headers=billed["applicant"].headers).get_json()
    assert detail["status"] == "approved" and detail["bill"]["status"] == "paid"
    # A second, different payment of the same bill is a conflict, not a second effect.
    assert_problem(
        callback(client, {**body, "reference": "QRIS-000001"}, app=app), 409, "bill_already_paid"
    )
    assert _payments(app, billed["id"]) == 1


def test_the_amount_must_match_exactly(
    app: Flask, client: FlaskClient, billed: dict[str, Any]
) -> None:
    body = {"payment_code": billed["bill"]["payment_code"], "amount_idr": 149999, "reference": "A"}
    problem = assert_problem(callback(client, body, app=app), 422, "amount_mismatch")
    assert problem["expected_amount_idr"] == 150000
    detail = client.get(f"{BASE}/{billed['id']}", headers=billed["applicant"].headers).get_json()
    assert detail["status"] == "awaiting_payment" and detail["bill"]["status"] == "unpaid"
    assert _payments(app, billed["id"]) == 0


def test_a_bad_or_missing_signature_is_refused_with_401(
    app: Flask, client: FlaskClient, billed: dict[str, Any]
) -> None:
    body = {"payment_code": billed["bill"]["payment_code"], "amount_idr": 150000, "reference": "B"}
    assert_problem(callback(client, body, signature="0" * 64, app=app), 401, "invalid_signature")
    # Signed for another body: a tampered amount or code fails too.
    response = client.post(
        "/api/v1/payments/callback",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 401, "invalid_signature")
    # Unsigned bodies are refused on the signature before anything is parsed.
    for raw in ("{not json", json.dumps({"amount_idr": "lots"})):
        response = client.post(
            "/api/v1/payments/callback",
            data=raw,
            headers={"Content-Type": "application/json", "X-Signature": "abc"},
        )
        assert_problem(response, 401, "invalid_signature")
    assert response.headers["WWW-Authenticate"].startswith("HMAC-SHA256")
    assert _payments(app, billed["id"]) == 0


def test_a_signed_but_invalid_body_is_a_422(app: Flask, client: FlaskClient) -> None:
    problem = assert_problem(
        callback(client, {"amount_idr": "lots"}, app=app), 422, "validation_error"
    )
    assert set(problem["errors"]["json"]) == {"amount_idr", "payment_code", "reference"}


def test_an_unknown_payment_code_is_a_404(app: Flask, client: FlaskClient) -> None:
    body = {"payment_code": "12759999999999", "amount_idr": 1000, "reference": "C"}
    assert_problem(callback(client, body, app=app), 404, "not_found")
