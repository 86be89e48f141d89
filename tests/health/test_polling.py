"""My bookings, polled by the app: a weak ETag from the page's rows, 304 until one changes."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.health.conftest import Clock, Place, Resident, booking_body

BOOKINGS = "/api/v1/queue-bookings"


def test_my_bookings_answer_304_until_one_changes(
    client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    booked = client.post(BOOKINGS, json=booking_body(place), headers=who.headers)
    assert booked.status_code == 201, booked.get_json()
    first = client.get(f"{BOOKINGS}/mine", headers=who.headers)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    polled = client.get(f"{BOOKINGS}/mine", headers={**who.headers, "If-None-Match": etag})
    assert polled.status_code == 304 and polled.data == b""

    # Someone else's booking is not on my list: still 304.
    other = resident()
    assert client.post(BOOKINGS, json=booking_body(place), headers=other.headers).status_code == 201
    polled = client.get(f"{BOOKINGS}/mine", headers={**who.headers, "If-None-Match": etag})
    assert polled.status_code == 304

    booking_id = booked.get_json()["id"]
    assert client.post(f"{BOOKINGS}/{booking_id}/cancel", headers=who.headers).status_code == 200
    changed = client.get(f"{BOOKINGS}/mine", headers={**who.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()[0]["status"] == "cancelled"
