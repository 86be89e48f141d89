"""My bookings: read as plain rows with their total in one statement and written in one pass,
answering what marshmallow writes of the same bookings loaded through the ORM."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.service import Principal
from binjai_api.extensions import db
from binjai_api.health import service
from binjai_api.health.models import QueueBooking
from binjai_api.health.schemas import BookingSchema
from tests import factories
from tests.health.conftest import MONDAY, TUESDAY, Clock, Place, Resident, booking_body
from tests.queries import counting_queries

MINE = "/api/v1/queue-bookings/mine"
# What each status's booking went through (a microsecond part, and none, in the times).
AT = datetime(2026, 11, 30, 2, 15, 7, 250_000, tzinfo=UTC)
# (The finished ones first: an account holds at most three active bookings.)
STATUS_TIMES: dict[str, dict[str, datetime | None]] = {
    "served": {
        "checked_in_at": AT,
        "called_at": AT + timedelta(minutes=3),
        "finished_at": AT.replace(microsecond=0) + timedelta(minutes=9),
    },
    "no_show": {"called_at": AT, "finished_at": AT + timedelta(minutes=5)},
    "cancelled": {"cancelled_at": AT},
    "cancelled_by_facility": {"checked_in_at": AT, "cancelled_at": AT + timedelta(hours=1)},
    "booked": {},
    "checked_in": {"checked_in_at": AT},
    "called": {"checked_in_at": AT, "called_at": AT + timedelta(minutes=3)},
}


def _my_bookings(app: Flask, client: FlaskClient, place: Place, who: Resident) -> list[str]:
    """One booking in every status, on two days, for family members (one without a NIK, as a
    walk-in's may be); returns their ids."""
    ids = []
    for number, (status, times) in enumerate(STATUS_TIMES.items()):
        patient = {"name": f"Anggota {number}", "nik": factories.valid_nik()}
        day = MONDAY if number % 2 else TUESDAY
        response = client.post(
            "/api/v1/queue-bookings",
            json=booking_body(place, day, patient=patient),
            headers=who.headers,
        )
        assert response.status_code == 201, response.get_json()
        booking_id = response.get_json()["id"]
        with app.app_context():
            db.session.execute(
                sa.update(QueueBooking)
                .where(QueueBooking.id == uuid.UUID(booking_id))
                .values(
                    status=status,
                    patient_nik=None if status == "no_show" else patient["nik"],
                    **times,
                )
            )
            db.session.commit()
        ids.append(booking_id)
    return ids


def _expected(
    app: Flask,
    who: Resident,
    *,
    sort: str = "-date",
    status: str | None = None,
    updated_after: datetime | None = None,
) -> list[list[tuple[str, Any]]]:
    """The list as the ORM and marshmallow write it: the bookings loaded as objects, in the
    list's order, shown to their own account and dumped field by field."""
    column = QueueBooking.day if sort.lstrip("-") == "date" else QueueBooking.updated_at
    query = sa.select(QueueBooking).where(QueueBooking.account_id == uuid.UUID(who.id))
    if status is not None:
        query = query.where(QueueBooking.status == status)
    if updated_after is not None:
        query = query.where(QueueBooking.updated_at > updated_after)
    order = column.desc() if sort.startswith("-") else column.asc()
    with app.test_request_context():
        principal = Principal(kind="user", id=uuid.UUID(who.id), role="citizen")
        bookings = db.session.scalars(query.order_by(order, QueueBooking.id)).all()
        views = service.booking_rows(bookings, principal)
        return [list(ma.Schema.dump(BookingSchema(), view).items()) for view in views]


def _items(response: Any) -> list[list[tuple[str, Any]]]:
    assert response.status_code == 200, response.get_json()
    return [list(item.items()) for item in response.get_json()]


@pytest.mark.parametrize("language", ["id", "en"])
def test_my_bookings_are_written_field_for_field_as_marshmallow_writes_them(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    language: str,
) -> None:
    """Every status, NIK and times present and absent, in both languages: each item's fields,
    in order, and the list's order equal marshmallow's dump of the same bookings."""
    who, other = resident(), resident()
    ids = _my_bookings(app, client, place, who)
    client.post("/api/v1/queue-bookings", json=booking_body(place), headers=other.headers)
    headers = {**who.headers, "Accept-Language": language}

    response = client.get(MINE, headers=headers)
    assert response.headers["Content-Language"] == language
    answered = _items(response)
    assert answered == _expected(app, who)
    assert sorted(dict(item)["id"] for item in answered) == sorted(ids)
    assert {dict(item)["status"] for item in answered} == set(service.BOOKING_STATUSES)
    for sort in ("date", "updated_at", "-updated_at"):
        answered = _items(client.get(f"{MINE}?sort={sort}", headers=headers))
        assert answered == _expected(app, who, sort=sort)
    for status in service.BOOKING_STATUSES:
        answered = _items(client.get(f"{MINE}?status={status}", headers=headers))
        assert answered == _expected(app, who, status=status) and len(answered) == 1


def test_filters_pages_and_totals_as_the_list_had_them(
    app: Flask, client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    """Pages cut the same ordered list; X-Pagination counts the whole filtered list, a page past
    the end included; `updated_after` keeps the later changes."""
    who = resident()
    _my_bookings(app, client, place, who)
    everything = _expected(app, who)
    pages = []
    for page in (1, 2, 3):
        response = client.get(f"{MINE}?page_size=3&page={page}", headers=who.headers)
        pages += _items(response)
        pagination = json.loads(response.headers["X-Pagination"])
        assert (pagination["total"], pagination["total_pages"]) == (7, 3)
    assert pages == everything

    past = client.get(f"{MINE}?page_size=3&page=5", headers=who.headers)
    assert _items(past) == []
    assert json.loads(past.headers["X-Pagination"])["total"] == 7
    assert past.headers["Link"].endswith('page=3>; rel="last"')

    served = client.get(f"{MINE}?status=served&page=2", headers=who.headers)
    assert json.loads(served.headers["X-Pagination"])["total"] == 1
    empty = client.get(f"{MINE}?status=served&sort=date&page=1", headers=resident().headers)
    assert _items(empty) == [] and json.loads(empty.headers["X-Pagination"])["total"] == 0

    latest = datetime.fromisoformat(dict(everything[3])["updated_at"].replace("Z", "+00:00"))
    after = latest.isoformat().replace("+00:00", "Z")
    answered = _items(client.get(f"{MINE}?updated_after={after}", headers=who.headers))
    assert answered == _expected(app, who, updated_after=latest)


def test_a_page_and_its_total_are_one_statement(
    app: Flask, client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    """One statement reads the page with its names and the list's total (the session check is
    the request's other one); a page past the end, which has no row to carry the total, counts
    it in a second."""
    who = resident()
    _my_bookings(app, client, place, who)
    with counting_queries(app, touching="health_") as page:
        assert client.get(f"{MINE}?page_size=3", headers=who.headers).status_code == 200
    assert len(page) == 1
    with counting_queries(app, touching="health_") as past:
        assert client.get(f"{MINE}?page_size=3&page=9", headers=who.headers).status_code == 200
    assert len(past) == 2
    first = client.get(MINE, headers=who.headers)
    with counting_queries(app, touching="health_") as polled:
        response = client.get(MINE, headers={**who.headers, "If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304 and len(polled) == 1
