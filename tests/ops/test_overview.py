"""The overview against the fixture's hand-worked answers and against direct counts over the raw
rows (tests/ops/conftest.py describes the city; the period is 21-31 December 2026)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint, ComplaintEvent
from binjai_api.extensions import db
from binjai_api.health.models import QueueBooking
from binjai_api.licensing.models import PermitApplication, PermitApplicationEvent
from tests.ops.conftest import OVERVIEW, PERIOD, City, wib

START, END = wib("2026-12-21", 0), wib("2027-01-01", 0)
OPEN_COMPLAINT = {"submitted", "dispatched", "in_progress", "reopened"}


def _get(client: FlaskClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(OVERVIEW, query_string={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _agency(city: City, code: str) -> dict[str, Any]:
    return {"id": str(city.agencies[code]), "code": code}


def _overdue(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(row["agency"]["code"], row["overdue"]) for row in rows]


@pytest.fixture
def overview(
    client: FlaskClient, city: City, frozen_now: datetime, staff: Callable[..., dict[str, str]]
) -> Any:
    return _get(client, staff("operator"))


def test_the_period_is_echoed_with_when_the_figures_were_made(overview: Any) -> None:
    assert (overview["from"], overview["to"]) == ("2026-12-21", "2026-12-31")
    assert overview["generated_at"] == "2027-01-04T03:00:00.000000Z"
    assert overview["agency"] is None


def test_complaint_figures_match_the_hand_worked_answers(overview: Any) -> None:
    complaints = overview["complaints"]
    assert complaints["by_status"] == {
        "submitted": 2,  # C3, C7
        "dispatched": 2,  # C2, C6
        "in_progress": 0,
        "resolved": 1,  # C1
        "closed": 0,
        "rejected": 1,  # C4
        "duplicate": 0,
        "reopened": 0,
    }
    assert complaints["opened"] == 6  # C8 came just after the period, C5 before it
    assert complaints["closed"] == 3  # C1 and C5 resolved, C4 rejected
    # C1's verification on the 30th was on time only because 24-27 December are days off;
    # C5 was resolved after its deadline of 18 December.
    assert complaints["closed_within_deadline"] == {
        "with_deadline": 3,
        "on_time": 2,
        "share": 0.6667,
    }
    # Verified in the period: C4 4 h, C6 4 d, C1 7 d 5 h, C2 7 d 22 h.
    assert complaints["durations"]["time_to_verify"] == {"median": 484200.0, "p90": 665640.0}
    # Resolved in the period: C1 8 d, C5 12 d.
    assert complaints["durations"]["time_to_resolve"] == {"median": 864000.0, "p90": 1002240.0}


def test_permit_figures_match_the_hand_worked_answers(overview: Any) -> None:
    permits = overview["permit_applications"]
    assert permits["by_status"] == {
        "submitted": 0,
        "correction_requested": 1,  # A2
        "technical_review": 1,  # A4
        "technical_correction_requested": 0,
        "awaiting_decision": 0,
        "awaiting_payment": 0,
        "approved": 0,
        "issued": 1,  # A1
        "rejected": 0,  # A3 was submitted before the period
        "withdrawn": 1,  # A5
        "revoked": 0,
    }
    assert permits["opened"] == 4  # A6 is a draft
    assert permits["closed"] == 3  # A1 issued, A3 rejected, A5 withdrawn
    # A1 issued on the 30th, within a deadline that skips the holidays; A3 rejected late; the
    # withdrawal is the applicant's and is not judged.
    assert permits["closed_within_deadline"] == {"with_deadline": 2, "on_time": 1, "share": 0.5}
    # First verification step in the period: A2 6 h, A4 24 h, A1 25 h.
    assert permits["durations"]["time_to_verify"] == {"median": 86400.0, "p90": 89280.0}
    assert permits["durations"]["time_to_issue"] == {"median": 709200.0, "p90": 709200.0}


def test_queue_figures_match_the_hand_worked_answers(overview: Any) -> None:
    bookings = overview["queue_bookings"]
    assert bookings["by_status"] == {
        "booked": 0,
        "checked_in": 0,
        "called": 1,  # B5
        "served": 2,  # B1, B2
        "no_show": 1,  # B3
        "cancelled": 1,  # B4
        "cancelled_by_facility": 0,
    }
    assert bookings["opened"] == 5  # B6 was for a day before the period
    assert bookings["closed"] == 4
    # B1 served at 08:45, B2 at 12:30 after the session ended at 12:00.
    assert bookings["closed_within_deadline"] == {"with_deadline": 2, "on_time": 1, "share": 0.5}
    # Check-in to call: B1 30 min, B2 60 min; B5 never checked in and is left out.
    assert bookings["durations"]["time_to_call"] == {"median": 2700.0, "p90": 3420.0}


def test_overdue_counts_go_to_the_agency_that_must_act(overview: Any) -> None:
    assert _overdue(overview["complaints"]["overdue_by_agency"]) == [("PERKIM", 2)]  # C3, C6
    # A4 waits on the technical agency (DINKES), A2 on the applicant (the issuing agency's).
    assert _overdue(overview["permit_applications"]["overdue_by_agency"]) == [
        ("DINKES", 1),
        ("DPMPTSP", 1),
    ]
    assert _overdue(overview["queue_bookings"]["overdue_by_agency"]) == [("DINKES", 1)]


def test_complaints_by_area_lists_every_kecamatan_and_an_unknown_bucket(
    overview: Any, city: City
) -> None:
    areas = {area["code"]: area for area in overview["complaints_by_area"]}
    assert len(areas) == 5 + 1  # Binjai's five kecamatan, and reports without an area
    first = areas[city.kecamatan["K1"]]
    k1 = next(k for k in first["kelurahan"] if k["code"] == city.kelurahan["K1"])
    # K1: C1, C2 opened in the period; C2 and C8 (after the period) open now.
    assert (k1["opened"], k1["open"], k1["overdue"]) == (2, 2, 0)
    assert (first["opened"], first["open"], first["overdue"]) == (2, 2, 0)
    second = areas[city.kecamatan["K2"]]
    k2 = next(k for k in second["kelurahan"] if k["code"] == city.kelurahan["K2"])
    assert (k2["opened"], k2["open"], k2["overdue"]) == (3, 3, 2)  # C3, C6, C7
    assert all(k["opened"] == 0 for k in second["kelurahan"] if k["code"] != k2["code"])
    unknown = areas[None]
    assert (unknown["opened"], unknown["open"], unknown["overdue"]) == (1, 0, 0)  # C4


def test_every_figure_equals_a_direct_count_over_the_raw_rows(app: Flask, overview: Any) -> None:
    with app.app_context():
        complaints = db.session.scalars(sa.select(Complaint)).all()
        complaint_events = db.session.scalars(sa.select(ComplaintEvent)).all()
        applications = db.session.scalars(sa.select(PermitApplication)).all()
        application_events = db.session.scalars(sa.select(PermitApplicationEvent)).all()
        bookings = db.session.scalars(sa.select(QueueBooking)).all()
        opened = [c for c in complaints if START <= c.created_at < END]
        closing = [
            e
            for e in complaint_events
            if e.from_status in OPEN_COMPLAINT
            and e.to_status not in OPEN_COMPLAINT
            and START <= e.created_at < END
        ]
        submitted = [a for a in applications if a.submitted_at and START <= a.submitted_at < END]
        by_id = {a.id: a for a in applications}
        finished = [
            e
            for e in application_events
            if e.to_status in {"issued", "rejected", "withdrawn"} and START <= e.created_at < END
        ]
        decided = [e for e in finished if e.to_status != "withdrawn"]
        in_period = [b for b in bookings if START.date() <= b.day <= wib("2026-12-31").date()]
        ended_at = [b.finished_at or b.cancelled_at for b in bookings]
        ended = [at for at in ended_at if at is not None and START <= at < END]
    figures = overview["complaints"]
    assert figures["opened"] == len(opened)
    for status, count in figures["by_status"].items():
        assert count == sum(1 for c in opened if c.status == status)
    assert figures["closed"] == len({e.complaint_id for e in closing})
    assert figures["closed_within_deadline"]["on_time"] == sum(
        1 for e in closing if e.due_at and e.created_at <= e.due_at
    )
    permits = overview["permit_applications"]
    assert permits["opened"] == len(submitted)
    for status, count in permits["by_status"].items():
        assert count == sum(1 for a in submitted if a.status == status)
    assert permits["closed"] == len({e.application_id for e in finished})
    assert permits["closed_within_deadline"]["with_deadline"] == len(decided)
    assert permits["closed_within_deadline"]["on_time"] == sum(
        1 for e in decided if e.created_at <= by_id[e.application_id].sla_due_at
    )
    queue = overview["queue_bookings"]
    assert queue["opened"] == len(in_period)
    for status, count in queue["by_status"].items():
        assert count == sum(1 for b in in_period if b.status == status)
    assert queue["closed"] == len(ended)


def test_the_overview_downloads_as_csv(
    client: FlaskClient, city: City, frozen_now: datetime, staff: Callable[..., dict[str, str]]
) -> None:
    headers = {**staff("operator"), "Accept": "text/csv"}
    response = client.get(OVERVIEW, query_string=PERIOD, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["section", "figure", "key", "value"]
    values = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert values[("complaints", "opened", "")] == "6"
    assert values[("complaints", "time_to_verify", "median")] == "484200.0"
    assert values[("permit_applications", "overdue_by_agency", "DINKES")] == "1"
    assert values[("complaints_by_area", "opened", "unknown")] == "1"


# --- periods --------------------------------------------------------------------------------------


def test_the_default_period_is_the_30_days_ending_today(
    client: FlaskClient, rollback_db: None, staff: Callable[..., dict[str, str]]
) -> None:
    response = client.get(OVERVIEW, headers=staff("operator"))
    assert response.status_code == 200
    body = response.get_json()
    first = datetime.fromisoformat(body["from"])
    last = datetime.fromisoformat(body["to"])
    assert (last - first).days == 29


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2026-12-31", "to": "2026-12-01"},  # backwards
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days
        {"from": "2026-13-01"},
    ],
)
def test_a_bad_period_is_422(
    client: FlaskClient,
    rollback_db: None,
    staff: Callable[..., dict[str, str]],
    period: dict[str, str],
) -> None:
    response = client.get(OVERVIEW, query_string=period, headers=staff("operator"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"


def test_a_full_year_is_accepted(
    client: FlaskClient, rollback_db: None, staff: Callable[..., dict[str, str]]
) -> None:
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    response = client.get(OVERVIEW, query_string=period, headers=staff("admin"))
    assert response.status_code == 200


def test_durations_count_the_first_step_of_reopened_and_resubmitted_items(
    app: Flask,
    client: FlaskClient,
    city: City,
    frozen_now: datetime,
    staff: Callable[..., dict[str, str]],
) -> None:
    from binjai_api.licensing.models import PermitType
    from tests.ops.conftest import add_application, add_complaint

    with app.app_context():
        add_complaint(
            city,
            "C9",
            agency="PUPR",
            created=wib("2026-12-21"),
            status="resolved",
            area="K1",
            lat=None,
            lon=None,
            due_at=None,
            events=[
                ("dispatch", "submitted", "dispatched", wib("2026-12-21", 12), None),
                ("resolve", "dispatched", "resolved", wib("2026-12-22"), None),  # 1 day
                ("reopen", "resolved", "reopened", wib("2026-12-23"), None),
                ("resolve", "reopened", "resolved", wib("2026-12-28"), None),  # not the first
            ],
        )
        permit_type = db.session.scalars(sa.select(PermitType).limit(1)).one()
        applicant = db.session.scalar(sa.select(PermitApplication.applicant_id).limit(1))
        add_application(
            city,
            "A7",
            permit_type=permit_type,
            applicant_id=str(applicant),
            status="awaiting_decision",
            submitted=wib("2026-12-21", 9),
            sla_due_at=None,
            action_due_at=None,
            events=[
                ("submit", "draft", "submitted", wib("2026-12-21", 9)),
                ("request_correction", "submitted", "correction_requested", wib("2026-12-21", 11)),
                ("resubmit", "correction_requested", "submitted", wib("2026-12-22", 9)),
                ("verify", "submitted", "awaiting_decision", wib("2026-12-22", 15)),  # not first
            ],
        )
        db.session.commit()
    body = _get(client, staff("operator"))
    # Resolved first: C9 1 d, C1 8 d, C5 12 d.
    complaints = body["complaints"]["durations"]["time_to_resolve"]
    assert complaints == {"median": 691200.0, "p90": 967680.0}
    # First verification steps: A7 2 h, A2 6 h, A4 24 h, A1 25 h.
    permits = body["permit_applications"]["durations"]["time_to_verify"]
    assert permits == {"median": 54000.0, "p90": 88920.0}
