"""What a submission costs the database (issue 17), and the shortcuts that keep it low: the
answer's history as written, the kelurahan's kecamatan remembered, pushes queued by one
INSERT ... SELECT."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.service import Principal
from binjai_api.complaints import service
from binjai_api.complaints.models import ComplaintEvent
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications.models import Delivery, Notification
from binjai_api.regions import service as regions_service
from tests.complaints.conftest import Person
from tests.complaints.helpers import report
from tests.notifications.helpers import register_device
from tests.queries import counting_queries

# Statements that are no round trip of their own (SQLite's BEGIN) or only the tests' wrapping
# transaction (savepoints).
_NOT_COUNTED = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def test_a_history_entry_made_after_the_submission_is_shown_too(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    """The history remembered by the submission is forgotten once another entry is made in the
    same session: the detail view then reads the whole history again."""
    with app.app_context():
        complaint = service.submit_complaint(
            reporter_id=uuid.UUID(resident.id),
            **{
                key: value
                for key, value in report(categories["road_damage"]).items()
                if key != "category_id"
            },
            category_id=uuid.UUID(categories["road_damage"]),
        )
        principal = Principal(kind="user", id=uuid.UUID(resident.id), role="citizen")
        assert [h["action"] for h in service.detail_view(complaint, principal)["history"]] == [
            "submit"
        ]
        db.session.add(
            ComplaintEvent(
                complaint_id=complaint.id,
                action="comment_noted",
                to_status=complaint.status,
                actor_role="reporter",
                created_at=utcnow(),
            )
        )
        db.session.flush()
        history = service.detail_view(complaint, principal)["history"]
        assert [h["action"] for h in history] == ["submit", "comment_noted"]


def test_a_kelurahan_s_kecamatan_is_remembered_and_an_unknown_code_is_not(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        assert regions_service.kecamatan_code_of("12.75.02.1001") == "12.75.02"
        with counting_queries(app) as statements:
            assert regions_service.kecamatan_code_of("12.75.02.1001") == "12.75.02"
            assert regions_service.kecamatan_code_of("12.75.99.9999") is None
            assert regions_service.kecamatan_code_of("12.75.99.9999") is None
        assert len([s for s in statements if "kelurahan" in s]) == 2  # the unknown code, twice


def test_each_device_of_the_reporter_gets_its_own_queued_push(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    register_device(app, resident.id, "token-phone-" + "a" * 40)
    register_device(app, resident.id, "token-tablet-" + "b" * 40)
    created = client.post(
        "/api/v1/complaints", headers=resident.headers, json=report(categories["road_damage"])
    )
    assert created.status_code == 201
    with app.app_context():
        rows = db.session.execute(
            sa.select(Delivery.id, Delivery.device_id, Delivery.status, Delivery.attempts)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.resource_id == created.get_json()["id"])
        ).all()
    assert len(rows) == 2
    assert len({row.device_id for row in rows}) == 2
    assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}
    # Ids made by the database are random version 4 UUIDs, like those made by Python.
    assert all(isinstance(row.id, uuid.UUID) and row.id.version == 4 for row in rows)
    assert rows[0].id != rows[1].id
