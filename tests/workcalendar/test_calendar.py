"""The one working-day calendar: weekends, national holidays, cuti bersama, local days off, pauses.

Dates are chosen around the end of 2026: Christmas Day (25 December, a Friday) and its cuti bersama
(24 December) per the `holidays` package.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.audit.models import AuditRecord
from binjai_api.extensions import db
from binjai_api.workcalendar import service
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


def wib(day: str, hour: int = 10) -> datetime:
    """An instant given in Binjai local time."""
    local = datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=service.LOCAL_TIMEZONE)
    return local.astimezone(UTC)


def end_of(day: str) -> datetime:
    """23:59:59 WIB of a date, in UTC."""
    return datetime.fromisoformat(f"{day}T16:59:59+00:00")


def test_deadlines_skip_the_weekend(app: Flask) -> None:
    with app.app_context():
        # Friday 27 November: three working days are Mon 30, Tue 1, Wed 2.
        assert service.add_working_days(wib("2026-11-27"), 3) == end_of("2026-12-02")
        # Zero days: due at the end of the same local day.
        assert service.add_working_days(wib("2026-11-27"), 0) == end_of("2026-11-27")


def test_deadlines_skip_national_holidays_and_cuti_bersama(app: Flask) -> None:
    with app.app_context():
        assert not service.is_working_day(date(2026, 12, 24))  # cuti bersama Natal
        assert not service.is_working_day(date(2026, 12, 25))  # Christmas Day
        assert service.is_working_day(date(2026, 12, 23))
        # Wed 23 Dec + 2: Thu 24 and Fri 25 are off, then the weekend: Mon 28, Tue 29.
        assert service.add_working_days(wib("2026-12-23"), 2) == end_of("2026-12-29")


def test_the_local_date_in_wib_decides_not_the_utc_date(app: Flask) -> None:
    with app.app_context():
        # 18:00 UTC on Friday is 01:00 on Saturday in Binjai: one working day is Monday.
        late_friday_utc = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
        assert service.local_date(late_friday_utc) == date(2026, 11, 28)
        assert service.add_working_days(late_friday_utc, 1) == end_of("2026-11-30")


def test_a_local_day_off_declared_by_an_admin_moves_later_deadlines(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    with app.app_context():
        before = service.add_working_days(wib("2026-12-23"), 2)
    response = client.post(
        "/api/v1/days-off",
        json={"date": "2026-12-28", "name": "Hari jadi Kota Binjai (demo)"},
        headers=auth_headers("admin"),
    )
    assert response.status_code == 201, response.json
    assert response.json["source"] == "local" and response.json["date"] == "2026-12-28"
    with app.app_context():
        assert before == end_of("2026-12-29")
        assert service.add_working_days(wib("2026-12-23"), 2) == end_of("2026-12-30")
        assert not service.is_working_day(date(2026, 12, 28))


def test_a_pause_moves_the_deadline_by_the_working_days_it_took(app: Flask) -> None:
    with app.app_context():
        due = service.add_working_days(wib("2026-11-27"), 3)  # Wed 2 December
        # Waiting on the applicant from Monday 30 Nov to Wednesday 2 Dec costs Tue and Wed.
        moved = service.extend_by_pause(due, wib("2026-11-30"), wib("2026-12-02"))
        assert moved == end_of("2026-12-04")
        # A pause within one day, or over a weekend only, costs nothing.
        assert service.extend_by_pause(due, wib("2026-11-30", 9), wib("2026-11-30", 15)) == due
        assert service.extend_by_pause(due, wib("2026-11-27"), wib("2026-11-29")) == due


def test_working_days_between_counts_after_the_start_up_to_the_end(app: Flask) -> None:
    with app.app_context():
        assert service.working_days_between(wib("2026-11-27"), wib("2026-12-02")) == 3
        assert service.working_days_between(wib("2026-12-23"), wib("2026-12-29")) == 2
        assert service.working_days_between(wib("2026-12-02"), wib("2026-11-27")) == 0


def test_the_days_off_list_names_national_holidays_in_the_reader_language(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/days-off?from=2026-12-01&to=2026-12-31")
    assert response.status_code == 200
    by_date = {entry["date"]: entry for entry in response.json}
    assert by_date["2026-12-25"]["source"] == "national"
    assert by_date["2026-12-24"]["source"] == "national"
    english = client.get(
        "/api/v1/days-off?from=2026-12-25&to=2026-12-25", headers={"Accept-Language": "en"}
    )
    assert english.json[0]["name"] == "Christmas Day"
    assert by_date["2026-12-25"]["name"] != "Christmas Day"  # Indonesian by default


def test_days_off_are_managed_by_admins_only(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    body = {"date": "2026-12-31", "name": "Cuti bersama akhir tahun (demo)"}
    assert_problem(
        client.post("/api/v1/days-off", json=body, headers=auth_headers("operator")),
        403,
        "forbidden",
    )
    admin = auth_headers("admin")
    assert client.post("/api/v1/days-off", json=body, headers=admin).status_code == 201
    assert_problem(client.post("/api/v1/days-off", json=body, headers=admin), 409, "day_off_exists")
    assert client.delete("/api/v1/days-off/2026-12-31", headers=admin).status_code == 204
    assert_problem(client.delete("/api/v1/days-off/2026-12-31", headers=admin), 404, "not_found")
    assert_problem(client.delete("/api/v1/days-off/31-12-2026", headers=admin), 404, "not_found")


def test_a_date_declared_twice_is_refused_by_its_unique_constraint(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    """The service inserts without looking first: the second declaration of a date, with or
    without an Idempotency-Key, answers 409 and leaves the one day off and its one record."""
    admin = auth_headers("admin")
    body = {"date": "2027-01-04", "name": "Libur kota (demo)"}
    first = client.post("/api/v1/days-off", json=body, headers=admin)
    assert first.status_code == 201
    assert first.json["date"] == "2027-01-04" and first.json["id"]
    for headers in (admin, {**admin, "Idempotency-Key": "twice-2027-01-04"}):
        again = client.post("/api/v1/days-off", json={**body, "name": "Lagi"}, headers=headers)
        assert_problem(again, 409, "day_off_exists")
    with app.app_context():
        entries = service.days_off(date(2027, 1, 4), date(2027, 1, 4))
        assert [(e.source, e.name, str(e.id)) for e in entries if e.source == "local"] == [
            ("local", "Libur kota (demo)", first.json["id"])
        ]
        records = db.session.scalars(
            sa.select(AuditRecord).where(AuditRecord.object_id == first.json["id"])
        ).all()
        assert [record.action for record in records] == ["create"]


def test_a_reversed_or_huge_range_is_refused(client: FlaskClient) -> None:
    assert_problem(
        client.get("/api/v1/days-off?from=2026-12-31&to=2026-01-01"), 422, "validation_error"
    )
    assert_problem(
        client.get("/api/v1/days-off?from=2000-01-01&to=2026-01-01"), 422, "validation_error"
    )


def test_a_day_off_is_a_holiday_whatever_the_weekday(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    with app.app_context():
        assert service.is_day_off(date(2026, 12, 25))  # Christmas Day, a Friday
        assert not service.is_day_off(date(2026, 12, 26))  # a plain Saturday
        assert not service.is_day_off(date(2026, 12, 23))
    client.post(
        "/api/v1/days-off",
        json={"date": "2026-12-26", "name": "Libur lokal (demo)"},
        headers=auth_headers("admin"),
    )
    with app.app_context():
        assert service.is_day_off(date(2026, 12, 26))
