"""Several outbox workers fanning out area alerts at once on PostgreSQL: the daily cap holds and
nobody is told twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.area_alerts import service
from binjai_api.area_alerts.models import AreaAlertEvent, AreaAlertItem
from binjai_api.extensions import db
from binjai_api.notifications.models import Notification
from tests.area_alerts.conftest import KELURAHAN, AlertClock
from tests.complaints.conftest import make_person
from tests.complaints.helpers import submit

pytestmark = pytest.mark.postgres_only

WORKERS = 4
REPORTS = 12
FOLLOWERS = 3
CAP = 2


def test_four_workers_at_once_keep_the_daily_cap_and_tell_each_follower_once(
    app: Flask,
    committed_db: None,
    alert_clock: AlertClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "AREA_ALERTS_DAILY_LIMIT", CAP)
    client = app.test_client()
    with app.app_context():
        from binjai_api.complaints import service as complaints_service

        complaints_service.seed_categories()
        waste = str(complaints_service.find_category_by_code("waste").id)  # type: ignore[union-attr]
    followers = [make_person(app, client) for _ in range(FOLLOWERS)]
    for person in followers:
        response = client.post(
            "/api/v1/me/area-subscriptions",
            headers=person.headers,
            json={"area_type": "kelurahan", "area_code": KELURAHAN},
        )
        assert response.status_code == 201
    reporter = make_person(app, client)
    for n in range(REPORTS):
        submit(client, reporter.headers, waste, title=f"Sampah {n}")

    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                service.run_area_alerts()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        # A worker that found the job taken left it to the one holding it: finish the rest.
        service.run_area_alerts()
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AreaAlertEvent.fanned_out_at.is_(None))
            )
            == 0
        )
        ids = [uuid.UUID(p.id) for p in followers]
        items = db.session.execute(
            sa.select(AreaAlertItem.user_id, AreaAlertItem.immediate).where(
                AreaAlertItem.user_id.in_(ids)
            )
        ).all()
        pushed = db.session.execute(
            sa.select(Notification.user_id).where(
                Notification.user_id.in_(ids), Notification.kind == "area_report_filed"
            )
        ).all()
    assert Counter(user for user, _ in items) == {user: REPORTS for user in ids}
    assert Counter(user for user, immediate in items if immediate) == {user: CAP for user in ids}
    assert Counter(row[0] for row in pushed) == {user: CAP for user in ids}


def test_a_worker_leaves_the_job_to_the_one_holding_it(
    app: Flask,
    committed_db: None,
    alert_clock: AlertClock,
) -> None:
    client = app.test_client()
    with app.app_context():
        from binjai_api.complaints import service as complaints_service

        complaints_service.seed_categories()
        waste = str(complaints_service.find_category_by_code("waste").id)  # type: ignore[union-attr]
    follower = make_person(app, client)
    client.post(
        "/api/v1/me/area-subscriptions",
        headers=follower.headers,
        json={"area_type": "kecamatan", "area_code": "12.75.02"},
    )
    submit(client, make_person(app, client).headers, waste)
    with app.app_context():
        # Another worker, mid-run, holds the job.
        with db.engine.connect() as other_worker, other_worker.begin():
            other_worker.execute(
                sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": service._JOB_LOCK_ID}
            )
            report = service.run_area_alerts()
            assert report.events == 0 and report.pushed == 0
        assert service.run_area_alerts().events == 1  # released: this worker takes it
        db.session.remove()
