"""Several workers escalating at the same instant on PostgreSQL, each on its own connection:
every item is escalated exactly once, with one notification per recipient and one timeline
entry."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.complaints.models import ComplaintEvent
from binjai_api.extensions import db
from binjai_api.notifications import kinds
from binjai_api.notifications.models import Notification
from binjai_api.ops import escalation
from binjai_api.ops.escalation import EscalationReport
from binjai_api.ops.models import Escalation
from tests.complaints.helpers import submit
from tests.concurrency import run_together
from tests.ops.test_escalation import Staff, road_damage_category, utc

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("committed_db")]

WORKERS = 4
RESIDENTS = 4
REPORTS_EACH = 5  # under the per-account submission limit


def test_workers_at_the_same_instant_escalate_each_item_exactly_once(app: Flask) -> None:
    client = app.test_client()
    category = road_damage_category(app)
    operators = [Staff(app, client, "operator") for _ in range(2)]
    complaint_ids: list[str] = []
    due: list[datetime] = []
    for _ in range(RESIDENTS):
        resident = Staff(app, client, "citizen")
        for number in range(REPORTS_EACH):
            complaint = submit(client, resident.headers, category, title=f"Lubang nomor {number}")
            complaint_ids.append(complaint["id"])
            due.append(utc(complaint["due_at"]))
    now = max(due) + timedelta(hours=1)

    def one_worker(_client: Any) -> EscalationReport:
        with app.app_context():
            try:
                return escalation.escalate_overdue(now=now)
            finally:
                db.session.remove()

    reports: list[EscalationReport] = run_together(app, WORKERS, one_worker)

    items = len(complaint_ids)
    assert sum(report.failed for report in reports) == 0
    assert sum(report.escalated for report in reports) == items
    assert all(report.overdue == items for report in reports)
    assert sum(report.escalated + report.already_escalated for report in reports) == (
        WORKERS * items
    )
    ids = [uuid.UUID(complaint_id) for complaint_id in complaint_ids]
    with app.app_context():
        claims = Counter(
            db.session.scalars(sa.select(Escalation.item_id).where(Escalation.item_id.in_(ids)))
        )
        entries = Counter(
            db.session.scalars(
                sa.select(ComplaintEvent.complaint_id).where(
                    ComplaintEvent.complaint_id.in_(ids), ComplaintEvent.action == "escalate"
                )
            )
        )
        inbox = Counter(
            (row.user_id, row.resource_id)
            for row in db.session.execute(
                sa.select(Notification.user_id, Notification.resource_id).where(
                    Notification.kind == kinds.ESCALATION_COMPLAINT_VERIFICATION
                )
            )
        )
    assert claims == {item_id: 1 for item_id in ids}
    assert entries == {item_id: 1 for item_id in ids}
    assert inbox == {
        (uuid.UUID(operator.id), complaint_id): 1
        for operator in operators
        for complaint_id in complaint_ids
    }
