"""Escalation of missed deadlines: once per item per deadline, to the staff who must act and the
BCC operators (never to residents or other agencies), with an entry in the item's timeline.

The job's clock is its `now` argument; the domains' own clocks stay real (a complaint submitted
now is due in 3 working days, and the job is told it is an hour past that).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth import service as auth_service
from binjai_api.complaints import service as complaints_service
from binjai_api.deadlines import ItemType
from binjai_api.extensions import db
from binjai_api.health import service as health_service
from binjai_api.notifications import kinds
from binjai_api.notifications.models import Notification
from binjai_api.ops import escalation
from binjai_api.ops.escalation import EscalationReport
from binjai_api.ops.models import Escalation
from tests import factories
from tests.complaints.helpers import act, kinds_for, submit
from tests.health.conftest import MONDAY, booking_body, create_facility
from tests.health.conftest import wib as health_wib
from tests.licensing import helpers as licensing
from tests.patching import patch_service

pytestmark = pytest.mark.usefixtures("rollback_db")


# --- shared steps (also used by the other escalation tests) --------------------------------------


class Staff:
    """An account and its login headers."""

    def __init__(self, app: Flask, client: FlaskClient, role: str, **fields: Any) -> None:
        self.account = factories.make_account(app, role, **fields)
        self.id = self.account.id
        self.headers = factories.login_headers(client, self.account)


def road_damage_category(app: Flask) -> str:
    """The demo category for potholes (agency PUPR)."""
    with app.app_context():
        complaints_service.seed_categories()
        found = db.session.scalars(complaints_service.categories_query(include_inactive=True))
        return next(str(c.id) for c in found if c.code == "road_damage")


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_job(app: Flask, now: datetime) -> EscalationReport:
    with app.app_context():
        return escalation.escalate_overdue(now=now)


def escalation_kinds_of(app: Flask, user_id: str) -> list[str]:
    return [kind for kind in kinds_for(app, user_id) if kind.startswith("escalation_")]


def escalations_of(app: Flask, item_id: str) -> list[Escalation]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Escalation)
            .where(Escalation.item_id == uuid.UUID(item_id))
            .order_by(Escalation.escalated_at)
        )
        return list(rows)


def complaint_history(client: FlaskClient, headers: dict[str, str], complaint_id: str) -> Any:
    response = client.get(f"/api/v1/complaints/{complaint_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["history"]


# --- complaints ----------------------------------------------------------------------------------


def test_a_complaint_awaiting_verification_is_escalated_once_to_the_operators_only(
    app: Flask, client: FlaskClient
) -> None:
    category = road_damage_category(app)
    operator = Staff(app, client, "operator")
    pupr = Staff(app, client, "officer", agency_code="PUPR")
    reporter = Staff(app, client, "citizen")
    complaint = submit(client, reporter.headers, category)
    due = utc(complaint["due_at"])

    report = run_job(app, due + timedelta(hours=1))

    assert (report.escalated, report.failed, report.notified) == (1, 0, 1)
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_COMPLAINT_VERIFICATION]
    # Verification is the BCC's own step: the agency has nothing to do yet.
    assert escalation_kinds_of(app, pupr.id) == []
    assert escalation_kinds_of(app, reporter.id) == []
    [row] = escalations_of(app, complaint["id"])
    assert (row.item_type, row.step, row.deadline) == ("complaint", "verification", due)
    assert row.agency_id is None  # the BCC must act, not an agency
    assert (row.reference, row.notified_count) == (complaint["tracking_number"], 1)
    assert row.link == f"/api/v1/complaints/{complaint['id']}"
    escalated = complaint_history(client, operator.headers, complaint["id"])
    assert [e["action"] for e in escalated] == ["submit", "escalate"]
    assert escalated[1]["from_status"] == escalated[1]["to_status"] == "submitted"
    assert escalated[1]["actor_role"] is None and escalated[1]["actor_id"] is None
    # The reporter and the public see the step in the timeline too (who acted is not shown).
    mine = complaint_history(client, reporter.headers, complaint["id"])
    assert [e["action"] for e in mine] == ["submit", "escalate"]
    # ... and the app's incremental sync brings the report again, with its new entry.
    synced = client.get(
        "/api/v1/complaints/mine",
        query_string={"updated_after": complaint["updated_at"]},
        headers=reporter.headers,
    ).get_json()
    assert [c["id"] for c in synced] == [complaint["id"]]

    again = run_job(app, due + timedelta(hours=2))

    assert (again.escalated, again.already_escalated, again.notified) == (0, 1, 0)
    assert len(escalations_of(app, complaint["id"])) == 1
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_COMPLAINT_VERIFICATION]
    assert len(complaint_history(client, operator.headers, complaint["id"])) == 2


def test_a_new_deadline_on_the_same_complaint_escalates_once_more_to_its_agency(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    category = road_damage_category(app)
    operator = Staff(app, client, "operator")
    pupr = Staff(app, client, "officer", agency_code="PUPR")
    pupr_gone = Staff(app, client, "officer", agency_code="PUPR")
    perkim = Staff(app, client, "officer", agency_code="PERKIM")
    admin = Staff(app, client, "admin")
    reporter = Staff(app, client, "citizen")
    with app.app_context():
        auth_service.set_account_active(
            account_id=uuid.UUID(pupr_gone.id), active=False, acting_admin_id=uuid.UUID(admin.id)
        )
    complaint = submit(client, reporter.headers, category)
    run_job(app, utc(complaint["due_at"]) + timedelta(hours=1))
    # The BCC verifies it late, after the escalation.
    late = utc(complaint["due_at"]) + timedelta(hours=2)
    patch_service(monkeypatch, complaints_service, "utcnow", lambda: late)
    dispatched = act(client, operator.headers, complaint["id"], "dispatch")
    assert dispatched.status_code == 200, dispatched.get_json()
    follow_up_due = utc(dispatched.get_json()["due_at"])

    report = run_job(app, follow_up_due + timedelta(minutes=5))

    assert (report.escalated, report.notified) == (1, 2)
    assert escalation_kinds_of(app, pupr.id) == [kinds.ESCALATION_COMPLAINT_FOLLOW_UP]
    assert escalation_kinds_of(app, operator.id) == [
        kinds.ESCALATION_COMPLAINT_VERIFICATION,
        kinds.ESCALATION_COMPLAINT_FOLLOW_UP,
    ]
    for outsider in (pupr_gone, perkim, admin, reporter):
        assert escalation_kinds_of(app, outsider.id) == []
    rows = escalations_of(app, complaint["id"])
    assert [(r.step, r.deadline) for r in rows] == [
        ("verification", utc(complaint["due_at"])),
        ("follow_up", follow_up_due),
    ]
    assert str(rows[1].agency_id) == pupr.account.agency_id
    history = complaint_history(client, operator.headers, complaint["id"])
    assert [e["action"] for e in history] == ["submit", "escalate", "dispatch", "escalate"]
    assert history[-1]["to_status"] == "dispatched"

    assert run_job(app, follow_up_due + timedelta(days=3)).escalated == 0


def test_an_item_not_yet_due_is_not_escalated(app: Flask, client: FlaskClient) -> None:
    category = road_damage_category(app)
    operator = Staff(app, client, "operator")
    complaint = submit(client, Staff(app, client, "citizen").headers, category)

    report = run_job(app, utc(complaint["due_at"]) - timedelta(minutes=1))

    assert (report.overdue, report.escalated) == (0, 0)
    assert escalations_of(app, complaint["id"]) == []
    assert escalation_kinds_of(app, operator.id) == []


def test_an_item_acted_on_after_the_look_is_not_escalated(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    category = road_damage_category(app)
    operator = Staff(app, client, "operator")
    complaint = submit(client, Staff(app, client, "citizen").headers, category)
    now = utc(complaint["due_at"]) + timedelta(hours=1)
    with app.app_context():
        stale = escalation.overdue_for_staff(now=now)
    assert [str(item.item_id) for item in stale] == [complaint["id"]]
    # The operator verifies it between the job's look and its claim.
    assert act(client, operator.headers, complaint["id"], "dispatch").status_code == 200
    monkeypatch.setattr(escalation, "overdue_for_staff", lambda now: stale)

    report = run_job(app, now)

    assert (report.escalated, report.no_longer_due) == (0, 1)
    assert escalations_of(app, complaint["id"]) == []
    assert escalation_kinds_of(app, operator.id) == []
    history = complaint_history(client, operator.headers, complaint["id"])
    assert [e["action"] for e in history] == ["submit", "dispatch"]


def test_the_claim_alone_stops_a_second_escalation(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for a worker that looked before another committed: its insert finds the row."""
    category = road_damage_category(app)
    operator = Staff(app, client, "operator")
    complaint = submit(client, Staff(app, client, "citizen").headers, category)
    now = utc(complaint["due_at"]) + timedelta(hours=1)
    assert run_job(app, now).escalated == 1
    monkeypatch.setattr(escalation, "_escalated_keys", lambda items: set())

    report = run_job(app, now)

    assert (report.escalated, report.already_escalated, report.failed) == (0, 1, 0)
    assert len(escalations_of(app, complaint["id"])) == 1
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_COMPLAINT_VERIFICATION]
    history = complaint_history(client, operator.headers, complaint["id"])
    assert [e["action"] for e in history] == ["submit", "escalate"]


