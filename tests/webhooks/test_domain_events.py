"""Each domain publishes its events through webhooks.service.emit, in its own transaction, with
the object's public view: permits, queue sessions and missed deadlines (complaints are in
test_delivery.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.complaints.helpers import submit
from tests.health.conftest import (  # noqa: F401 (fixtures)
    MONDAY,
    Clock,
    Place,
    Resident,
    booking_body,
    clock,
    place,
    resident,
    staff_of,
)
from tests.licensing.helpers import acted, make_permit_type, officer, person, submitted
from tests.ops.test_escalation import Staff, road_damage_category, run_job, utc
from tests.webhooks.conftest import Integrator, drain, subscribe
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("rollback_db")


def events_received(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    return [r.verified_with(secret) for r in receiver.received]


def test_a_permits_life_is_published_without_its_applicant(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
) -> None:
    endpoint = subscribe(
        client,
        integrator("permits:verify"),
        receiver.url,
        "permit_application.status_changed",
        "permit.issued",
        "permit.revoked",
    )
    permit_type = make_permit_type(app, technical=None, levy_idr=None)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application_id = submitted(client, applicant, permit_type)
    for action in ("verify", "approve"):
        acted(client, dpmptsp, application_id, action)
    permit = acted(client, dpmptsp, application_id, "issue")["permit"]
    acted(client, dpmptsp, application_id, "revoke", note="Izin disalahgunakan.")
    drain(app)

    got = events_received(receiver, endpoint["secret"])
    changes = [
        (e["data"]["previous_status"], e["data"]["status"])
        for e in got
        if e["type"] == "permit_application.status_changed"
    ]
    assert changes[0] == ("draft", "submitted") and changes[-1] == ("issued", "revoked")
    assert len(changes) == 5  # submit, verify, approve, issue, revoke
    assert all(a[1] == b[0] for a, b in pairwise(changes)), changes
    assert {e["data"]["id"] for e in got if e["type"].startswith("permit_application")} == {
        application_id
    }
    [issued] = [e["data"] for e in got if e["type"] == "permit.issued"]
    [revoked] = [e["data"] for e in got if e["type"] == "permit.revoked"]
    assert issued["permit_number"] == permit["permit_number"] and issued["status"] == "active"
    assert issued["id"] == revoked["id"] == permit["id"]
    assert issued["application_id"] == application_id
    assert revoked["status"] == "revoked" and revoked["revoked_at"].endswith("Z")
    text = b" ".join(r.body for r in receiver.received).decode()
    assert applicant.id not in text and applicant.account.username not in text
    assert permit["verification_code"] not in text, "the verification code stays the holder's"


def test_a_cancelled_session_is_published_without_its_patients(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    clock: Clock,  # noqa: F811
    place: Place,  # noqa: F811
    resident: Callable[[], Resident],  # noqa: F811
    staff_of: Callable[[str], dict[str, str]],  # noqa: F811
) -> None:
    endpoint = subscribe(
        client, integrator("facilities:read"), receiver.url, "queue_session.cancelled"
    )
    patient = resident()
    client.post("/api/v1/queue-bookings", json=booking_body(place), headers=patient.headers)
    body = {"service_id": place.umum_id, "date": MONDAY.isoformat(), "reason": "Dokter cuti"}
    response = client.post(
        f"/api/v1/facilities/{place.facility_id}/queue/cancel-session",
        json=body,
        headers=staff_of(place.facility_id),
    )
    assert response.status_code == 200, response.get_json()
    drain(app)
    [event] = events_received(receiver, endpoint["secret"])
    assert event["type"] == "queue_session.cancelled"
    assert event["data"] == {
        **event["data"],
        "facility_id": place.facility_id,
        "service_id": place.umum_id,
        "date": MONDAY.isoformat(),
        "reason": "Dokter cuti",
        "cancelled_bookings": 1,
    }
    assert patient.id not in receiver.received[0].body.decode()


def test_a_missed_deadline_is_published_once_when_escalated(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
) -> None:
    endpoint = subscribe(client, integrator("ops:read"), receiver.url, "deadline.missed")
    Staff(app, client, "operator")
    reporter = Staff(app, client, "citizen")
    complaint = submit(client, reporter.headers, road_damage_category(app))
    due = utc(complaint["due_at"])
    run_job(app, due + timedelta(hours=1))
    run_job(app, due + timedelta(hours=2))  # already escalated: nothing new
    drain(app)
    [event] = events_received(receiver, endpoint["secret"])
    assert event["type"] == "deadline.missed"
    data = event["data"]
    assert (data["item_type"], data["item_id"], data["step"]) == (
        "complaint",
        complaint["id"],
        "verification",
    )
    assert data["reference"] == complaint["tracking_number"]
    assert utc(data["due_at"]) == due
