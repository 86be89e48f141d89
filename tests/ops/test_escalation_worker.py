"""The escalation job in the outbox worker's loop, and the `escalate-overdue` command."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications import dispatcher, fcm, kinds
from binjai_api.notifications.models import Delivery, Device, Notification
from binjai_api.ops import escalation
from tests.complaints.helpers import submit
from tests.ops.test_escalation import (
    Staff,
    escalation_kinds_of,
    escalations_of,
    road_damage_category,
)

pytestmark = pytest.mark.usefixtures("rollback_db")


def _overdue_report(app: Flask, client: FlaskClient) -> tuple[Staff, str]:
    """An operator, and a report whose verification deadline passed an hour ago (the command
    and the worker run on the real clock)."""
    operator = Staff(app, client, "operator")
    complaint = submit(client, Staff(app, client, "citizen").headers, road_damage_category(app))
    with app.app_context():
        db.session.execute(
            sa.update(Complaint)
            .where(Complaint.id == uuid.UUID(complaint["id"]))
            .values(due_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    return operator, complaint["id"]


def test_the_worker_escalates_then_pushes_the_escalation_when_draining(
    app: Flask, client: FlaskClient
) -> None:
    operator, complaint_id = _overdue_report(app, client)
    with app.app_context():
        db.session.add(Device(user_id=uuid.UUID(operator.id), token="t" * 40, platform="android"))
        db.session.commit()
    job = dispatcher.PeriodicJob("escalate-overdue", 60, escalation.escalate_overdue)

    with app.app_context():
        pushed = dispatcher.run_worker(
            fcm.LoggingSender(), stop=threading.Event(), drain_only=True, periodic=[job]
        )

    assert len(escalations_of(app, complaint_id)) == 1
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_COMPLAINT_VERIFICATION]
    # Escalated first, so the same drain already pushed it.
    assert pushed.sent == 1
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Delivery.status)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.kind == kinds.ESCALATION_COMPLAINT_VERIFICATION)
        ).all()
    assert statuses == ["sent"]


def test_a_failing_job_is_logged_and_does_not_stop_the_worker(app: Flask) -> None:
    stop = threading.Event()
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        stop.set()  # the worker finishes the turn it is in, then stops
        raise RuntimeError("bug in a periodic job")

    job = dispatcher.PeriodicJob("broken", 3600, broken)
    with app.app_context():
        report = dispatcher.run_worker(fcm.LoggingSender(), stop=stop, periodic=[job])

    assert calls == [1]
    assert report.claimed == 0
    assert job.next_run > 0  # not run again before its interval


def test_the_job_waits_for_its_interval(app: Flask) -> None:
    calls: list[int] = []
    job = dispatcher.PeriodicJob("count", 3600, lambda: calls.append(1))

    dispatcher.run_due_jobs([job])
    dispatcher.run_due_jobs([job])

    assert calls == [1]


def test_outbox_worker_command_runs_the_escalation(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    operator, complaint_id = _overdue_report(app, client)

    result = runner.invoke(args=["outbox-worker", "--drain"])

    assert result.exit_code == 0, result.output
    assert len(escalations_of(app, complaint_id)) == 1
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_COMPLAINT_VERIFICATION]


def test_escalation_interval_zero_turns_the_worker_job_off(
    app: Flask, client: FlaskClient, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, complaint_id = _overdue_report(app, client)
    monkeypatch.setitem(app.config, "ESCALATION_INTERVAL_SECONDS", 0)

    result = runner.invoke(args=["outbox-worker", "--drain"])

    assert result.exit_code == 0, result.output
    assert escalations_of(app, complaint_id) == []


def test_escalate_overdue_command_runs_one_round_and_says_what_it_did(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    operator, complaint_id = _overdue_report(app, client)

    first = runner.invoke(args=["escalate-overdue"])
    second = runner.invoke(args=["escalate-overdue"])

    assert first.exit_code == 0, first.output
    assert "overdue=1 escalated=1 notified=1 already_escalated=0" in first.output
    assert second.exit_code == 0, second.output
    assert "overdue=1 escalated=0 notified=0 already_escalated=1" in second.output
    assert len(escalations_of(app, complaint_id)) == 1
    assert escalation_kinds_of(app, operator.id) == [kinds.ESCALATION_COMPLAINT_VERIFICATION]
