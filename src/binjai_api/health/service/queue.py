"""Health: taking a queue number: online bookings and walk-ins, one number each, under locks."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from binjai_api.auth import service as auth_service
from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import Problem, conflict, field_errors
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.health.models import (
    ACTIVE_STATUSES,
    Facility,
    HealthService,
    QueueBooking,
    QueueDay,
    QueueSession,
)
from binjai_api.health.service._common import (
    BOOKING_CODE_ALPHABET,
    BOOKING_CODE_LENGTH,
    _get_facility,
    _service_name_param,
    _service_of,
    current_time,
    local_now,
)
from binjai_api.health.service.bookings import BookingView, booking_view
from binjai_api.health.service.staff import require_staff
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications
from binjai_api.notifications.service import Link
from binjai_api.workcalendar import service as workcalendar


def _settings() -> tuple[int, int]:
    config = current_app.config
    return config["QUEUE_BOOKING_DAYS_AHEAD"], config["QUEUE_MAX_ACTIVE_BOOKINGS"]


def _session_on(service: HealthService, day: date) -> QueueSession:
    """The poli's session on that date, or 422 `service_closed`."""
    session = next((s for s in service.sessions if s.weekday == day.weekday()), None)
    if session is None or workcalendar.is_day_off(day):
        raise field_errors(
            {"date": [gettext("The poli has no session on this date.")]}, code="service_closed"
        )
    return session


def _open_session(service: HealthService, day: date, now: datetime) -> QueueSession:
    """The poli's session on `day` (local `now`), or 409 `session_over` once today's has ended."""
    session = _session_on(service, day)
    if day == now.date() and now.time() >= session.ends_at:
        raise conflict("session_over", gettext("Today's session of this poli is over."))
    return session


