"""The service functions the Open311 face builds on, and deadlines over days off."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import service
from binjai_api.complaints.states import STATUSES, TRANSITIONS, is_open
from binjai_api.workcalendar import service as workcalendar
from tests.complaints.conftest import Person
from tests.complaints.helpers import report, submit, update_complaint
from tests.platform.test_errors import assert_problem


def test_an_integrators_submission_keeps_its_contact_private(
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
        cid, number = str(complaint.id), complaint.tracking_number
        assert complaint.kecamatan_code is None and complaint.agency.code == "PERKIM"
        # Open311 looks reports up by tracking number, whatever the case and spacing.
        found = service.public_complaints_by_tracking_numbers([f" {number.lower()} ", "BJI-0"])
        assert [c.id for c in found] == [complaint.id]
    staff = client.get(f"/api/v1/complaints/{cid}", headers=operator.headers).get_json()
    assert staff["source"] == "open311"
    # Masked for staff until revealed (tests/complaints/test_contact_reveal.py).
    assert staff["contact"] == {
        "name": "Andi Lubis",
        "email": "a***@example.com",
        "phone": "********7890",
    }
    public = json.dumps(client.get(f"/api/v1/public/complaints/{cid}").get_json())
    assert "Andi" not in public and "andi@" not in public and "1234567890" not in public


def test_the_status_table_maps_onto_open_and_closed() -> None:
    assert {s for s in STATUSES if is_open(s)} == {
        "submitted",
        "dispatched",
        "in_progress",
        "reopened",
    }
    for rule in TRANSITIONS.values():
        assert set(rule.sources) <= set(STATUSES)
        assert rule.target is None or rule.target in STATUSES


def test_a_local_day_off_moves_the_verification_deadline(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    first = submit(client, resident.headers, categories["waste"])
    due = datetime.fromisoformat(first["due_at"])
    created = datetime.fromisoformat(first["created_at"])
    with app.app_context():
        assert workcalendar.working_days_between(created, due) == 3
        assert workcalendar.is_working_day(workcalendar.local_date(due))
        workcalendar.declare_day_off(day=workcalendar.local_date(due), name="Hari jadi (demo)")
    second = submit(client, resident.headers, categories["waste"])
    moved = datetime.fromisoformat(second["due_at"])
    assert moved > due
    with app.app_context():
        assert workcalendar.working_days_between(due, moved) == 1


def test_my_reports_sync_with_updated_after(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    old = submit(client, resident.headers, categories["waste"])
    new = submit(client, resident.headers, categories["drainage"])
    update_complaint(
        app, old["id"], updated_at=datetime.fromisoformat(old["updated_at"]) - timedelta(hours=1)
    )
    since = datetime.fromisoformat(new["created_at"]) - timedelta(minutes=30)
    response = client.get(
        f"/api/v1/complaints/mine?updated_after={since.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        headers=resident.headers,
    )
    assert [c["id"] for c in response.get_json()] == [new["id"]]
    assert_problem(
        client.get("/api/v1/complaints/mine?sort=title", headers=resident.headers),
        422,
        "validation_error",
    )
