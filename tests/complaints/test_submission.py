"""Submitting a report: tracking number, deadline, validation, idempotent retries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.workcalendar import service as workcalendar
from tests.complaints.conftest import Person
from tests.complaints.helpers import kinds_for, report, submit
from tests.platform.test_errors import assert_problem


def test_categories_are_public_with_their_agency_and_deadline(
    client: FlaskClient, categories: dict[str, str]
) -> None:
    response = client.get("/api/v1/complaint-categories?page_size=100")
    assert response.status_code == 200
    by_code = {c["code"]: c for c in response.get_json()}
    assert {"road_damage", "street_light", "waste", "water_supply", "other"} <= set(by_code)
    assert by_code["road_damage"]["follow_up_days"] == 5
    agencies = {a["id"]: a["code"] for a in client.get("/api/v1/agencies?page_size=100").json}
    assert agencies[by_code["street_light"]["agency_id"]] == "PERKIM"
    one = client.get(f"/api/v1/complaint-categories/{categories['waste']}")
    assert one.status_code == 200 and one.headers["ETag"]
    assert_problem(
        client.get("/api/v1/complaint-categories/5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11"),
        404,
        "not_found",
    )


def test_a_resident_submits_and_gets_a_tracking_number(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    created = submit(client, resident.headers, categories["road_damage"])
    assert re.fullmatch(rf"BJI-{datetime.now().year}-\d{{6}}", created["tracking_number"])
    assert created["status"] == "submitted" and created["is_open"] is True
    assert created["agency_code"] == "PUPR"
    assert created["kecamatan_code"] == "12.75.02"  # derived from the kelurahan
    # Verification within 3 working days (SP4N-LAPOR!), from the one working-day calendar.
    created_at = datetime.fromisoformat(created["created_at"])
    due_at = datetime.fromisoformat(created["due_at"])
    with app.app_context():
        assert due_at == workcalendar.add_working_days(created_at, 3)
    assert created["is_overdue"] is False
    assert [h["action"] for h in created["history"]] == ["submit"]
    assert kinds_for(app, resident.id) == ["complaint_received"]
    second = submit(client, resident.headers, categories["waste"])
    first_serial = int(created["tracking_number"].rsplit("-", 1)[1])
    assert second["tracking_number"].endswith(f"{first_serial + 1:06d}")


def test_an_idempotent_retry_replays_the_first_answer(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    headers = {**resident.headers, "Idempotency-Key": "lapor-jalan-1"}
    body = report(categories["road_damage"])
    first = client.post("/api/v1/complaints", headers=headers, json=body)
    again = client.post("/api/v1/complaints", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["tracking_number"] == first.get_json()["tracking_number"]
    mine = client.get("/api/v1/complaints/mine", headers=resident.headers).get_json()
    assert len(mine) == 1
    changed = client.post(
        "/api/v1/complaints", headers=headers, json={**body, "title": "Another title"}
    )
    assert_problem(changed, 422, "idempotency_key_reuse")


def _errors(response: Any) -> dict[str, Any]:
    assert_problem(response, 422, "validation_error")
    return dict(response.get_json()["errors"]["json"])


def test_bad_submissions_name_the_fields_at_fault(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    def post(**overrides: Any) -> Any:
        return client.post(
            "/api/v1/complaints",
            headers=resident.headers,
            json=report(categories["road_damage"], **overrides),
        )

    # Each bad submission names exactly the field at fault.
    assert set(_errors(post(lat=-6.2, lon=106.8))) == {"lat"}  # Jakarta is not Binjai
    assert set(_errors(post(lat=None, lon=None, address=None))) == {"address"}
    assert set(_errors(post(lat=None))) == {"lat"}  # lon without lat
    assert set(_errors(post(description="x" * 4001))) == {"description"}
    assert set(_errors(post(type="gossip"))) == {"type"}
    assert set(_errors(post(privacy="secret"))) == {"privacy"}
    assert set(_errors(post(kelurahan_code="12.75.09.1001"))) == {"kelurahan_code"}
    unknown = "5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11"
    assert set(_errors(post(category_id=unknown))) == {"category_id"}
    assert set(_errors(post(reporter_id=unknown))) == {"reporter_id"}
    assert client.get("/api/v1/complaints/mine", headers=resident.headers).get_json() == []
    # An address alone is a location too.
    assert post(lat=None, lon=None, address="Jl. Jambi No. 3").status_code == 201
    mine = client.get("/api/v1/complaints/mine", headers=resident.headers).get_json()
    assert [(c["address"], c["lat"]) for c in mine] == [("Jl. Jambi No. 3", None)]


def test_submitting_needs_an_account(client: FlaskClient, categories: dict[str, str]) -> None:
    response = client.post("/api/v1/complaints", json=report(categories["road_damage"]))
    assert_problem(response, 401, "missing_token")


def test_submissions_are_rate_limited_per_account(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    monkeypatch: Any,
) -> None:
    monkeypatch.setitem(app.config, "COMPLAINT_SUBMIT_RATE_LIMIT", "2 per hour")
    for _ in range(2):
        submit(client, resident.headers, categories["waste"])
    limited = client.post(
        "/api/v1/complaints", headers=resident.headers, json=report(categories["waste"])
    )
    assert_problem(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"]
    submit(client, other_resident.headers, categories["waste"])  # someone else is not limited
