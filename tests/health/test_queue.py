"""The online queue: booking rules, live status, staff actions, notifications, authorization."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.service import Principal
from binjai_api.errors import Problem
from binjai_api.extensions import db
from binjai_api.health import service
from binjai_api.health.models import QueueBooking
from binjai_api.health.schemas import BookingStatusSchema
from binjai_api.notifications.models import Notification
from tests import factories
from tests.health.conftest import (
    MONDAY,
    TUESDAY,
    Clock,
    Place,
    Resident,
    booking_body,
    create_facility,
    session_entry,
    wib,
)
from tests.platform.test_errors import assert_problem
from tests.queries import counting_queries

BOOKINGS = "/api/v1/queue-bookings"


def _book(client: FlaskClient, who: Resident, body: dict[str, Any], **headers: str) -> Any:
    return client.post(BOOKINGS, json=body, headers={**who.headers, **headers})


def _kinds(app: Flask, user_id: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Notification.kind)
                .where(Notification.user_id == uuid.UUID(user_id))
                .order_by(Notification.created_at)
            )
        )


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_transition_table_is_the_one_source_of_allowed_moves() -> None:
    assert service.next_status("booked", "cancel") == "cancelled"
    assert service.next_status("called", "serve") == "served"
    for status, action in (("checked_in", "cancel"), ("served", "call"), ("cancelled", "check_in")):
        with pytest.raises(Problem) as raised:
            service.next_status(status, action)
        assert raised.value.status == 409 and raised.value.code == "invalid_transition"


def test_booking_gives_a_number_a_code_and_an_estimate_and_notifies(
    app: Flask, client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    response = _book(client, who, booking_body(place))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["queue_number"] == 1 and body["status"] == "booked" and body["source"] == "online"
    assert len(body["booking_code"]) == 8 and body["booking_code"].isalnum()
    assert body["date"] == MONDAY.isoformat() and body["people_ahead"] == 0
    # Nobody ahead: called when the 08:00 session starts.
    assert _parse(body["estimated_call_time"]) == wib(MONDAY, 8)
    assert body["patient_nik"] and body["patient_name"] == "Siti Aminah"
    second = _book(client, resident(), booking_body(place)).get_json()
    assert second["queue_number"] == 2 and second["people_ahead"] == 1
    assert _parse(second["estimated_call_time"]) == wib(MONDAY, 8, 10)
    assert _kinds(app, who.id) == ["queue_booked"]


def test_idempotency_key_replays_the_booking(
    app: Flask, client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    first = _book(client, who, booking_body(place), **{"Idempotency-Key": "k-1"})
    again = _book(client, who, booking_body(place), **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other_day = _book(client, who, booking_body(place, TUESDAY), **{"Idempotency-Key": "k-1"})
    assert_problem(other_day, 422, "idempotency_key_reuse")
    # One booking, one confirmation.
    mine = client.get(f"{BOOKINGS}/mine", headers=who.headers).get_json()
    assert [item["id"] for item in mine] == [first.get_json()["id"]]
    assert _kinds(app, who.id) == ["queue_booked"]


def test_booking_window_and_open_days(
    app: Flask, client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    for day in (MONDAY - timedelta(days=1), MONDAY + timedelta(days=8)):
        assert_problem(_book(client, who, booking_body(place, day)), 422, "outside_booking_window")
    # Poli Gigi only runs on Tuesdays; nothing runs on Sundays.
    assert_problem(
        _book(client, who, booking_body(place, service_id=place.gigi_id)), 422, "service_closed"
    )
    assert (
        _book(client, who, booking_body(place, TUESDAY, service_id=place.gigi_id)).status_code
        == 201
    )
    sunday = MONDAY + timedelta(days=6)
    assert_problem(_book(client, who, booking_body(place, sunday)), 422, "service_closed")
    # Christmas (Friday 25 December) is a national holiday: no session.
    clock.set(MONDAY + timedelta(days=21), 7)
    assert_problem(
        _book(client, who, booking_body(place, MONDAY + timedelta(days=25))), 422, "service_closed"
    )
    # Today, once the session is over.
    clock.set(MONDAY, 12, 30)
    assert_problem(_book(client, who, booking_body(place)), 409, "session_over")


def test_one_active_booking_per_person_per_poli_per_day(
    client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    first = _book(client, who, booking_body(place))
    assert_problem(_book(client, who, booking_body(place)), 409, "already_booked")
    child = {"name": "Budi", "nik": factories.valid_nik()}
    assert _book(client, who, booking_body(place, patient=child)).status_code == 201
    # The same child booked again from another account is the same person.
    assert_problem(
        _book(client, resident(), booking_body(place, patient=child)), 409, "already_booked"
    )
    # Another day is fine; after cancelling, the same day is fine again.
    assert _book(client, who, booking_body(place, TUESDAY)).status_code == 201
    client.post(f"{BOOKINGS}/{first.get_json()['id']}/cancel", headers=who.headers)
    assert _book(client, who, booking_body(place)).status_code == 201


def test_cap_on_active_bookings_per_account(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "QUEUE_MAX_ACTIVE_BOOKINGS", 2)
    who = resident()
    assert _book(client, who, booking_body(place)).status_code == 201
    assert _book(client, who, booking_body(place, TUESDAY)).status_code == 201
    child = {"name": "Budi", "nik": factories.valid_nik()}
    assert_problem(_book(client, who, booking_body(place, patient=child)), 409, "too_many_bookings")


def test_online_quota_full_answers_409_and_cancelling_frees_a_place(
    app: Flask, client: FlaskClient, clock: Clock, resident: Callable[[], Resident]
) -> None:
    small = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [session_entry("monday", online_quota=2)],
            }
        ],
    )
    first, second, third = resident(), resident(), resident()
    booked = _book(client, first, booking_body(small)).get_json()
    _book(client, second, booking_body(small))
    assert_problem(_book(client, third, booking_body(small)), 409, "quota_full")
    client.post(f"{BOOKINGS}/{booked['id']}/cancel", headers=first.headers)
    again = _book(client, third, booking_body(small))
    assert again.status_code == 201
    assert again.get_json()["queue_number"] == 3  # numbers are never reused


def test_a_resident_sees_only_their_own_bookings(
    client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    owner, stranger = resident(), resident()
    booking = _book(client, owner, booking_body(place)).get_json()
    assert client.get(f"{BOOKINGS}/{booking['id']}", headers=owner.headers).status_code == 200
    assert_problem(
        client.get(f"{BOOKINGS}/{booking['id']}", headers=stranger.headers), 404, "not_found"
    )
    assert_problem(
        client.post(f"{BOOKINGS}/{booking['id']}/cancel", headers=stranger.headers),
        404,
        "not_found",
    )
    mine = client.get(f"{BOOKINGS}/mine", headers=owner.headers).get_json()
    assert [item["id"] for item in mine] == [booking["id"]]
    assert client.get(f"{BOOKINGS}/mine", headers=stranger.headers).get_json() == []


def test_staff_see_and_act_only_on_their_own_facility(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    staff_of: Callable[[str], dict[str, str]],
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    other_place = create_facility(app)
    ours, theirs = staff_of(place.facility_id), staff_of(other_place.facility_id)
    booking = _book(client, resident(), booking_body(place)).get_json()
    seen = client.get(f"{BOOKINGS}/{booking['id']}", headers=ours)
    assert seen.status_code == 200
    nik = seen.get_json()["patient_nik"]
    assert nik.isdigit() and len(nik) == 16  # staff of the facility see the NIK in full
    # Administrators read the booking with the NIK masked, in the item and the queue list.
    admin = auth_headers("admin")
    as_admin = client.get(f"{BOOKINGS}/{booking['id']}", headers=admin).get_json()
    assert as_admin["patient_nik"] == "************" + nik[-4:]
    listed = client.get(
        f"/api/v1/facilities/{place.facility_id}/queue",
        query_string={"date": MONDAY.isoformat()},
        headers=admin,
    ).get_json()
    assert [item["patient_nik"] for item in listed] == ["************" + nik[-4:]]
    assert_problem(client.get(f"{BOOKINGS}/{booking['id']}", headers=theirs), 404, "not_found")
    assert_problem(
        client.get(f"/api/v1/facilities/{place.facility_id}/queue", headers=theirs),
        403,
        "forbidden",
    )
    queue = client.get(
        f"/api/v1/facilities/{place.facility_id}/queue",
        query_string={"date": MONDAY.isoformat()},
        headers=ours,
    )
    assert [item["id"] for item in queue.get_json()] == [booking["id"]]
    assert queue.get_json()[0]["patient_nik"] == nik
    later = client.get(
        f"/api/v1/facilities/{place.facility_id}/queue",
        query_string={"date": MONDAY.isoformat(), "updated_after": "2099-01-01T00:00:00Z"},
        headers=ours,
    )
    assert later.status_code == 200 and later.get_json() == []  # nothing changed since
    assert_problem(
        client.post(
            f"/api/v1/facilities/{place.facility_id}/queue/call-next",
            json={"service_id": place.umum_id},
            headers=theirs,
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.post(f"{BOOKINGS}/{booking['id']}/serve", headers=theirs), 404, "not_found"
    )


def test_check_in_walk_ins_call_next_serve_and_no_show(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    staff = staff_of(place.facility_id)
    queue = f"/api/v1/facilities/{place.facility_id}/queue"
    people = [resident() for _ in range(6)]
    bookings = [_book(client, p, booking_body(place)).get_json() for p in people]
    # Number 2 cancels: call-next skips it.
    client.post(f"{BOOKINGS}/{bookings[1]['id']}/cancel", headers=people[1].headers)
    clock.set(MONDAY, 8)
    checked = client.post(
        f"{queue}/check-in",
        json={"booking_code": bookings[0]["booking_code"].lower()},
        headers=staff,
    )
    assert checked.status_code == 200 and checked.get_json()["status"] == "checked_in"
    # Checked in: the patient can no longer cancel.
    assert_problem(
        client.post(f"{BOOKINGS}/{bookings[0]['id']}/cancel", headers=people[0].headers),
        409,
        "invalid_transition",
    )
    assert_problem(
        client.post(f"{queue}/check-in", json={"booking_code": "ZZZZZZZZ"}, headers=staff),
        404,
        "not_found",
    )
    walk_in = client.post(
        f"{queue}/walk-ins",
        json={"service_id": place.umum_id, "patient": {"name": "Pak Walk-in"}},
        headers=staff,
    )
    assert walk_in.status_code == 201, walk_in.get_json()
    assert walk_in.get_json()["queue_number"] == 7 and walk_in.get_json()["source"] == "walk_in"

    def call() -> Any:
        return client.post(f"{queue}/call-next", json={"service_id": place.umum_id}, headers=staff)

    first = call().get_json()
    assert first["queue_number"] == 1 and first["status"] == "called"
    clock.set(MONDAY, 8, 20)
    served = client.post(f"{BOOKINGS}/{first['id']}/serve", headers=staff)
    assert served.status_code == 200 and served.get_json()["status"] == "served"
    assert call().get_json()["queue_number"] == 3  # 2 was cancelled
    status = client.get(f"{BOOKINGS}/{bookings[4]['id']}", headers=people[4].headers).get_json()
    assert status["now_calling"] == 3 and status["people_ahead"] == 1
    # Measured: one patient took 20 minutes (08:00 to 08:20), so one ahead is 20 minutes away.
    assert _parse(status["estimated_call_time"]) == wib(MONDAY, 8, 40)
    no_show = client.post(f"{BOOKINGS}/{bookings[2]['id']}/no-show", headers=staff)
    assert no_show.get_json()["status"] == "no_show"
    assert_problem(
        client.post(f"{BOOKINGS}/{bookings[2]['id']}/serve", headers=staff),
        409,
        "invalid_transition",
    )
    # After the first call, 3, 4 and 5 were waiting ahead of number 6 (2 had cancelled). The
    # patient served is invited to the SKM survey (quality/); the no-show is not.
    assert _kinds(app, people[0].id) == ["queue_booked", "queue_called", "survey_invitation"]
    assert _kinds(app, people[2].id) == ["queue_booked", "queue_called"]
    assert _kinds(app, people[5].id) == ["queue_booked", "queue_three_ahead"]
    assert _kinds(app, people[4].id) == ["queue_booked"]  # never had exactly three ahead
    for _ in range(4):  # 4, 5, 6 and the walk-in 7
        assert call().status_code == 200
    assert_problem(call(), 409, "queue_empty")
    # Tomorrow's patient cannot be a no-show yet.
    tomorrow = _book(client, people[0], booking_body(place, TUESDAY)).get_json()
    assert_problem(
        client.post(f"{BOOKINGS}/{tomorrow['id']}/no-show", headers=staff), 409, "not_due_yet"
    )


def test_three_ahead_reaches_a_patient_who_moved_up_through_a_cancellation(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    staff = staff_of(place.facility_id)
    people = [resident() for _ in range(6)]
    bookings = [_book(client, p, booking_body(place)).get_json() for p in people]
    # Before the first call a cancellation tells nobody (the queue has not started).
    client.post(f"{BOOKINGS}/{bookings[5]['id']}/cancel", headers=people[5].headers)
    assert _kinds(app, people[4].id) == ["queue_booked"]
    clock.set(MONDAY, 8)
    call = client.post(
        f"/api/v1/facilities/{place.facility_id}/queue/call-next",
        json={"service_id": place.umum_id},
        headers=staff,
    )
    assert call.get_json()["queue_number"] == 1
    # Waiting 2, 3, 4, 5: number 5 has three ahead.
    assert _kinds(app, people[4].id) == ["queue_booked", "queue_three_ahead"]
    newcomer = resident()
    fresh = _book(client, newcomer, booking_body(place)).get_json()  # number 7, four ahead
    assert fresh["people_ahead"] == 4
    # Number 3 cancels: 7 moves up to three ahead without any call, and is told.
    client.post(f"{BOOKINGS}/{bookings[2]['id']}/cancel", headers=people[2].headers)
    assert fresh["queue_number"] == 7
    status = client.get(f"{BOOKINGS}/{fresh['id']}", headers=newcomer.headers).get_json()
    assert status["people_ahead"] == 3
    assert _kinds(app, newcomer.id) == ["queue_booked", "queue_three_ahead"]
    # Number 8 joins behind; number 2 never came (no-show while waiting): 8 moves up and is told.
    last = resident()
    _book(client, last, booking_body(place))
    assert _kinds(app, last.id) == ["queue_booked"]
    no_show = client.post(f"{BOOKINGS}/{bookings[1]['id']}/no-show", headers=staff)
    assert no_show.get_json()["status"] == "no_show"
    assert _kinds(app, last.id) == ["queue_booked", "queue_three_ahead"]
    assert _kinds(app, newcomer.id) == ["queue_booked", "queue_three_ahead"]  # told once


def test_facility_cancels_a_session_and_everyone_booked_is_told(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    staff = staff_of(place.facility_id)
    people = [resident() for _ in range(3)]
    bookings = [_book(client, p, booking_body(place)).get_json() for p in people]
    client.post(f"{BOOKINGS}/{bookings[0]['id']}/cancel", headers=people[0].headers)
    url = f"/api/v1/facilities/{place.facility_id}/queue/cancel-session"
    body = {"service_id": place.umum_id, "date": MONDAY.isoformat(), "reason": "Dokter cuti"}
    response = client.post(url, json=body, headers=staff)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cancelled_bookings"] == 2
    for person, booking in zip(people[1:], bookings[1:], strict=True):
        status = client.get(f"{BOOKINGS}/{booking['id']}", headers=person.headers).get_json()
        assert status["status"] == "cancelled_by_facility"
        assert _kinds(app, person.id) == ["queue_booked", "queue_cancelled_by_facility"]
    assert _kinds(app, people[0].id) == ["queue_booked"]
    assert_problem(_book(client, resident(), booking_body(place)), 409, "session_cancelled")
    assert_problem(client.post(url, json=body, headers=staff), 409, "session_cancelled")


def test_only_residents_book(
    client: FlaskClient, clock: Clock, place: Place, auth_headers: Callable[..., dict[str, str]]
) -> None:
    assert_problem(
        client.post(BOOKINGS, json=booking_body(place), headers=auth_headers("operator")),
        403,
        "forbidden",
    )


def test_booking_for_an_unknown_poli_or_facility(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    new_id: Callable[[], str],
) -> None:
    who = resident()
    assert_problem(
        _book(client, who, booking_body(place, service_id=new_id())), 422, "validation_error"
    )
    assert_problem(_book(client, who, booking_body(place, facility_id=new_id())), 404, "not_found")
    other = create_facility(app)
    wrong_pair = _book(client, who, booking_body(place, service_id=other.umum_id))
    assert_problem(wrong_pair, 422, "validation_error")
    assert "service_id" in wrong_pair.get_json()["errors"]["json"]
    for name in ("   ", "Bu\x00di"):  # blank; a NUL, which PostgreSQL text cannot hold
        patient = {"name": name, "nik": factories.valid_nik()}
        assert_problem(
            _book(client, who, booking_body(place, patient=patient)), 422, "validation_error"
        )
    bad_nik = {"name": "Budi", "nik": "123"}
    assert_problem(
        _book(client, who, booking_body(place, patient=bad_nik)), 422, "validation_error"
    )


def test_walk_in_quota_is_separate_from_the_online_quota(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    resident: Callable[[], Resident],
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    small = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [session_entry("monday", online_quota=1, walk_in_quota=1)],
            }
        ],
    )
    staff = staff_of(small.facility_id)
    url = f"/api/v1/facilities/{small.facility_id}/queue/walk-ins"
    body = {"service_id": small.umum_id, "patient": {"name": "Ibu Ani"}}
    assert client.post(url, json=body, headers=staff).get_json()["queue_number"] == 1
    assert_problem(client.post(url, json=body, headers=staff), 409, "quota_full")
    online = _book(client, resident(), booking_body(small))
    assert online.status_code == 201 and online.get_json()["queue_number"] == 2


def test_no_walk_in_after_the_session_has_ended(
    app: Flask, client: FlaskClient, clock: Clock, staff_of: Callable[[str], dict[str, str]]
) -> None:
    small = create_facility(
        app,
        services=[{"code": "umum", "name": "Poli Umum", "sessions": [session_entry("monday")]}],
    )
    staff = staff_of(small.facility_id)
    url = f"/api/v1/facilities/{small.facility_id}/queue/walk-ins"
    body = {"service_id": small.umum_id, "patient": {"name": "Ibu Ani"}}
    clock.set(MONDAY, 11)
    assert client.post(url, json=body, headers=staff).status_code == 201
    clock.set(MONDAY, 12)  # the session runs 08:00-12:00
    assert_problem(client.post(url, json=body, headers=staff), 409, "session_over")


def test_polling_the_status_honours_if_none_match(
    client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    booking = _book(client, who, booking_body(place)).get_json()
    first = client.get(f"{BOOKINGS}/{booking['id']}", headers=who.headers)
    etag = first.headers["ETag"]
    unchanged = client.get(
        f"{BOOKINGS}/{booking['id']}", headers={**who.headers, "If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    _book(client, resident(), booking_body(place))  # behind us: our position is unchanged
    assert (
        client.get(
            f"{BOOKINGS}/{booking['id']}", headers={**who.headers, "If-None-Match": etag}
        ).status_code
        == 304
    )
    client.post(f"{BOOKINGS}/{booking['id']}/cancel", headers=who.headers)
    changed = client.get(
        f"{BOOKINGS}/{booking['id']}", headers={**who.headers, "If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.get_json()["status"] == "cancelled"


def test_sessions_are_cancelled_from_today_up_to_a_year_ahead(
    client: FlaskClient,
    clock: Clock,
    place: Place,
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    staff = staff_of(place.facility_id)
    clock.set(TUESDAY, 9)
    body = {"service_id": place.umum_id, "date": MONDAY.isoformat(), "reason": "Terlambat"}
    assert_problem(
        client.post(
            f"/api/v1/facilities/{place.facility_id}/queue/cancel-session", json=body, headers=staff
        ),
        422,
        "validation_error",
    )
    far = {**body, "date": (TUESDAY + timedelta(days=400)).isoformat()}
    assert_problem(
        client.post(
            f"/api/v1/facilities/{place.facility_id}/queue/cancel-session", json=far, headers=staff
        ),
        422,
        "validation_error",
    )


def test_polling_the_status_costs_the_same_queries_however_long_the_queue(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    resident: Callable[[], Resident],
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    people = [resident() for _ in range(6)]
    bookings = [_book(client, p, booking_body(place)).get_json() for p in people]
    staff = staff_of(place.facility_id)

    def poll(booking: dict[str, Any], headers: dict[str, str]) -> list[str]:
        with counting_queries(app, touching="health_") as statements:
            response = client.get(f"{BOOKINGS}/{booking['id']}", headers=headers)
            assert response.status_code == 200
        return statements

    # The booking with its day, the people ahead and the session, in one query.
    assert len(poll(bookings[0], people[0].headers)) == 1
    assert len(poll(bookings[5], people[5].headers)) == 1
    # Staff: one more, to know which facility they run.
    assert len(poll(bookings[5], staff)) == 2


def test_booking_status_is_written_as_marshmallow_writes_it(
    app: Flask, client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    """The status, read as one plain row and dumped through the compiled plan (fastdump),
    answers field for field and in order what marshmallow writes of the view of the booking
    loaded through the ORM (as the desk's answers are)."""
    first, second = resident(), resident()
    cancelled = _book(client, first, booking_body(place)).get_json()
    waiting = _book(client, second, booking_body(place)).get_json()
    client.post(f"{BOOKINGS}/{cancelled['id']}/cancel", headers=first.headers)
    for who, booking, ahead in ((second, waiting, 0), (first, cancelled, None)):
        answered = client.get(f"{BOOKINGS}/{booking['id']}", headers=who.headers).get_json()
        assert answered["people_ahead"] == ahead
        with app.test_request_context():
            principal = Principal(kind="user", id=uuid.UUID(who.id), role="citizen")
            loaded = db.session.get(QueueBooking, uuid.UUID(booking["id"]))
            view = service.booking_view(loaded, principal)
            expected = ma.Schema.dump(BookingStatusSchema(), view)
        assert list(answered.items()) == list(expected.items())
