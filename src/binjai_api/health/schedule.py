"""Health: the queue's calendar as others read it: a poli by id, and each of its session dates
ahead with the online places left (the FHIR face's Schedule and Slot read these)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from binjai_api.errors import not_found
from binjai_api.extensions import db
from binjai_api.health import service
from binjai_api.health.models import Facility, HealthService, QueueDay, QueueSession
from binjai_api.i18n import gettext
from binjai_api.workcalendar import service as workcalendar


@dataclass(frozen=True)
class SessionDate:
    """One session of a poli on one date: when it runs, its online quota and what is left."""

    session: QueueSession
    service: HealthService
    day: date
    starts: datetime  # UTC
    ends: datetime  # UTC
    online_quota: int
    online_booked: int
    cancelled: bool

    @property
    def places_left(self) -> int:
        return 0 if self.cancelled else max(self.online_quota - self.online_booked, 0)

    @property
    def slot_id(self) -> str:
        """A stable id of the session on that date: the session's id and the date."""
        return f"{self.session.id}-{self.day:%Y%m%d}"


def booking_horizon() -> tuple[date, date]:
    """The dates a resident may book now: today (in Binjai) to QUEUE_BOOKING_DAYS_AHEAD ahead."""
    today = service.local_now().date()
    return today, today + timedelta(days=current_app.config["QUEUE_BOOKING_DAYS_AHEAD"])


def _active_services() -> sa.Select[HealthService]:
    return (
        sa.select(HealthService)
        .join(Facility, Facility.id == HealthService.facility_id)
        .where(HealthService.is_active.is_(True), Facility.is_active.is_(True))
        .options(selectinload(HealthService.sessions))
    )


def get_poli(service_id: uuid.UUID) -> HealthService:
    """An active poli of an active facility, with its weekly sessions, or 404."""
    found = db.session.scalar(_active_services().where(HealthService.id == service_id))
    if found is None:
        raise not_found(gettext("Poli not found."))
    return found


def list_poli(*, facility_id: uuid.UUID | None = None) -> Sequence[HealthService]:
    """Active poli of active facilities (of one facility), by facility then name."""
    query = _active_services().order_by(HealthService.facility_id, HealthService.name)
    if facility_id is not None:
        query = query.where(HealthService.facility_id == facility_id)
    return db.session.scalars(query).all()


def session_dates(
    services: Sequence[HealthService], *, start: date, end: date
) -> list[SessionDate]:
    """Every session the poli hold from `start` to `end` (inclusive), days off left out, with
    the online places booked so far (one query for the counters of all of them)."""
    if not services or end < start:
        return []
    days_off = workcalendar.calendar_for(start, end)
    counters = {
        (row.session_id, row.day): row
        for row in db.session.execute(
            sa.select(QueueDay.session_id, QueueDay.day, QueueDay.online_booked, QueueDay.status)
            .where(QueueDay.service_id.in_([s.id for s in services]))
            .where(QueueDay.day.between(start, end))
        )
    }
    found: list[SessionDate] = []
    for poli in services:
        by_weekday = {s.weekday: s for s in poli.sessions}
        day = start
        while day <= end:
            session = by_weekday.get(day.weekday())
            if session is not None and not days_off.is_day_off(day):
                counter = counters.get((session.id, day))
                found.append(
                    SessionDate(
                        session=session,
                        service=poli,
                        day=day,
                        starts=service.local_instant(day, session.starts_at),
                        ends=service.local_instant(day, session.ends_at),
                        online_quota=session.online_quota,
                        online_booked=counter.online_booked if counter else 0,
                        cancelled=bool(counter and counter.status == "cancelled"),
                    )
                )
            day += timedelta(days=1)
    found.sort(key=lambda s: (s.starts, str(s.service.id)))
    return found


def find_session_date(session_id: uuid.UUID, day: date) -> SessionDate | None:
    """A session of an active poli on a date, if the poli holds it then (not on a day off)."""
    service_id = db.session.scalar(
        sa.select(QueueSession.service_id).where(QueueSession.id == session_id)
    )
    if service_id is None:
        return None
    poli = db.session.scalar(_active_services().where(HealthService.id == service_id))
    if poli is None:
        return None
    found = session_dates([poli], start=day, end=day)
    return next((s for s in found if s.session.id == session_id), None)