# --- permit applications -------------------------------------------------------------------------


def test_an_overdue_permit_step_is_escalated_to_the_agency_that_must_act(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = licensing.make_permit_type(app)  # issuing DPMPTSP, technical DINKES
    applicant = licensing.person(app, client)
    dpmptsp = licensing.officer(app, client, "DPMPTSP")
    dinkes = licensing.officer(app, client, "DINKES")
    operator = Staff(app, client, "operator")
    application_id = licensing.submitted(client, applicant, permit_type)
    detail = client.get(f"{licensing.BASE}/{application_id}", headers=applicant.headers)
    due = utc(detail.get_json()["next_action"]["due_at"])

    report = run_job(app, due + timedelta(hours=1))

    assert (report.escalated, report.notified) == (1, 2)
    assert escalation_kinds_of(app, dpmptsp.id) == [kinds.ESCALATION_PERMIT_VERIFICATION]
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_PERMIT_VERIFICATION]
    # The technical agency's turn has not come; the applicant is not staff.
    assert escalation_kinds_of(app, dinkes.id) == []
    assert escalation_kinds_of(app, applicant.id) == []
    [row] = escalations_of(app, application_id)
    assert (row.item_type, row.step, row.deadline) == ("permit_application", "verification", due)
    assert str(row.agency_id) == factories.agency_id(app, "DPMPTSP")
    timeline = client.get(f"{licensing.BASE}/{application_id}", headers=applicant.headers)
    entries = timeline.get_json()["timeline"]
    assert [e["action"] for e in entries][-2:] == ["submit", "escalate"]
    entry = entries[-1]
    assert (entry["actor"], entry["actor_agency_code"]) == ("system", None)
    assert entry["from_status"] == entry["to_status"] == "submitted"
    assert entry["details"]["step"] == "verification"
    assert utc(entry["details"]["deadline"]) == due

    assert run_job(app, due + timedelta(days=1)).escalated == 0
    assert len(escalations_of(app, application_id)) == 1


