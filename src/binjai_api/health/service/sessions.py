"""Health: cancelling a day's session and every booking in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from binjai_api.auth.service import Principal
from binjai_api.errors import conflict, field_errors
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.health.models import (
    QueueBooking,
)
from binjai_api.health.service._common import (
    CANCEL_AHEAD_DAYS,
    WAITING_STATUSES,
    _get_facility,
    _service_name_param,
    _service_of,
    current_time,
    local_now,
)
from binjai_api.health.service.desk import _move
from binjai_api.health.service.queue import _lock_day, _queue_day_id, _session_on
from binjai_api.health.service.staff import require_staff
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications
from binjai_api.notifications.service import Link
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType


@dataclass(frozen=True)
class SessionCancellation:
    """What cancelling a session day did."""

    service_id: uuid.UUID
    day: date
    status: str
    cancel_reason: str
    cancelled_bookings: int


def cancel_session_day(
    *,
    principal: Principal,
    facility_id: uuid.UUID,
    service_id: uuid.UUID,
    day: date,
    reason: str,
) -> SessionCancellation:
    """Cancel a poli's session on a date (the doctor is absent) and notify everyone booked."""
    # Every booking still waiting is cancelled; the day takes no new booking.
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    service = _service_of(facility, service_id)
    today = local_now().date()
    if day < today:
        raise field_errors({"date": [gettext("A past session cannot be cancelled.")]})
    if day > today + timedelta(days=CANCEL_AHEAD_DAYS):
        raise field_errors({"date": [gettext("Sessions can be cancelled up to a year ahead.")]})
    session = _session_on(service, day)
    queue_day = _lock_day(_queue_day_id(session, service, day))
    if queue_day.status == "cancelled":
        raise conflict("session_cancelled", gettext("The facility cancelled this session."))
    queue_day.status = "cancelled"
    queue_day.cancel_reason = reason
    bookings = db.session.scalars(
        sa.select(QueueBooking).where(
            QueueBooking.queue_day_id == queue_day.id, QueueBooking.status.in_(WAITING_STATUSES)
        )
    ).all()
    now = current_time()
    for booking in bookings:
        _move(booking, "cancel_session")
        booking.cancelled_at = now
        if booking.account_id is not None:
            notifications.notify(
                recipients=[booking.account_id],
                kind=kinds.QUEUE_CANCELLED_BY_FACILITY,
                params={
                    **_service_name_param(service),
                    "facility": facility.name,
                    **in_each_language("date", lambda language: long_date(day, language)),
                    "reason": reason,
                },
                link=Link("queue-bookings", str(booking.id)),
            )
    webhooks_service.emit(
        WebhookEventType.QUEUE_SESSION_CANCELLED,
        facility,
        service=service,
        day=day,
        reason=reason,
        cancelled_bookings=len(bookings),
    )
    db.session.commit()
    return SessionCancellation(
        service_id=service.id,
        day=day,
        status=queue_day.status,
        cancel_reason=reason,
        cancelled_bookings=len(bookings),
    )
