"""What the command center reads of the online queues: sessions that ended with patients still
waiting, and figures over many bookings.

Read-only and set-based: these queries aggregate in the database, never row by row in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
from binjai_api.health.service import BOOKING_STATUSES, local_instant
from binjai_api.workcalendar import service as workcalendar

SESSION_STEP = "queue_session"
# A session left unclosed longer than this is history, not something to act on today.
LOOKBACK_DAYS = 30


def responsible_agency_id() -> uuid.UUID | None:
    """The agency answerable for every facility's queues (HEALTH_AGENCY_CODE)."""
    agency = agencies_service.find_agency_by_code(current_app.config["HEALTH_AGENCY_CODE"])
    return agency.id if agency is not None else None


def overdue_items(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OverdueItem]:
    """Sessions that have ended while patients still wait in their queue (booked, checked in or
    called): the facility's staff must call, serve or mark them, most overdue first."""
    if _out_of_scope(agency_id):
        return []
    responsible = responsible_agency_id()
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
        sa.select(
            QueueDay,
            QueueSession,
            HealthService.name,
            HealthService.name_en,
            Facility.name,
            waiting.c.waiting,
        )
        .join(waiting, waiting.c.queue_day_id == QueueDay.id)
        .join(QueueSession, QueueSession.id == QueueDay.session_id)
        .join(HealthService, HealthService.id == QueueDay.service_id)
        .join(Facility, Facility.id == QueueDay.facility_id)
        .where(QueueDay.status == "open")
    )
    items = []
    for (
        queue_day,
        session,
        service_name,
        service_name_en,
        facility_name,
        _waiting,
    ) in db.session.execute(query):
        ends = local_instant(queue_day.day, session.ends_at)
        if ends >= now:
            continue
        items.append(
            OverdueItem(
                item_type=ItemType.QUEUE_SESSION,
                item_id=queue_day.id,
                reference=queue_day.day.isoformat(),
                title=f"{facility_name} · {service_name}",
                title_en=f"{facility_name} · {service_name_en or service_name}",
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


# --- figures for the command center's overview ---------------------------------------------------

FINISHED_STATUSES = ("served", "no_show")
CANCELLED_STATUSES = ("cancelled", "cancelled_by_facility")


@dataclass(frozen=True)
class Closings:
    closed: int  # bookings served, no-show or cancelled
    with_deadline: int  # bookings served (their deadline: the end of their session)
    on_time: int  # ... served before the session ended


def _out_of_scope(agency_id: uuid.UUID | None) -> bool:
    """Queues belong to one agency (HEALTH_AGENCY_CODE): any other agency has none."""
    return agency_id is not None and agency_id != responsible_agency_id()


def _days(start: datetime, end: datetime) -> tuple[date, date]:
    """The local dates of [start, end)."""
    return workcalendar.local_date(start), workcalendar.local_date(end - timedelta(microseconds=1))


def status_counts(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> dict[str, int]:
    """Bookings for the dates of [start, end) by their current status, every status listed (a
    booking belongs to the day of its queue, whenever it was made)."""
    counts = dict.fromkeys(BOOKING_STATUSES, 0)
    if _out_of_scope(agency_id):
        return counts
    first, last = _days(start, end)
    query = (
        sa.select(QueueBooking.status, sa.func.count())
        .where(QueueBooking.day >= first, QueueBooking.day <= last)
        .group_by(QueueBooking.status)
    )
    for status, count in db.session.execute(query):
        counts[status] = int(count)
    return counts


def closings(*, start: datetime, end: datetime, agency_id: uuid.UUID | None = None) -> Closings:
    """Bookings finished (served, no-show) or cancelled in [start, end), and how many of those
    served were served before the end of their session."""
    if _out_of_scope(agency_id):
        return Closings(0, 0, 0)
    ended_at = sa.func.coalesce(QueueBooking.finished_at, QueueBooking.cancelled_at)
    closed = db.session.scalar(
        sa.select(sa.func.count()).where(
            QueueBooking.status.in_(FINISHED_STATUSES + CANCELLED_STATUSES),
            ended_at >= start,
            ended_at < end,
        )
    )
    served_in_period = sa.and_(
        QueueBooking.status == "served",
        QueueBooking.finished_at >= start,
        QueueBooking.finished_at < end,
    )
    if db.engine.dialect.name == "postgresql":
        # A session's end is a local time on the booking's date: date + time is that local
        # timestamp, and timezone() makes it Binjai's instant (a year's bookings, counted there).
        session_end = sa.func.timezone(
            workcalendar.LOCAL_TIMEZONE.key, QueueBooking.day.op("+")(QueueSession.ends_at)
        )
        served_count, on_time_count = db.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(
                    sa.func.sum(sa.case((QueueBooking.finished_at <= session_end, 1), else_=0)),
                    0,
                ),
            )
            .join(QueueDay, QueueDay.id == QueueBooking.queue_day_id)
            .join(QueueSession, QueueSession.id == QueueDay.session_id)
            .where(served_in_period)
        ).one()
        return Closings(int(closed or 0), int(served_count), int(on_time_count))
    # SQLite spells date and time arithmetic its own way: compared here.
    served = db.session.execute(
        sa.select(QueueBooking.day, QueueSession.ends_at, QueueBooking.finished_at)
        .join(QueueDay, QueueDay.id == QueueBooking.queue_day_id)
        .join(QueueSession, QueueSession.id == QueueDay.session_id)
        .where(served_in_period)
    ).all()
    on_time = sum(
        finished_at is not None and finished_at <= local_instant(day, ends_at)
        for day, ends_at, finished_at in served
    )
    return Closings(int(closed or 0), len(served), on_time)


def time_to_call_spans(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """Check-in (walk-ins are checked in when registered) to being called, as (started, ended)
    rows of bookings called in [start, end). Bookings called without checking in are left
    out: their only earlier instant is when they were booked, often days before."""
    query = sa.select(
        QueueBooking.checked_in_at.label("started"), QueueBooking.called_at.label("ended")
    ).where(
        QueueBooking.checked_in_at.is_not(None),
        QueueBooking.called_at >= start,
        QueueBooking.called_at < end,
    )
    if _out_of_scope(agency_id):
        query = query.where(sa.false())
    return query


def overdue_counts(
    *, now: datetime, agency_id: uuid.UUID | None = None
) -> dict[uuid.UUID | None, int]:
    """How many sessions overdue_items lists, per agency (there are few: one per poli per day)."""
    counts: dict[uuid.UUID | None, int] = {}
    for item in overdue_items(now=now, agency_id=agency_id):
        counts[item.agency_id] = counts.get(item.agency_id, 0) + 1
    return counts
