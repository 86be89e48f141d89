"""A queue booking's notification in each reader's language: the poli's English name and the
date in words, never an ISO date."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.formatting import long_date
from tests.health.conftest import (
    MONDAY,
    Clock,
    Resident,
    booking_body,
    create_facility,
    session_entry,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def test_a_booking_reads_in_both_languages(
    app: Flask, client: FlaskClient, clock: Clock, resident: Callable[[], Resident]
) -> None:
    place = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "name_en": "General clinic",
                "sessions": [session_entry(day) for day in WEEKDAYS],
            }
        ],
    )
    who = resident()
    booked = client.post("/api/v1/queue-bookings", json=booking_body(place), headers=who.headers)
    assert booked.status_code == 201, booked.get_json()

    def body_in(language: str) -> str:
        inbox = client.get(
            "/api/v1/notifications", headers={**who.headers, "Accept-Language": language}
        ).get_json()
        return str(inbox[0]["body"])

    indonesian, english = body_in("id"), body_in("en")
    assert "Poli Umum" in indonesian and long_date(MONDAY, "id") in indonesian
    assert "General clinic" in english and long_date(MONDAY, "en") in english
    assert "Poli Umum" not in english and MONDAY.isoformat() not in indonesian + english
    facility = client.get(f"/api/v1/facilities/{place.facility_id}").get_json()
    assert [s["name_en"] for s in facility["services"]] == ["General clinic"]
