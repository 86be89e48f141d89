"""Contact details on need to know: staff see a reporter's phone and email masked; the officer
handling the report, or an operator, reveals them with a reason the audit trail keeps."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import service
from tests import factories
from tests.audit.helpers import records, seal
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, report, submit
from tests.platform.test_errors import assert_problem

REASON = "Menelepon pelapor untuk memastikan lokasi lubang jalan"


def reveal(client: FlaskClient, headers: dict[str, str], cid: str, reason: str = REASON) -> Any:
    return client.post(
        f"/api/v1/complaints/{cid}/contact-reveals", headers=headers, json={"reason": reason}
    )


@pytest.fixture
def reporter(app: Flask) -> factories.Account:
    return factories.make_account(app, email="siti.aminah@example.com")


@pytest.fixture
def dispatched(
    client: FlaskClient,
    categories: dict[str, str],
    reporter: factories.Account,
    operator: Person,
) -> str:
    """A public report of a road, dispatched to PUPR."""
    headers = factories.login_headers(client, reporter)
    cid = submit(client, headers, categories["road_damage"])["id"]
    act(client, operator.headers, cid, "dispatch")
    return str(cid)


def full_phone(reporter: factories.Account) -> str:
    return "+62" + reporter.username[1:]


def test_staff_see_the_reporters_phone_and_email_masked(
    client: FlaskClient,
    reporter: factories.Account,
    dispatched: str,
    operator: Person,
    pupr_officer: Person,
) -> None:
    for headers in (operator.headers, pupr_officer.headers):
        body = client.get(f"/api/v1/complaints/{dispatched}", headers=headers).get_json()
        assert body["contact_masked"] is True
        assert body["reporter"]["phone"] == "*" * 10 + full_phone(reporter)[-4:]
        assert body["reporter"]["email"] == "s**********@example.com"
        text = json.dumps(body)
        assert full_phone(reporter) not in text and reporter.username not in text
        assert "siti.aminah@" not in text
    own = client.get(
        f"/api/v1/complaints/{dispatched}", headers=factories.login_headers(client, reporter)
    ).get_json()
    assert own["contact_masked"] is False and own["reporter"] is None


def test_the_handling_officer_reveals_with_a_reason_and_the_trail_keeps_it(
    app: Flask,
    client: FlaskClient,
    reporter: factories.Account,
    dispatched: str,
    pupr_officer: Person,
) -> None:
    # Not theirs until assigned: officers of the agency who do not handle it are refused.
    refused = reveal(client, pupr_officer.headers, dispatched)
    assert_problem(refused, 403, "not_handling_officer")
    assert act(client, pupr_officer.headers, dispatched, "assign").status_code == 200
    response = reveal(client, {**pupr_officer.headers, "X-Request-ID": "reveal-0001"}, dispatched)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["reporter"]["phone"] == full_phone(reporter)
    assert body["reporter"]["email"] == "siti.aminah@example.com"
    assert body["reason"] == REASON and body["revealed_at"].endswith("Z")
    seal(app)
    [record] = records(app, action="reveal_contact")
    assert (record.actor_type, record.actor_id, record.actor_role) == (
        "user",
        pupr_officer.id,
        "officer",
    )
    assert (record.object_type, record.object_id) == ("complaints", dispatched)
    assert record.request_id == "reveal-0001" and record.occurred_at is not None
    assert record.after is not None and record.after["reason"] == REASON
    assert {"reporter.phone", "reporter.email"} <= set(record.after["fields"])
    # The trail keeps who, when and why, never the number itself.
    assert full_phone(reporter) not in json.dumps(record.after)


def test_an_operator_reveals_any_report(
    app: Flask, client: FlaskClient, reporter: factories.Account, dispatched: str, operator: Person
) -> None:
    response = reveal(client, operator.headers, dispatched)
    assert response.status_code == 200
    assert response.get_json()["reporter"]["phone"] == full_phone(reporter)
    seal(app)
    assert [r.actor_id for r in records(app, action="reveal_contact")] == [operator.id]


def test_an_integrators_contact_is_masked_then_revealed(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    with app.app_context():
        body = report(categories["street_light"], kelurahan_code=None)
        body["category_id"] = uuid.UUID(body["category_id"])
        complaint = service.submit_complaint(
            reporter_id=None,
            source="open311",
            contact={"name": "Andi Lubis", "email": "andi@example.com", "phone": "081234567890"},
            **body,
        )
        cid = str(complaint.id)
    shown = client.get(f"/api/v1/complaints/{cid}", headers=operator.headers).get_json()
    assert shown["contact"]["phone"] == "********7890" and shown["contact_masked"] is True
    revealed = reveal(client, operator.headers, cid).get_json()
    assert revealed["reporter"] is None
    assert revealed["contact"] == {
        "name": "Andi Lubis",
        "email": "andi@example.com",
        "phone": "081234567890",
    }


def test_an_anonymous_reporter_is_never_revealed(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    headers = factories.login_headers(client, factories.make_account(app))
    cid = submit(client, headers, categories["road_damage"], privacy="anonymous")["id"]
    assert_problem(reveal(client, operator.headers, cid), 403, "anonymous_report")
    seal(app)
    assert records(app, action="reveal_contact") == []


def test_others_cannot_reveal(
    app: Flask,
    client: FlaskClient,
    reporter: factories.Account,
    dispatched: str,
    perkim_officer: Person,
    other_resident: Person,
) -> None:
    # Another agency's officer does not even see the report.
    assert_problem(reveal(client, perkim_officer.headers, dispatched), 404, "not_found")
    # Residents, the reporter included, are not staff.
    for headers in (other_resident.headers, factories.login_headers(client, reporter)):
        assert_problem(reveal(client, headers, dispatched), 403, "forbidden")
    assert client.post(f"/api/v1/complaints/{dispatched}/contact-reveals").status_code == 401
    seal(app)
    assert records(app, action="reveal_contact") == []


@pytest.mark.parametrize("payload", [{}, {"reason": "short"}, {"reason": "x" * 501}])
def test_a_reason_is_required(
    app: Flask, client: FlaskClient, dispatched: str, operator: Person, payload: dict[str, Any]
) -> None:
    response = client.post(
        f"/api/v1/complaints/{dispatched}/contact-reveals", headers=operator.headers, json=payload
    )
    body = assert_problem(response, 422, "validation_error")
    assert "reason" in json.dumps(body["errors"])
