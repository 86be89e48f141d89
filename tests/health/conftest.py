"""Health fixtures: a fixed clock (a working Monday in Binjai), facilities, staff and residents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.health import service
from binjai_api.workcalendar.service import LOCAL_TIMEZONE
from tests import factories
from tests.patching import patch_service

# Monday 30 November 2026, a working day (no national holiday).
MONDAY = date(2026, 11, 30)
TUESDAY = date(2026, 12, 1)


def wib(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


class Clock:
    """The queue's clock, set by the test."""

    def __init__(self) -> None:
        self.now = wib(MONDAY, 7, 30)

    def set(self, day: date, hour: int, minute: int = 0) -> None:
        self.now = wib(day, hour, minute)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    patch_service(monkeypatch, service, "current_time", lambda: fixed.now)
    return fixed


def session_entry(weekday: str, **overrides: Any) -> dict[str, Any]:
    entry = {
        "weekday": weekday,
        "starts_at": time(8, 0),
        "ends_at": time(12, 0),
        "online_quota": 10,
        "walk_in_quota": 5,
        "minutes_per_patient": 10,
    }
    entry.update(overrides)
    return entry


@dataclass(frozen=True)
class Place:
    facility_id: str
    umum_id: str
    gigi_id: str | None


def create_facility(app: Flask, **overrides: Any) -> Place:
    """A puskesmas with Poli Umum (sessions Monday to Saturday) and Poli Gigi (Tuesdays)."""
    fields: dict[str, Any] = {
        "name": f"Puskesmas Uji {uuid.uuid4().hex[:6]}",
        "type": "puskesmas",
        "address": "Jl. Uji No. 1, Binjai",
        "lat": 3.60,
        "lon": 98.49,
        "kelurahan_code": "12.75.02.1001",
        "opening_hours": [
            {"weekday": day, "opens_at": time(7, 30), "closes_at": time(14, 0)}
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
        ],
        "services": [
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [
                    session_entry(day)
                    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
                ],
            },
            {"code": "gigi", "name": "Poli Gigi", "sessions": [session_entry("tuesday")]},
        ],
    }
    fields.update(overrides)
    with app.app_context():
        facility = service.create_facility(**fields).facility
        services = {s.code: str(s.id) for s in facility.services}
        return Place(str(facility.id), services.get("umum", ""), services.get("gigi"))


@pytest.fixture
def place(app: Flask, client: FlaskClient) -> Place:
    return create_facility(app)


@pytest.fixture
def staff_of(app: Flask, client: FlaskClient) -> Callable[[str], dict[str, str]]:
    """Headers of a fresh officer tied to a facility."""

    def make(facility_id: str) -> dict[str, str]:
        account = factories.make_account(app, "officer", agency_code="DINKES")
        with app.app_context():
            service.add_staff(facility_id=uuid.UUID(facility_id), user_id=uuid.UUID(account.id))
        return factories.login_headers(client, account)

    return make


@dataclass(frozen=True)
class Resident:
    id: str
    headers: dict[str, str]


@pytest.fixture
def resident(app: Flask, client: FlaskClient) -> Callable[[], Resident]:
    def make() -> Resident:
        account = factories.make_account(app, "citizen")
        return Resident(account.id, factories.login_headers(client, account))

    return make


def booking_body(place: Place, day: date = MONDAY, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "facility_id": place.facility_id,
        "service_id": place.umum_id,
        "date": day.isoformat(),
    }
    body.update(overrides)
    return body
