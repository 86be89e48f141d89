"""Concurrent answers on real PostgreSQL: one answer per invitation, one question per report."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.complaints import service as complaints_service
from binjai_api.complaints.models import Complaint
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.quality import fix_checks
from binjai_api.quality.models import FixCheck, SurveyAnswer
from tests import factories
from tests.complaints.helpers import report
from tests.concurrency import run_together
from tests.quality.conftest import INVITATIONS, invite, scores

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("committed_db")]


def test_eight_simultaneous_answers_to_one_invitation_store_one(app: Flask) -> None:
    account = factories.make_account(app, "citizen")
    headers = factories.login_headers(app.test_client(), account)
    invitation_id = invite(app, account.id)
    body = {"scores": scores(3, 3, 3, 3, 3, 3, 3, 3, 3)}
    responses = run_together(
        app,
        8,
        lambda client: client.post(
            f"{INVITATIONS}/{invitation_id}/answers", headers=headers, json=body
        ),
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 7}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyAnswer)) == 1


def test_two_workers_asking_at_once_ask_each_report_once(app: Flask) -> None:

    client = app.test_client()
    with app.app_context():
        complaints_service.seed_categories()
        category = complaints_service.find_category_by_code("road_damage")
        assert category is not None
        category_id = str(category.id)
    reporter = factories.make_account(app, "citizen")
    reporter_headers = factories.login_headers(client, reporter)
    operator = factories.login_headers(client, factories.make_account(app, "operator"))
    officer = factories.login_headers(
        client, factories.make_account(app, "officer", agency_code="PUPR")
    )
    created = client.post(
        "/api/v1/complaints", headers=reporter_headers, json=report(category_id)
    ).get_json()
    for headers, action, extra in (
        (operator, "dispatch", {}),
        (officer, "resolve", {"note": "Selesai."}),
    ):
        done = client.post(
            f"/api/v1/complaints/{created['id']}/transitions",
            headers=headers,
            json={"action": action, **extra},
        )
        assert done.status_code == 200, done.get_json()
    with app.app_context():
        db.session.execute(sa.update(Complaint).values(resolved_at=utcnow() - timedelta(days=40)))
        db.session.commit()

    barrier = threading.Barrier(2)
    results: list[Any] = []

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            results.append(fix_checks.ask_due_fix_checks().asked)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FixCheck)) == 1
