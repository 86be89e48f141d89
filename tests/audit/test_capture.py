"""Every state change and admin action leaves a record: who, what, when, the request id, and the
values before and after; personal values and secrets never."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.audit import service as audit_service
from binjai_api.audit.models import AuditRecord
from binjai_api.audit.policy import PERSONAL_MARK, SECRET_MARK
from binjai_api.auth.models import User
from binjai_api.complaints import service as complaints_service
from binjai_api.complaints.models import Complaint, ComplaintCategory
from binjai_api.extensions import db
from binjai_api.health import service as health_service
from binjai_api.workcalendar import service as workcalendar_service
from tests import factories
from tests.audit.helpers import only, records, seal
from tests.complaints.helpers import act, submit
from tests.health.conftest import MONDAY, booking_body, create_facility, wib
from tests.licensing import helpers as licensing
from tests.patching import patch_service

REQUEST_ID = "audit-test-0001"


def _json(record: AuditRecord) -> str:
    return json.dumps({"before": record.before, "after": record.after})


@pytest.fixture
def categories(app: Flask, rollback_db: None) -> dict[str, str]:
    with app.app_context():
        complaints_service.seed_categories()
        found = db.session.scalars(complaints_service.categories_query(include_inactive=True))
        return {category.code: str(category.id) for category in found}


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> tuple[str, dict[str, str]]:
    account = factories.make_account(app, "admin")
    return account.id, factories.login_headers(client, account)


def test_a_complaint_transition_records_who_what_when_and_the_request(
    app: Flask, client: FlaskClient, categories: dict[str, str]
) -> None:
    resident = factories.make_account(app, "citizen")
    operator = factories.make_account(app, "operator")
    complaint = submit(client, factories.login_headers(client, resident), categories["road_damage"])
    response = act(
        client,
        {**factories.login_headers(client, operator), "X-Request-ID": REQUEST_ID},
        complaint["id"],
        "dispatch",
    )
    assert response.status_code == 200, response.get_json()
    seal(app)

    record = only(app, object_type="complaints", object_id=complaint["id"], action="update")
    assert (record.actor_type, record.actor_id, record.actor_role) == (
        "user",
        operator.id,
        "operator",
    )
    assert record.request_id == REQUEST_ID
    assert record.occurred_at is not None and record.seq is not None and record.hash
    assert record.before is not None and record.after is not None
    assert (record.before["status"], record.after["status"]) == ("submitted", "dispatched")
    assert "updated_at" not in record.after  # noise is not recorded

    created = only(app, object_type="complaints", object_id=complaint["id"], action="create")
    assert (created.actor_id, created.actor_role) == (resident.id, "citizen")
    assert created.after is not None
    assert created.after["title"] == PERSONAL_MARK
    assert created.after["address"] == PERSONAL_MARK
    assert created.after["status"] == "submitted"
    for value in ("Jalan berlubang", "Soekarno-Hatta", "Lubang besar", "3.6001"):
        assert value not in _json(created)


def test_a_permit_application_step_is_recorded_without_the_form(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = licensing.make_permit_type(app)
    applicant = licensing.person(app, client)
    dpmptsp = licensing.officer(app, client, "DPMPTSP")
    application_id = licensing.submitted(client, applicant, permit_type)
    step = licensing.acted(client, dpmptsp, application_id, "verify")

    updates = records(
        app, object_type="permit_applications", object_id=application_id, action="update"
    )
    by_officer = [r for r in updates if r.actor_id == dpmptsp.id]
    assert len(by_officer) == 1
    record = by_officer[0]
    assert record.actor_role == "officer" and record.request_id
    assert record.before is not None and record.after is not None
    assert record.before["status"] == "submitted"
    assert record.after["status"] == step["status"]
    created = only(
        app, object_type="permit_applications", object_id=application_id, action="create"
    )
    assert created.after is not None and created.after["form_data"] == PERSONAL_MARK
    assert "Bidan Sehati" not in _json(created)


def test_a_booking_status_change_is_recorded_without_the_patient(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_service(monkeypatch, health_service, "current_time", lambda: wib(MONDAY, 7, 30))
    place = create_facility(app)
    patient = factories.make_account(app, "citizen", full_name="Rahmat Hidayat")
    headers = factories.login_headers(client, patient)
    booked = client.post("/api/v1/queue-bookings", json=booking_body(place), headers=headers)
    assert booked.status_code == 201, booked.get_json()
    booking_id = booked.get_json()["id"]
    cancelled = client.post(f"/api/v1/queue-bookings/{booking_id}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.get_json()

    record = only(app, object_type="health_queue_bookings", object_id=booking_id, action="update")
    assert record.actor_id == patient.id and record.request_id
    assert record.before is not None and record.after is not None
    assert (record.before["status"], record.after["status"]) == ("booked", "cancelled")
    created = only(app, object_type="health_queue_bookings", object_id=booking_id, action="create")
    assert created.after is not None
    assert created.after["patient_name"] == PERSONAL_MARK
    with app.app_context():
        nik = db.session.scalar(sa.select(User.nik).where(User.id == uuid.UUID(patient.id)))
    assert nik is not None
    for record in records(app, object_type="health_queue_bookings"):
        assert "Rahmat" not in _json(record) and nik not in _json(record)


def test_staff_creation_and_a_role_change_are_recorded_without_personal_data_or_secrets(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    admin_id, headers = admin
    created = client.post(
        "/api/v1/admin/staff",
        headers=headers,
        json={
            "full_name": "Budi Santoso",
            "email": "budi.audit@pupr.binjaikota.go.id",
            "password": "Petugas-PUPR-2026",
            "role": "officer",
            "agency_id": factories.agency_id(app, "PUPR"),
        },
    )
    assert created.status_code == 201, created.get_json()
    staff_id = created.get_json()["id"]
    changed = client.patch(
        f"/api/v1/admin/accounts/{staff_id}",
        headers={**headers, "X-Request-ID": REQUEST_ID},
        json={"role": "operator", "agency_id": None},
    )
    assert changed.status_code == 200, changed.get_json()

    creation = only(app, object_type="users", object_id=staff_id, action="create")
    assert creation.actor_id == admin_id and creation.actor_role == "admin"
    assert creation.after is not None
    assert creation.after["full_name"] == PERSONAL_MARK
    assert creation.after["email"] == PERSONAL_MARK
    assert creation.after["password_hash"] == SECRET_MARK
    assert creation.after["role"] == "officer"
    assert "Budi" not in _json(creation) and "argon2" not in _json(creation)

    change = only(app, object_type="users", object_id=staff_id, action="update")
    assert change.request_id == REQUEST_ID and change.actor_id == admin_id
    assert change.before == {"role": "officer", "agency_id": factories.agency_id(app, "PUPR")}
    assert change.after == {"role": "operator", "agency_id": None}


def test_a_citizens_registration_is_recorded_anonymously_and_redacted(
    app: Flask, client: FlaskClient
) -> None:
    body = factories.registration(full_name="Siti Rahmawati")
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.get_json()
    record = only(app, object_type="users", object_id=response.get_json()["id"])
    assert record.action == "create" and record.actor_type == "anonymous"
    for value in (body["nik"], body["phone"][1:], body["email"], "Rahmawati", body["password"]):
        assert value not in _json(record)


def test_an_api_client_creation_is_recorded_and_its_secret_never(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    admin_id, headers = admin
    response = client.post(
        "/api/v1/admin/api-clients",
        headers=headers,
        json={"name": "SP4N-LAPOR! bridge", "scopes": ["complaints:read"]},
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    record = only(app, object_type="api_clients", object_id=created["id"])
    assert record.action == "create" and record.actor_id == admin_id
    assert record.after is not None
    assert record.after["name"] == "SP4N-LAPOR! bridge"
    assert record.after["secret_hash"] == SECRET_MARK
    for any_record in records(app):
        assert created["client_secret"] not in _json(any_record)


def test_a_catalog_change_is_recorded_with_before_and_after(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    admin: tuple[str, dict[str, str]],
) -> None:
    admin_id, headers = admin
    category_id = categories["road_damage"]
    current = client.get(f"/api/v1/complaint-categories/{category_id}")
    etag, days_before = current.headers["ETag"], current.get_json()["follow_up_days"]
    changed = client.patch(
        f"/api/v1/complaint-categories/{category_id}",
        json={"follow_up_days": days_before + 1},
        headers={**headers, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    record = only(app, object_type="complaint_categories", object_id=category_id, action="update")
    assert record.actor_id == admin_id
    assert record.before == {"follow_up_days": days_before}
    assert record.after == {"follow_up_days": days_before + 1}


def test_declaring_and_cancelling_a_day_off_are_recorded(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    admin_id, headers = admin
    declared = client.post(
        "/api/v1/days-off", headers=headers, json={"date": "2031-12-31", "name": "Cuti bersama"}
    )
    assert declared.status_code == 201, declared.get_json()
    cancelled = client.delete("/api/v1/days-off/2031-12-31", headers=headers)
    assert cancelled.status_code == 204
    created, deleted = records(app, object_type="days_off")
    assert created.action == "create" and created.actor_id == admin_id
    assert created.after is not None
    assert (created.after["day"], created.after["name"]) == ("2031-12-31", "Cuti bersama")
    assert deleted.action == "delete" and deleted.object_id == created.object_id
    assert deleted.before is not None and deleted.before["day"] == "2031-12-31"
    assert deleted.after is None


def test_outside_a_request_the_actor_is_the_system_command(app: Flask, runner: object) -> None:
    result = runner.invoke(  # type: ignore[attr-defined]
        args=[
            "create-admin",
            "--email",
            "root.audit@binjaikota.go.id",
            "--password",
            "Admin-Binjai-Kuat-2026",
        ]
    )
    assert result.exit_code == 0, result.output
    record = only(app, object_type="users", action="create", actor_type="system")
    assert record.actor_id == "create-admin" and record.request_id is None
    with app.app_context():
        workcalendar_service.declare_day_off(day=date(2031, 1, 2), name="Libur kota")
    day_off = only(app, object_type="days_off")
    assert (day_off.actor_type, day_off.actor_id) == ("system", None)


def test_a_rolled_back_change_leaves_no_record(
    app: Flask, client: FlaskClient, categories: dict[str, str]
) -> None:
    category_id = uuid.UUID(categories["road_damage"])
    before = len(records(app))
    with app.app_context():
        category = db.session.get(ComplaintCategory, category_id)
        assert category is not None
        category.follow_up_days = 9
        db.session.flush()
        written = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.object_id == str(category_id),
                AuditRecord.action == "update",
                AuditRecord.seq.is_(None),
            )
        )
        assert written == 1  # written in the change's transaction, not yet sealed
        db.session.rollback()
    assert len(records(app)) == before
    # A refused request (409) leaves none either.
    admin = factories.make_account(app, "admin")
    headers = factories.login_headers(client, admin)
    count = len(records(app))
    refused = client.patch(
        f"/api/v1/admin/accounts/{admin.id}", headers=headers, json={"role": "officer"}
    )
    assert refused.status_code == 409
    assert len(records(app)) == count


def test_an_update_of_ignored_columns_only_records_nothing(
    app: Flask, client: FlaskClient, categories: dict[str, str]
) -> None:
    resident = factories.make_account(app, "citizen")
    complaint = submit(client, factories.login_headers(client, resident), categories["drainage"])
    count = len(records(app))
    with app.app_context():
        row = db.session.get(Complaint, uuid.UUID(complaint["id"]))
        assert row is not None
        row.supporter_count += 1
        db.session.commit()
    assert len(records(app)) == count


def test_records_are_committed_unsealed_and_the_seal_job_chains_them_in_order(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    _admin_id, headers = admin
    for day in ("2031-03-02", "2031-03-03"):
        response = client.post(
            "/api/v1/days-off", headers=headers, json={"date": day, "name": "Libur"}
        )
        assert response.status_code == 201
    written = records(app, object_type="days_off")
    assert [r.seq for r in written] == [None, None]  # the request took no chain lock

    seal(app)
    chain = records(app)
    assert all(r.seq is not None for r in chain)
    days = [r.after["day"] for r in chain if r.object_type == "days_off" and r.after]
    assert days == ["2031-03-02", "2031-03-03"]
    assert [r.seq for r in chain] == list(
        range(chain[0].seq or 0, (chain[0].seq or 0) + len(chain))
    )
    for previous, record in itertools.pairwise(chain):
        assert record.prev_hash == previous.hash


def test_a_rolled_back_savepoint_takes_its_records_and_the_rest_still_seal(
    app: Flask, client: FlaskClient, categories: dict[str, str]
) -> None:
    drainage, road = uuid.UUID(categories["drainage"]), uuid.UUID(categories["road_damage"])
    with app.app_context():
        with db.session.begin_nested():
            kept = db.session.get(ComplaintCategory, drainage)
            assert kept is not None
            kept.follow_up_days = 7
        savepoint = db.session.begin_nested()
        dropped = db.session.get(ComplaintCategory, road)
        assert dropped is not None
        dropped.follow_up_days = 8
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
        audit_service.seal_pending()
        report = audit_service.verify_chain()
    assert report.intact, report.problem
    assert records(app, object_id=str(road), action="update") == []
    record = only(app, object_id=str(drainage), action="update")
    assert record.after == {"follow_up_days": 7} and record.seq is not None