def _queue_day_id(session: QueueSession, service: HealthService, day: date) -> uuid.UUID:
    """The counter row of a session on a date, created on first use."""
    # Two first users at once: one inserts, the other finds it.
    query = sa.select(QueueDay.id).where(QueueDay.session_id == session.id, QueueDay.day == day)
    found = db.session.scalar(query)
    if found is not None:
        return found
    row = QueueDay(
        id=uuid.uuid4(),
        session_id=session.id,
        service_id=service.id,
        facility_id=service.facility_id,
        day=day,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        found = db.session.scalar(query)
        if found is None:
            raise
        return found
    return row.id


def _take_number(day_id: uuid.UUID, *, walk_in: bool, quota: int) -> int:
    """The next queue number of the day, or 409 `quota_full` / `session_cancelled`."""
    # The UPDATE locks the counter row until the caller commits.
    counter = QueueDay.walk_ins if walk_in else QueueDay.online_booked
    statement = (
        sa.update(QueueDay)
        .where(QueueDay.id == day_id, QueueDay.status == "open", counter < quota)
        .values({QueueDay.last_number: QueueDay.last_number + 1, counter: counter + 1})
        .values(updated_at=utcnow())
        .returning(QueueDay.last_number)
        .execution_options(synchronize_session=False)
    )
    number = db.session.execute(statement).scalar_one_or_none()
    if number is not None:
        return int(number)
    status = db.session.scalar(sa.select(QueueDay.status).where(QueueDay.id == day_id))
    db.session.rollback()
    if status == "cancelled":
        raise conflict("session_cancelled", gettext("The facility cancelled this session."))
    raise conflict("quota_full", gettext("This session is fully booked."))


def _lock_day(day_id: uuid.UUID) -> QueueDay:
    """Take the day's counter row lock (see the module docstring) and return the row."""
    db.session.execute(
        sa.update(QueueDay)
        .where(QueueDay.id == day_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    day = db.session.scalars(
        sa.select(QueueDay)
        .where(QueueDay.id == day_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return day


def new_booking_code() -> str:
    """A short code to read out at the desk, from an alphabet without 0/O and 1/I."""
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))


def _unused_booking_code() -> str:
    """A booking code not in use yet."""
    # 32^8 codes: a clash is rare, and the unique constraint still guards.
    code = new_booking_code()
    while db.session.scalar(sa.select(QueueBooking.id).where(QueueBooking.booking_code == code)):
        code = new_booking_code()
    return code


def _active_booking_exists(day_id: uuid.UUID, nik: str) -> bool:
    return (
        db.session.scalar(
            sa.select(QueueBooking.id).where(
                QueueBooking.queue_day_id == day_id,
                QueueBooking.patient_nik == nik,
                QueueBooking.status.in_(ACTIVE_STATUSES),
            )
        )
        is not None
    )


def _serialise_account(account_id: uuid.UUID) -> None:
    """One booking at a time per account, so that its cap holds across days."""
    # PostgreSQL: a transaction-level advisory lock keyed by the account; SQLite writes one at a
    # time anyway.
    if db.session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(account_id.bytes[:8], "big", signed=True)
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _already_booked() -> Problem:
    return conflict(
        "already_booked",
        gettext("This person already has an active booking at this poli on this date."),
    )


def _insert_booking(booking: QueueBooking) -> None:
    db.session.add(booking)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if booking.patient_nik and _active_booking_exists(
            booking.queue_day_id, booking.patient_nik
        ):
            raise _already_booked() from None
        raise conflict(
            "conflict", gettext("The booking could not be saved; please try again.")
        ) from None


def _take_place(
    *,
    facility: Facility,
    service: HealthService,
    session: QueueSession,
    day: date,
    walk_in: bool,
    patient_name: str,
    patient_nik: str | None,
    **fields: Any,
) -> QueueBooking:
    """A new booking with the next number of the session's day, from the online or walk-in quota."""
    # A duplicate of the person that commits while we wait for the counter lock meets the unique
    # index on insert, which `_insert_booking` answers with the same 409 `already_booked`.
    day_id = _queue_day_id(session, service, day)
    if patient_nik and _active_booking_exists(day_id, patient_nik):
        raise _already_booked()
    quota = session.walk_in_quota if walk_in else session.online_quota
    booking = QueueBooking(
        queue_day_id=day_id,
        facility_id=facility.id,
        service_id=service.id,
        day=day,
        queue_number=_take_number(day_id, walk_in=walk_in, quota=quota),
        booking_code=_unused_booking_code(),
        source="walk_in" if walk_in else "online",
        patient_name=patient_name,
        patient_nik=patient_nik,
        **fields,
    )
    _insert_booking(booking)
    return booking


def book(
    *,
    principal: Principal,
    facility_id: uuid.UUID,
    service_id: uuid.UUID,
    day: date,
    patient: Mapping[str, str] | None = None,
) -> BookingView:
    """Book a queue number online, for oneself or a family member."""
    days_ahead, max_active = _settings()
    facility = _get_facility(facility_id)
    service = _service_of(facility, service_id)
    now = local_now()
    today = now.date()
    if not today <= day <= today + timedelta(days=days_ahead):
        raise field_errors(
            {
                "date": [
                    gettext("Bookings open from today to %(days)s days ahead.", days=days_ahead)
                ]
            },
            code="outside_booking_window",
        )
    session = _open_session(service, day, now)
    if patient is None:
        user = auth_service.get_user(principal.id)
        if not user.nik:
            raise field_errors({"patient": [gettext("Say who the booking is for.")]})
        name, nik = user.full_name, user.nik
    else:
        name, nik = patient["name"].strip(), patient["nik"]
    _serialise_account(principal.id)
    active = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(QueueBooking)
        .where(
            QueueBooking.account_id == principal.id,
            QueueBooking.status.in_(ACTIVE_STATUSES),
            QueueBooking.day >= today,
        )
    )
    if (active or 0) >= max_active:
        raise conflict(
            "too_many_bookings",
            gettext("You already have %(count)s active bookings.", count=max_active),
        )
    booking = _take_place(
        facility=facility,
        service=service,
        session=session,
        day=day,
        walk_in=False,
        patient_name=name,
        patient_nik=nik,
        account_id=principal.id,
        status="booked",
    )
    notifications.notify(
        recipients=[principal.id],
        kind=kinds.QUEUE_BOOKED,
        params={
            "number": str(booking.queue_number),
            "code": booking.booking_code,
            **_service_name_param(service),
            "facility": facility.name,
            **in_each_language("date", lambda language: long_date(day, language)),
        },
        link=Link("queue-bookings", str(booking.id)),
    )
    db.session.commit()
    return booking_view(booking, principal)


def register_walk_in(
    *,
    principal: Principal,
    facility_id: uuid.UUID,
    service_id: uuid.UUID,
    patient: Mapping[str, str],
) -> BookingView:
    """Give a patient at the desk a number in today's queue (walk-in quota)."""
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    service = _service_of(facility, service_id)
    now = local_now()
    booking = _take_place(
        facility=facility,
        service=service,
        session=_open_session(service, now.date(), now),
        day=now.date(),
        walk_in=True,
        patient_name=patient["name"].strip(),
        patient_nik=patient.get("nik"),
        status="checked_in",
        checked_in_at=current_time(),
    )
    db.session.commit()
    return booking_view(booking, principal)
