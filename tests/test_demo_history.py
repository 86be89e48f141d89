"""The demo history (issue 19, point 5): right after `flask seed-demo` the public performance
page for the city shows reports, their follow-up share and resolution time, permits within their
service level, queue waits and an IKM grade; a second seed changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint, ComplaintEvent
from binjai_api.db import utcnow
from binjai_api.demo_history import DEMO_TEXT
from binjai_api.extensions import db
from binjai_api.health.models import QueueBooking, QueueDay
from binjai_api.licensing.models import Permit, PermitApplication, PermitApplicationEvent
from binjai_api.ops import service as ops_service
from binjai_api.ops.models import StepFact
from binjai_api.quality import performance
from binjai_api.workcalendar.service import local_date

TABLES = (
    Complaint,
    ComplaintEvent,
    PermitApplication,
    PermitApplicationEvent,
    Permit,
    QueueDay,
    QueueBooking,
    StepFact,
)


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            table.__tablename__: int(
                db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            )
            for table in TABLES
        }


def _log_in(client: FlaskClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _months(app: Flask) -> list[str]:
    """This month and the five before, as YYYY-MM."""
    with app.app_context():
        year, month = (int(part) for part in performance.current_month().split("-"))
    months = []
    for _ in range(6):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def test_after_seed_demo_the_city_page_has_every_figure_and_a_second_seed_adds_nothing(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    loaded = _counts(app)
    assert 150 <= loaded["complaints"] <= 300
    assert loaded["ops_step_facts"] > 0

    pages = {
        month: client.get(f"/api/v1/public/performance?month={month}").get_json()
        for month in _months(app)
    }
    # Last month is complete: every kind of figure is there for the whole city.
    previous = pages[_months(app)[1]]["summary"]
    assert previous["complaints"]["received"] > 0
    assert (
        0
        < previous["complaints"]["followed_up_on_time"]
        < previous["complaints"]["followed_up_judged"]
    )  # some on time, some late
    assert previous["complaints"]["median_hours_to_resolve"] > 0
    # The last six months all have reports, spread over several agencies and kecamatan.
    assert all(page["summary"]["complaints"]["received"] > 0 for page in pages.values())
    assert len({row["agency"]["code"] for row in previous_agencies(pages)}) >= 5
    areas = pages[_months(app)[1]]["kecamatan_figures"]
    assert sum(1 for row in areas if row["complaints"]["received"]) >= 3
    # Permits issued over the months, most within their service level, some late.
    permits = [page["summary"]["permits"] for page in pages.values()]
    assert previous["permits"]["issued"] > 0
    assert 0 < sum(p["within_sla"] for p in permits) < sum(p["with_sla"] for p in permits)
    assert 40 <= loaded["permit_applications"] <= 80
    # Queues served over the months, with a median wait from check-in to the call.
    assert 300 <= loaded["health_queue_bookings"] <= 600
    assert previous["queues"]["served"] > 0
    assert 5 <= previous["queues"]["median_minutes_waiting"] <= 120
    this_month = pages[_months(app)[0]]["summary"]
    assert this_month["ikm"]["grade"]

    with app.app_context():
        # No report names a person; every one is marked as demo.
        assert not db.session.scalar(
            sa.select(sa.func.count()).where(
                sa.or_(
                    Complaint.reporter_id.is_not(None),
                    Complaint.contact_name.is_not(None),
                    Complaint.contact_phone.is_not(None),
                    ~Complaint.description.startswith(DEMO_TEXT),
                )
            )
        )
        # Some still open past their deadline, some rejected.
        statuses = dict(
            db.session.execute(
                sa.select(Complaint.status, sa.func.count()).group_by(Complaint.status)
            ).all()
        )
        assert statuses.get("rejected", 0) > 0 and statuses.get("closed", 0) > 0
        no_shows = db.session.scalar(
            sa.select(sa.func.count()).where(QueueBooking.status == "no_show")
        )
        assert no_shows and no_shows < loaded["health_queue_bookings"] // 5
        assert not db.session.scalar(
            sa.select(sa.func.count()).where(
                sa.or_(QueueBooking.patient_nik.is_not(None), QueueBooking.account_id.is_not(None))
            )
        )
        refused = db.session.scalar(
            sa.select(sa.func.count()).where(PermitApplication.status == "rejected")
        )
        assert refused and refused < loaded["permit_applications"] // 4
        assert loaded["permits"] == db.session.scalar(
            sa.select(sa.func.count()).where(PermitApplication.status == "issued")
        )
        running = db.session.scalars(
            sa.select(Complaint.due_at).where(Complaint.status.in_(("dispatched", "in_progress")))
        ).all()
        assert any(due is not None and due < utcnow() for due in running)

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts(app) == loaded


def previous_agencies(pages: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        row for page in pages.values() for row in page["agencies"] if row["complaints"]["received"]
    ]


def test_the_demo_records_read_back_through_the_api(
    app: Flask, client: FlaskClient, runner: Any, monkeypatch: Any
) -> None:
    """The demo resident sees their applications and permits; a demo permit's code verifies;
    the operator's list shows the demo reports, each readable."""
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    headers = _log_in(client, "warga@demo.binjaikota.go.id", "Demo-Warga-2026")
    mine = client.get("/api/v1/permit-applications/mine?page_size=100", headers=headers)
    assert mine.status_code == 200
    issued = [row for row in mine.get_json() if row["status"] == "issued"]
    assert issued
    detail = client.get(f"/api/v1/permit-applications/{issued[0]['id']}", headers=headers)
    assert detail.status_code == 200, detail.get_json()
    permits = client.get("/api/v1/permits/mine?page_size=100", headers=headers)
    assert permits.status_code == 200 and permits.get_json()
    with app.app_context():
        code = db.session.scalar(sa.select(Permit.verification_code).limit(1))
    verified = client.get(f"/api/v1/permits/verify/{code}")
    assert verified.status_code == 200, verified.get_json()

    operator = _log_in(client, "operator@demo.binjaikota.go.id", "Demo-Operator-2026")
    feed = client.get("/api/v1/complaints?page_size=50", headers=operator)
    assert feed.status_code == 200
    rows = feed.get_json()
    assert rows and all(row["title"].startswith(DEMO_TEXT) for row in rows)
    report = client.get(f"/api/v1/complaints/{rows[0]['id']}", headers=operator)
    assert report.status_code == 200, report.get_json()


def test_the_command_center_overview_of_the_demo_months_agrees_with_the_histories(
    app: Flask, runner: Any
) -> None:
    """The step rows the demo wrote give the overview the histories give (ops/figures.py), and
    the overview's reports counts match the page's."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        now = utcnow()
        for month in _months(app)[:4]:
            start, end = performance.month_bounds(month)
            period = ops_service.Period(local_date(start), local_date(end) - timedelta(days=1))
            window: dict[str, Any] = {"period": period, "agency_id": None, "now": now}
            kept = ops_service.compute_overview(**window)
            afresh = ops_service.compute_overview(**window, from_scratch=True)
            for domain in ("complaints", "permit_applications"):
                for key in ("opened", "closed", "closed_within_deadline", "durations"):
                    assert kept[domain][key] == afresh[domain][key], (month, domain, key)
            page = performance.compute(month=month, agency_id=None, kecamatan=None, language="id")
            assert kept["complaints"]["opened"] == page["summary"]["complaints"]["received"]
            assert kept["complaints"]["closed"] > 0
