"""An escalation read in each language: its deadline as a local date and time with its zone, a
permit type's and a poli's names in English for English readers, and no ISO date."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.formatting import local_date_time
from binjai_api.health import service as health_service
from binjai_api.notifications import kinds
from tests.health.conftest import MONDAY, booking_body, create_facility, session_entry
from tests.health.conftest import wib as health_wib
from tests.licensing import helpers as licensing
from tests.ops.test_escalation import Staff, run_job, utc
from tests.patching import patch_service

pytestmark = pytest.mark.usefixtures("rollback_db")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _bodies(client: FlaskClient, who: Staff, kind: str) -> dict[str, str]:
    bodies = {}
    for language in ("id", "en"):
        inbox = client.get(
            "/api/v1/notifications", headers={**who.headers, "Accept-Language": language}
        ).get_json()
        [entry] = [entry for entry in inbox if entry["kind"] == kind]
        bodies[language] = f"{entry['title']} {entry['body']}"
    return bodies


def test_a_late_permit_step_reads_in_each_language(app: Flask, client: FlaskClient) -> None:
    permit_type = licensing.make_permit_type(app)
    applicant = licensing.person(app, client)
    dpmptsp = Staff(app, client, "officer", agency_code="DPMPTSP")
    application_id = licensing.submitted(client, applicant, permit_type)
    detail = client.get(f"{licensing.BASE}/{application_id}", headers=applicant.headers)
    due = utc(detail.get_json()["next_action"]["due_at"])
    assert run_job(app, due + timedelta(hours=1)).escalated == 1

    bodies = _bodies(client, dpmptsp, kinds.ESCALATION_PERMIT_VERIFICATION)
    assert local_date_time(due, "id") in bodies["id"] and "pukul" in bodies["id"]
    assert local_date_time(due, "en") in bodies["en"]
    assert "Surat Izin Praktik Bidan" in bodies["id"]
    assert "Midwife practice permit" in bodies["en"]
    assert "Surat Izin Praktik Bidan" not in bodies["en"]
    assert not ISO_DATE.search(bodies["id"] + bodies["en"])
    assert "WIB WIB" not in bodies["id"] + bodies["en"]


def test_a_session_left_with_patients_names_the_poli_in_each_language(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_service(monkeypatch, health_service, "current_time", lambda: health_wib(MONDAY, 7, 30))
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    place = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "name_en": "General clinic",
                "sessions": [session_entry(day) for day in weekdays],
            }
        ],
    )
    staff = Staff(app, client, "officer", agency_code="DINKES")
    with app.app_context():
        health_service.add_staff(
            facility_id=uuid.UUID(place.facility_id), user_id=uuid.UUID(staff.id)
        )
    patient = Staff(app, client, "citizen")
    booked = client.post(
        "/api/v1/queue-bookings", json=booking_body(place), headers=patient.headers
    )
    assert booked.status_code == 201, booked.get_json()
    session_end = health_wib(MONDAY, 12)
    assert run_job(app, session_end + timedelta(minutes=10)).escalated == 1

    bodies = _bodies(client, staff, kinds.ESCALATION_QUEUE_SESSION)
    assert "Poli Umum" in bodies["id"] and "General clinic" in bodies["en"]
    assert local_date_time(session_end, "id") in bodies["id"]
    assert local_date_time(session_end, "en") in bodies["en"]
    assert not ISO_DATE.search(bodies["id"] + bodies["en"])
