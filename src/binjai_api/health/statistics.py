"""What the command center reads of the online queues: sessions that ended with patients still
waiting, and figures over many bookings.

Read-only and set-based: these queries aggregate in the database, never row by row in Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from binjai_api.agencies import service as agencies_service
from binjai_api.config import API_V1_STR
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db
from binjai_api.health.models import (
    ACTIVE_STATUSES,
    Facility,
    HealthService,
    QueueBooking,
    QueueDay,
    QueueSession,
)
from binjai_api.workcalendar import service as workcalendar

SESSION_STEP = "queue_session"
# A session left unclosed longer than this is history, not something to act on today.
LOOKBACK_DAYS = 30


def responsible_agency_id() -> uuid.UUID | None:
    """The agency answerable for every facility's queues (HEALTH_AGENCY_CODE)."""
    agency = agencies_service.find_agency_by_code(current_app.config["HEALTH_AGENCY_CODE"])
    return agency.id if agency is not None else None


def session_end(day: date, session: QueueSession) -> datetime:
    """When a poli's session on `day` ends, in UTC."""
    local = datetime.combine(day, session.ends_at, tzinfo=workcalendar.LOCAL_TIMEZONE)
    return local.astimezone(UTC)


def overdue_items(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OverdueItem]:
    """Sessions that have ended while patients still wait in their queue (booked, checked in or
    called): the facility's staff must call, serve or mark them, most overdue first."""
    responsible = responsible_agency_id()
    if agency_id is not None and agency_id != responsible:
        return []
    today = workcalendar.local_date(now)
    waiting = (
        sa.select(QueueBooking.queue_day_id, sa.func.count().label("waiting"))
        .where(
            QueueBooking.status.in_(ACTIVE_STATUSES),
            QueueBooking.day <= today,
            QueueBooking.day >= today - timedelta(days=LOOKBACK_DAYS),
        )
        .group_by(QueueBooking.queue_day_id)
        .subquery()
    )
    query = (
        sa.select(QueueDay, QueueSession, HealthService.name, Facility.name, waiting.c.waiting)
        .join(waiting, waiting.c.queue_day_id == QueueDay.id)
        .join(QueueSession, QueueSession.id == QueueDay.session_id)
        .join(HealthService, HealthService.id == QueueDay.service_id)
        .join(Facility, Facility.id == QueueDay.facility_id)
        .where(QueueDay.status == "open")
    )
    items = []
    for queue_day, session, service_name, facility_name, _waiting in db.session.execute(query):
        ends = session_end(queue_day.day, session)
        if ends >= now:
            continue
        items.append(
            OverdueItem(
                item_type=ItemType.QUEUE_SESSION,
                item_id=queue_day.id,
                reference=queue_day.day.isoformat(),
                title=f"{facility_name} · {service_name}",
                agency_id=responsible,
                step=SESSION_STEP,
                waiting_on=WaitingOn.FACILITY_STAFF,
                due_at=ends,
                link=(
                    f"{API_V1_STR}/facilities/{queue_day.facility_id}/queue"
                    f"?service_id={queue_day.service_id}&date={queue_day.day.isoformat()}"
                ),
            )
        )
    items.sort(key=lambda item: (item.due_at, item.item_id))
    return items
