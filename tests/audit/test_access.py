"""Staff reading someone's personal data leaves one access record per request; people reading
their own data leave none."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.audit.service import ACCESS_ACTION
from binjai_api.complaints import service as complaints_service
from binjai_api.extensions import db
from binjai_api.health import service as health_service
from tests import factories
from tests.audit.helpers import only, records, seal
from tests.complaints.helpers import submit
from tests.health.conftest import MONDAY, booking_body, create_facility, wib
from tests.licensing import helpers as licensing
from tests.patching import patch_service


@pytest.fixture
def road_damage(app: Flask, rollback_db: None) -> str:
    with app.app_context():
        complaints_service.seed_categories()
        found = db.session.scalars(complaints_service.categories_query(include_inactive=True))
        return next(str(c.id) for c in found if c.code == "road_damage")


def test_staff_reading_a_reporters_details_is_recorded_the_reporter_reading_not(
    app: Flask, client: FlaskClient, road_damage: str
) -> None:
    reporter = factories.make_account(app, "citizen")
    reporter_headers = factories.login_headers(client, reporter)
    complaint = submit(client, reporter_headers, road_damage)
    assert (
        client.get(f"/api/v1/complaints/{complaint['id']}", headers=reporter_headers).status_code
        == 200
    )
    assert records(app, action=ACCESS_ACTION) == []

    operator = factories.make_account(app, "operator")
    read = client.get(
        f"/api/v1/complaints/{complaint['id']}",
        headers={**factories.login_headers(client, operator), "X-Request-ID": "read-0001"},
    )
    assert read.status_code == 200 and read.get_json()["reporter"] is not None
    seal(app)
    record = only(app, action=ACCESS_ACTION)
    assert (record.object_type, record.object_id) == ("complaints", complaint["id"])
    assert (record.actor_id, record.actor_role, record.request_id) == (
        operator.id,
        "operator",
        "read-0001",
    )
    assert record.after is not None
    assert "reporter.full_name" in record.after["fields"] and record.seq is not None


def test_an_anonymous_reports_detail_shows_no_identity_and_records_no_access(
    app: Flask, client: FlaskClient, road_damage: str
) -> None:
    reporter = factories.make_account(app, "citizen")
    complaint = submit(
        client, factories.login_headers(client, reporter), road_damage, privacy="anonymous"
    )
    operator = factories.make_account(app, "operator")
    read = client.get(
        f"/api/v1/complaints/{complaint['id']}", headers=factories.login_headers(client, operator)
    )
    assert read.status_code == 200 and read.get_json()["reporter"] is None
    assert records(app, action=ACCESS_ACTION) == []


def test_admins_reading_accounts_leave_one_record_per_request(
    app: Flask, client: FlaskClient
) -> None:
    admin = factories.make_account(app, "admin")
    headers = factories.login_headers(client, admin)
    for _ in range(3):
        factories.make_account(app, "citizen")
    listed = client.get("/api/v1/admin/accounts", headers=headers, query_string={"page_size": 3})
    assert listed.status_code == 200 and len(listed.get_json()) == 3
    record = only(app, action=ACCESS_ACTION, object_type="users")
    assert record.object_id is None and record.actor_id == admin.id
    assert record.after is not None
    assert record.after["object_ids"] == [item["id"] for item in listed.get_json()]

    one = listed.get_json()[0]["id"]
    assert client.get(f"/api/v1/admin/accounts/{one}", headers=headers).status_code == 200
    assert [r.object_id for r in records(app, action=ACCESS_ACTION)] == [None, one]


def test_staff_reading_a_permit_application_is_recorded_the_applicant_not(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = licensing.make_permit_type(app)
    applicant = licensing.person(app, client)
    application_id = licensing.submitted(client, applicant, permit_type)
    base = f"{licensing.BASE}/{application_id}"
    assert client.get(base, headers=applicant.headers).status_code == 200
    assert records(app, action=ACCESS_ACTION) == []

    dpmptsp = licensing.officer(app, client, "DPMPTSP")
    detail = client.get(base, headers=dpmptsp.headers)
    assert detail.status_code == 200
    record = only(app, action=ACCESS_ACTION, object_type="permit_applications")
    assert record.object_id == application_id and record.actor_id == dpmptsp.id
    assert record.after is not None and "applicant.nik" in record.after["fields"]

    document = detail.get_json()["documents"][0]
    download = client.get(f"{base}/documents/{document['id']}", headers=dpmptsp.headers)
    assert download.status_code == 200
    assert (
        only(app, action=ACCESS_ACTION, object_type="permit_documents").object_id == document["id"]
    )


def test_facility_staff_reading_the_queue_are_recorded_once_per_request(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_service(monkeypatch, health_service, "current_time", lambda: wib(MONDAY, 7, 30))
    place = create_facility(app)
    booked = []
    for _ in range(2):
        patient = factories.make_account(app, "citizen")
        headers = factories.login_headers(client, patient)
        response = client.post("/api/v1/queue-bookings", json=booking_body(place), headers=headers)
        assert response.status_code == 201, response.get_json()
        booked.append(response.get_json()["id"])
        assert (
            client.get(f"/api/v1/queue-bookings/{booked[-1]}", headers=headers).status_code == 200
        )
    assert records(app, action=ACCESS_ACTION) == []  # patients reading their own

    officer = factories.make_account(app, "officer", agency_code="DINKES")
    with app.app_context():
        health_service.add_staff(
            facility_id=uuid.UUID(place.facility_id), user_id=uuid.UUID(officer.id)
        )
    staff = factories.login_headers(client, officer)
    queue = client.get(
        f"/api/v1/facilities/{place.facility_id}/queue",
        query_string={"date": MONDAY.isoformat()},
        headers=staff,
    )
    assert queue.status_code == 200 and len(queue.get_json()) == 2
    record = only(app, action=ACCESS_ACTION)
    assert record.object_type == "health_queue_bookings" and record.actor_id == officer.id
    assert record.after is not None
    assert sorted(record.after["object_ids"]) == sorted(booked)
    assert record.after["fields"] == ["patient_name", "patient_nik"]
