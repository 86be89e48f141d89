"""Concurrent queue writes on PostgreSQL: numbers without gap or repeat, calls never doubled."""

from __future__ import annotations

import queue
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.extensions import db
from binjai_api.health import service
from binjai_api.health.models import QueueBooking, QueueDay
from tests import factories
from tests.concurrency import run_together
from tests.health.conftest import MONDAY, Clock, booking_body, create_facility, session_entry

pytestmark = pytest.mark.postgres_only

BOOKINGS = "/api/v1/queue-bookings"


def _logged_in_residents(app: Flask, count: int) -> queue.Queue[dict[str, str]]:
    client = app.test_client()
    headers: queue.Queue[dict[str, str]] = queue.Queue()
    for _ in range(count):
        headers.put(factories.login_headers(client, factories.make_account(app)))
    return headers


def test_300_concurrent_bookings_on_a_quota_of_100_give_numbers_1_to_100(
    app: Flask, committed_db: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "100000 per minute")
    place = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [session_entry("monday", online_quota=100)],
            }
        ],
    )
    residents = _logged_in_residents(app, 300)
    body = booking_body(place)
    responses = run_together(
        app, 300, lambda client: client.post(BOOKINGS, json=body, headers=residents.get_nowait())
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 100, 409: 200}, statuses
    refused = Counter(r.get_json()["code"] for r in responses if r.status_code == 409)
    assert refused == {"quota_full": 200}
    numbers = sorted(r.get_json()["queue_number"] for r in responses if r.status_code == 201)
    assert numbers == list(range(1, 101))
    with app.app_context():
        stored = db.session.scalars(
            sa.select(QueueBooking.queue_number).where(
                QueueBooking.facility_id == uuid.UUID(place.facility_id)
            )
        ).all()
        assert sorted(stored) == list(range(1, 101))
        day = db.session.scalars(sa.select(QueueDay)).one()
        assert (day.last_number, day.online_booked) == (100, 100)


def test_staff_calling_next_at_the_same_moment_never_call_the_same_patient(
    app: Flask, committed_db: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "100000 per minute")
    place = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [session_entry("monday", online_quota=20)],
            }
        ],
    )
    residents = _logged_in_residents(app, 12)
    client = app.test_client()
    for _ in range(12):
        created = client.post(BOOKINGS, json=booking_body(place), headers=residents.get())
        assert created.status_code == 201, created.get_json()
    # Number 5 cancels: nobody may call it.
    with app.app_context():
        five = db.session.scalars(
            sa.select(QueueBooking).where(QueueBooking.queue_number == 5)
        ).one()
        five.status = "cancelled"
        db.session.commit()
    staff: queue.Queue[dict[str, str]] = queue.Queue()
    for _ in range(2):
        officer = factories.make_account(app, "officer", agency_code="DINKES")
        with app.app_context():
            service.add_staff(
                facility_id=uuid.UUID(place.facility_id), user_id=uuid.UUID(officer.id)
            )
        staff.put(factories.login_headers(client, officer))
    desks = [staff.get(), staff.get()]
    clock.set(MONDAY, 8)
    url = f"/api/v1/facilities/{place.facility_id}/queue/call-next"
    turn = iter(range(10_000))

    def call(test_client: Any) -> Any:
        return test_client.post(
            url, json={"service_id": place.umum_id}, headers=desks[next(turn) % 2]
        )

    called: list[int] = []
    for _ in range(6):  # two desks at once, six times: 11 waiting patients, then one empty call
        responses = run_together(app, 2, call)
        for response in responses:
            if response.status_code == 200:
                called.append(response.get_json()["queue_number"])
            else:
                assert response.get_json()["code"] == "queue_empty"
    assert sorted(called) == [n for n in range(1, 13) if n != 5]
    assert len(called) == len(set(called))


def test_one_account_booking_many_days_at_once_stays_within_its_cap(
    app: Flask, committed_db: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "QUEUE_MAX_ACTIVE_BOOKINGS", 2)
    place = create_facility(app)
    headers = factories.login_headers(app.test_client(), factories.make_account(app))
    days: queue.Queue[date] = queue.Queue()
    for offset in range(6):  # Monday to Saturday, each with a session
        days.put(MONDAY + timedelta(days=offset))

    def book(test_client: Any) -> Any:
        return test_client.post(
            BOOKINGS, json=booking_body(place, days.get_nowait()), headers=headers
        )

    responses = run_together(app, 6, book)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 2, 409: 4}, statuses
    assert {r.get_json()["code"] for r in responses if r.status_code == 409} == {
        "too_many_bookings"
    }