def test_a_deadline_the_applicant_owes_is_not_escalated(app: Flask, client: FlaskClient) -> None:
    permit_type = licensing.make_permit_type(app)
    applicant = licensing.person(app, client)
    dpmptsp = licensing.officer(app, client, "DPMPTSP")
    operator = Staff(app, client, "operator")
    application_id = licensing.submitted(client, applicant, permit_type)
    detail = licensing.acted(
        client,
        dpmptsp,
        application_id,
        "request_correction",
        note="KTP buram.",
        corrections=[{"requirement_code": "ktp", "reason": "Foto KTP buram."}],
        correction_days=3,
    )
    assert detail["status"] == "correction_requested"

    report = run_job(app, utc(detail["next_action"]["due_at"]) + timedelta(days=1))

    assert (report.overdue, report.escalated) == (0, 0)
    assert escalations_of(app, application_id) == []
    assert escalation_kinds_of(app, operator.id) == []


# --- queue sessions ------------------------------------------------------------------------------


def test_a_queue_session_ended_with_patients_waiting_is_escalated_to_its_facility(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    patch_service(monkeypatch, health_service, "current_time", lambda: health_wib(MONDAY, 7, 30))
    place = create_facility(app)
    elsewhere = create_facility(app)
    runs_it = Staff(app, client, "officer", agency_code="DINKES")
    runs_another = Staff(app, client, "officer", agency_code="DINKES")
    office = Staff(app, client, "officer", agency_code="DINKES")  # the agency's office
    pupr = Staff(app, client, "officer", agency_code="PUPR")
    operator = Staff(app, client, "operator")
    with app.app_context():
        health_service.add_staff(
            facility_id=uuid.UUID(place.facility_id), user_id=uuid.UUID(runs_it.id)
        )
        health_service.add_staff(
            facility_id=uuid.UUID(elsewhere.facility_id), user_id=uuid.UUID(runs_another.id)
        )
    patient = Staff(app, client, "citizen")
    booked = client.post(
        "/api/v1/queue-bookings", json=booking_body(place), headers=patient.headers
    )
    assert booked.status_code == 201, booked.get_json()
    session_end = health_wib(MONDAY, 12)  # Poli Umum: 08:00-12:00

    assert run_job(app, session_end - timedelta(minutes=1)).escalated == 0
    report = run_job(app, session_end + timedelta(minutes=10))

    assert (report.escalated, report.notified) == (1, 3)
    for told in (runs_it, office, operator):
        assert escalation_kinds_of(app, told.id) == [kinds.ESCALATION_QUEUE_SESSION]
    for outsider in (runs_another, pupr, patient):
        assert escalation_kinds_of(app, outsider.id) == []
    with app.app_context():
        link = db.session.scalars(
            sa.select(Notification.resource_id).where(
                Notification.user_id == uuid.UUID(operator.id)
            )
        ).one()
        [row] = db.session.scalars(sa.select(Escalation)).all()
    assert link == place.facility_id  # the app opens the facility's queue
    assert (row.item_type, row.step, row.reference) == (
        "queue_session",
        "queue_session",
        "2026-11-30",
    )
    assert row.deadline == session_end
    assert row.link.startswith(f"/api/v1/facilities/{place.facility_id}/queue?")
    # No timeline of its own: the escalation is read from the command center's list.
    listed = client.get(
        "/api/v1/ops/escalations",
        query_string={"item_type": "queue_session", "item_id": str(row.item_id)},
        headers=operator.headers,
    )
    assert [e["id"] for e in listed.get_json()] == [str(row.id)]

    assert run_job(app, session_end + timedelta(hours=2)).escalated == 0
    assert escalation_kinds_of(app, runs_it.id) == [kinds.ESCALATION_QUEUE_SESSION]


def test_every_step_that_can_be_late_has_its_own_notification_texts(app: Flask) -> None:
    steps = {
        (ItemType.COMPLAINT, "verification"),
        (ItemType.COMPLAINT, "follow_up"),
        (ItemType.PERMIT_APPLICATION, "verification"),
        (ItemType.PERMIT_APPLICATION, "technical_review"),
        (ItemType.PERMIT_APPLICATION, "decision"),
        (ItemType.PERMIT_APPLICATION, "issuance"),
        (ItemType.QUEUE_SESSION, "queue_session"),
    }
    assert set(escalation.KIND_BY_STEP) == steps
    params = {"reference": "BJI-2026-000001", "title": "Jalan", "due": "2026-12-01 23:59"}
    for code in (*escalation.KIND_BY_STEP.values(), kinds.ESCALATION_OTHER):
        assert not kinds.KINDS[code].optional  # staff cannot mute a missed deadline
        for language in ("id", "en"):
            with app.app_context():
                title, body = kinds.render(code, params, language)
            assert title and body
