"""A submission writes the report's row with one Core INSERT, not an ORM flush: the row holds
every column, and its audit record and day rows are those a flush would have left; the report
is in the session as if loaded, so later changes to it are UPDATEs."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.agencies.models import Agency
from binjai_api.area_alerts.models import AreaAlertEvent
from binjai_api.audit import capture
from binjai_api.audit.models import AuditRecord
from binjai_api.complaints import service
from binjai_api.complaints.models import Complaint, ComplaintCategory, ComplaintEvent
from binjai_api.extensions import db
from tests.complaints.conftest import Person
from tests.complaints.helpers import report, submit
from tests.queries import counting_queries


@pytest.mark.parametrize("privacy", ["public", "anonymous", "confidential"])
def test_the_audit_record_is_the_one_a_flush_of_the_row_would_write(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    privacy: str,
) -> None:
    """Compared with what the flush listener records for the same row loaded through the ORM
    (personal values masked, an anonymous reporter as a pseudonym)."""
    created = submit(client, resident.headers, categories["road_damage"], privacy=privacy)
    with app.app_context():
        record = db.session.scalars(
            sa.select(AuditRecord).where(
                AuditRecord.object_type == "complaints", AuditRecord.object_id == created["id"]
            )
        ).one()
        loaded = db.session.get(Complaint, uuid.UUID(created["id"]))
        assert loaded is not None
        expected = capture._change(loaded, Complaint.__audit__, "create")
        assert expected is not None
        assert (record.action, record.before, record.after) == (
            expected["action"],
            expected["before"],
            expected["after"],
        )
        if privacy == "anonymous":
            assert record.actor_type == "pseudonym" and record.actor_id != resident.id
            assert record.after["reporter_id"] not in (None, resident.id)
        else:
            assert (record.actor_type, record.actor_id) == ("user", resident.id)
            assert record.after["reporter_id"] == resident.id


def test_the_insert_names_every_column_of_the_report(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    """No column is left to a default the ORM would have applied (status, counters, stamps)."""
    with counting_queries(app, touching="INSERT INTO complaints ") as statements:
        created = submit(client, resident.headers, categories["road_damage"])
    assert len(statements) == 1
    with app.app_context():
        columns = Complaint.__table__.columns.keys()
        row = db.session.execute(
            sa.select(Complaint.__table__).where(Complaint.id == uuid.UUID(created["id"]))
        ).one()
    for name in columns:
        assert name in statements[0]
    assert row.supporter_count == 0 and row.status == "submitted" and row.channel == "app"
    assert row.created_at is not None and row.updated_at == row.created_at


def test_the_submitted_report_is_in_the_session_as_loaded(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    """Nothing pending about it after the submission; a change made to it later in the same
    session is an UPDATE of the row (with its own audit record), not a second INSERT."""
    with app.app_context():
        body = report(categories["road_damage"])
        complaint = service.submit_complaint(
            reporter_id=uuid.UUID(resident.id),
            **{**body, "category_id": uuid.UUID(body["category_id"])},
        )
        state = sa.inspect(complaint)
        assert state.persistent and not state.modified
        assert complaint not in db.session.new and complaint not in db.session.dirty
        assert complaint.category.code == "road_damage"
        assert complaint.agency.id == complaint.category.agency_id
        assert complaint.photos == []
        with counting_queries(app) as statements:
            complaint.supporter_count = 3
            complaint.status = "dispatched"
            db.session.commit()
        assert [s for s in statements if s.lstrip().startswith("INSERT INTO complaints ")] == []
        assert [s for s in statements if s.lstrip().startswith("UPDATE complaints ")]
        kept = db.session.scalars(
            sa.select(Complaint.status).where(Complaint.id == complaint.id)
        ).one()
        assert kept == "dispatched"
        actions = db.session.scalars(
            sa.select(AuditRecord.action)
            .where(AuditRecord.object_type == "complaints")
            .where(AuditRecord.object_id == str(complaint.id))
            .order_by(AuditRecord.occurred_at)
        ).all()
        assert actions == ["create", "update"]


@pytest.mark.parametrize("already_loaded", [False, True])
def test_the_category_and_agency_are_in_the_session_as_loaded(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    already_loaded: bool,
) -> None:
    """Read as one row of plain columns (or by the ORM query when the session already holds
    the category, as an officer's intake does): every attribute there, nothing pending, the
    same values as a query loads."""
    category_id = uuid.UUID(categories["road_damage"])
    with app.app_context():
        if already_loaded:
            assert service.find_category(category_id) is not None
        body = report(categories["road_damage"])
        complaint = service.submit_complaint(
            reporter_id=uuid.UUID(resident.id), **{**body, "category_id": category_id}
        )
        category, agency = complaint.category, complaint.agency
        with counting_queries(app) as statements:
            seen = {
                key: getattr(instance, key)
                for instance in (category, agency)
                for key in _keys(type(instance))
            }
            assert category.agency is agency
        assert statements == []  # nothing left to load
        for instance in (category, agency):
            state = sa.inspect(instance)
            assert state.persistent and not state.modified
        assert seen["questions"] is not None and isinstance(seen["is_active"], bool)
        db.session.expunge_all()
        loaded = db.session.get(ComplaintCategory, category_id)
        assert loaded is not None
        for key in _keys(ComplaintCategory):
            assert getattr(loaded, key) == getattr(category, key), key
        for key in _keys(Agency):
            assert getattr(loaded.agency, key) == getattr(agency, key), key


def _keys(model: type) -> list[str]:
    return [attr.key for attr in sa.inspect(model).column_attrs]


@pytest.mark.parametrize("privacy", ["public", "confidential"])
def test_the_history_entry_and_area_alert_event_are_written_with_the_report(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    privacy: str,
) -> None:
    """Its first history entry, and the area-alert event of a report the public feed shows
    (none for a confidential one), in the same transaction; on PostgreSQL in the report's own
    INSERT (data-modifying CTEs: one round trip), on SQLite one INSERT each."""
    with counting_queries(app) as statements:
        created = submit(client, resident.headers, categories["road_damage"], privacy=privacy)
    complaint_id = uuid.UUID(created["id"])
    with app.app_context():
        on_postgresql = db.engine.dialect.name == "postgresql"
        history = db.session.execute(
            sa.select(
                ComplaintEvent.action, ComplaintEvent.to_status, ComplaintEvent.created_at
            ).where(ComplaintEvent.complaint_id == complaint_id)
        ).all()
        alerts = db.session.execute(
            sa.select(AreaAlertEvent.event, AreaAlertEvent.fanned_out_at).where(
                AreaAlertEvent.complaint_id == complaint_id
            )
        ).all()
    assert [(action, status) for action, status, _at in history] == [("submit", "submitted")]
    assert created["history"][0]["created_at"] == created["created_at"]
    assert alerts == ([("filed", None)] if privacy == "public" else [])
    writes = [s for s in statements if "complaint_events" in s or "area_alert_events" in s]
    if on_postgresql:
        assert len(writes) == 1 and "INSERT INTO complaints " in writes[0]
    else:
        assert len(writes) == (2 if privacy == "public" else 1)
