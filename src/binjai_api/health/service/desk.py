"""Health: the desk's side of the queue: cancelling, checking in, calling the next patient and
finishing a visit."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from binjai_api.agencies import service as agencies_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import conflict, not_found
from binjai_api.extensions import db
from binjai_api.health.models import (
    HealthService,
    QueueBooking,
    QueueDay,
)
from binjai_api.health.service._common import (
    THREE_AHEAD,
    WAITING_STATUSES,
    _get_facility,
    _require_facility,
    _service_name_param,
    _service_of,
    current_time,
    local_now,
    next_status,
)
from binjai_api.health.service.bookings import BookingView, _staff_of, _view, booking_view
from binjai_api.health.service.queue import _lock_day, _queue_day_id, _session_on
from binjai_api.health.service.staff import require_staff
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications
from binjai_api.notifications.service import Link
from binjai_api.quality import service as quality_service


def _move(booking: QueueBooking, action: str) -> None:
    """Apply one transition, refusing it unless the table allows it from the current status."""
    booking.status = next_status(booking.status, action)
    booking.updated_at = utcnow()


def cancel_booking(*, principal: Principal, booking_id: uuid.UUID) -> BookingView:
    """The patient cancels before checking in; the place goes back to the online quota."""
    booking = db.session.get(QueueBooking, booking_id)
    if booking is None or booking.account_id != principal.id:
        raise not_found(gettext("Booking not found."))
    day = _lock_day(booking.queue_day_id)
    db.session.refresh(booking)
    _move(booking, "cancel")
    booking.cancelled_at = current_time()
    day.online_booked -= 1
    _queue_moved_up(day, booking.service)
    db.session.commit()
    return booking_view(booking, principal)


def check_in(*, principal: Principal, facility_id: uuid.UUID, booking_code: str) -> BookingView:
    """Check a patient in at the desk by their booking code (today's bookings only)."""
    _require_facility(facility_id)
    require_staff(principal, facility_id)
    booking = db.session.scalar(
        sa.select(QueueBooking).where(
            QueueBooking.facility_id == facility_id,
            QueueBooking.day == local_now().date(),
            QueueBooking.booking_code == booking_code.strip().upper(),
        )
    )
    if booking is None:
        raise not_found(gettext("No booking with this code today at this facility."))
    _lock_day(booking.queue_day_id)
    db.session.refresh(booking)
    _move(booking, "check_in")
    booking.checked_in_at = current_time()
    db.session.commit()
    return booking_view(booking, principal)


def _notify_three_ahead(day_id: uuid.UUID, service: HealthService) -> None:
    """Tell the patient who now has exactly three people ahead to come close."""
    waiting = db.session.scalars(
        sa.select(QueueBooking)
        .where(QueueBooking.queue_day_id == day_id, QueueBooking.status.in_(WAITING_STATUSES))
        .order_by(QueueBooking.queue_number)
        .offset(THREE_AHEAD)
        .limit(1)
    ).first()
    if waiting is None or waiting.account_id is None or waiting.three_ahead_notified:
        return
    waiting.three_ahead_notified = True
    notifications.notify(
        recipients=[waiting.account_id],
        kind=kinds.QUEUE_THREE_AHEAD,
        params={"number": str(waiting.queue_number), **_service_name_param(service)},
        link=Link("queue-bookings", str(waiting.id)),
    )


def _queue_moved_up(day: QueueDay, service: HealthService) -> None:
    """Tell whoever now has three ahead, once a waiting patient left a queue being called."""
    # Each departure moves those behind up by one, so checking the fourth place after every
    # departure (calls included) reaches everyone once; before the first call, nobody is told.
    if day.now_calling is not None:
        db.session.flush()
        _notify_three_ahead(day.id, service)


def call_next(
    *, principal: Principal, facility_id: uuid.UUID, service_id: uuid.UUID
) -> BookingView:
    """Call the lowest waiting number of today's session (cancelled ones are not waiting)."""
    # Serialised on the day's counter row: two desks calling at once call two patients.
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    service = _service_of(facility, service_id)
    today = local_now().date()
    session = _session_on(service, today)
    day = _lock_day(_queue_day_id(session, service, today))
    booking = db.session.scalars(
        sa.select(QueueBooking)
        .where(QueueBooking.queue_day_id == day.id, QueueBooking.status.in_(WAITING_STATUSES))
        .order_by(QueueBooking.queue_number)
        .limit(1)
        .execution_options(populate_existing=True)
    ).first()
    if booking is None:
        db.session.rollback()
        raise conflict("queue_empty", gettext("Nobody is waiting in this queue."))
    _move(booking, "call")
    booking.called_at = current_time()
    day.now_calling = booking.queue_number
    if booking.account_id is not None:
        notifications.notify(
            recipients=[booking.account_id],
            kind=kinds.QUEUE_CALLED,
            params={"number": str(booking.queue_number), **_service_name_param(service)},
            link=Link("queue-bookings", str(booking.id)),
        )
    db.session.flush()
    _notify_three_ahead(day.id, service)
    db.session.commit()
    return booking_view(booking, principal)


def finish_booking(*, principal: Principal, booking_id: uuid.UUID, action: str) -> BookingView:
    """Mark a called patient served, or a patient who did not come a no-show."""
    booking = db.session.get(QueueBooking, booking_id)
    if booking is None:
        raise not_found(gettext("Booking not found."))
    staff_of = _staff_of(principal)
    if principal.role != Role.ADMIN and staff_of != booking.facility_id:
        raise not_found(gettext("Booking not found."))
    if booking.day > local_now().date():
        raise conflict("not_due_yet", gettext("This booking is for a later date."))
    day = _lock_day(booking.queue_day_id)
    db.session.refresh(booking)
    was_called = booking.status == "called"
    _move(booking, action)
    now = current_time()
    booking.finished_at = now
    if action == "serve" and was_called and booking.called_at is not None:
        day.served_count += 1
        day.service_seconds += max(0, int((now - booking.called_at).total_seconds()))
    if not was_called:  # a waiting patient left the queue: those behind move up
        _queue_moved_up(day, booking.service)
    if booking.status == "served":
        _invite_to_survey(booking, now)
    db.session.commit()
    return _view(booking, principal, staff_of)


def _invite_to_survey(booking: QueueBooking, served_at: datetime) -> None:
    """The SKM survey of the poli that served the patient, to the account that booked (a walk-in
    without an account is not asked)."""
    if booking.account_id is None:
        return
    agency = agencies_service.find_agency_by_code(current_app.config["HEALTH_AGENCY_CODE"])
    service, facility = booking.service, booking.facility
    quality_service.invite(
        user_id=booking.account_id,
        service_kind="queue",
        service_id=booking.id,
        agency_id=agency.id if agency else None,
        service_key=str(service.id),
        service_name=f"{service.name}, {facility.name}",
        service_name_en=f"{service.name_en or service.name}, {facility.name}",
        reference=booking.booking_code,
        ended_at=served_at,
    )
