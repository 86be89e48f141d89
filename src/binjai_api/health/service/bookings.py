"""Health: reading bookings: the view each reader may see and the residents' and desks' lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from binjai_api.audit import service as audit_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.errors import not_found
from binjai_api.extensions import db
from binjai_api.fastdump import Dumped, rfc3339_utc
from binjai_api.health.models import (
    Facility,
    HealthService,
    QueueBooking,
    QueueDay,
    QueueSession,
)
from binjai_api.health.service._common import (
    WAITING_STATUSES,
    _require_facility,
    current_time,
    local_instant,
    local_now,
)
from binjai_api.health.service.staff import require_staff, staff_facility_id
from binjai_api.i18n import gettext
from binjai_api.pagination import apply_sort
from binjai_api.privacy import mask_tail

# --- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingView:
    """A booking with its live position: the number called now, people ahead, estimated time."""

    booking: QueueBooking | BookingRow
    now_calling: int | None
    people_ahead: int | None
    estimated_call_time: datetime | None
    patient_nik: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.booking, name)


def _average_minutes(day: QueueDay | _DayRow, session_minutes: int) -> float:
    """Minutes per patient: measured today (called to served) if any, else configured."""
    if day.served_count:
        return day.service_seconds / day.served_count / 60
    return float(session_minutes)


def _visible_nik(
    booking: QueueBooking | BookingRow, principal: Principal, staff_of: uuid.UUID | None
) -> str | None:
    """The NIK in full for the account that booked and the facility's staff, else masked."""
    # Administrators manage facilities, not patients (UU 27/2022: data minimisation).
    if booking.account_id == principal.id or (
        principal.role == Role.OFFICER and staff_of == booking.facility_id
    ):
        return booking.patient_nik
    return mask_tail(booking.patient_nik)


def _staff_of(principal: Principal) -> uuid.UUID | None:
    """The facility an officer runs (None for everyone else, without a query)."""
    return staff_facility_id(principal.id) if principal.role == Role.OFFICER else None


def _record_staff_access(
    bookings: Sequence[QueueBooking | BookingRow], principal: Principal, staff_of: uuid.UUID | None
) -> None:
    """Staff (and admins) shown patients' names, and their facility's officers the NIKs too:
    one audit record for the request. The patient's own account reading is not recorded."""
    others = [b for b in bookings if b.account_id != principal.id]
    if not others:
        return
    fields = ["patient_name"]
    if principal.role == Role.OFFICER and any(b.facility_id == staff_of for b in others):
        fields.append("patient_nik")
    audit_service.record_access(
        object_type=QueueBooking.__tablename__, object_ids=[b.id for b in others], fields=fields
    )


def booking_rows(bookings: Iterable[QueueBooking], principal: Principal) -> list[BookingView]:
    """Bookings as list rows, each NIK as the caller may see it."""
    staff_of = _staff_of(principal)
    bookings = list(bookings)
    _record_staff_access(bookings, principal, staff_of)
    return [
        BookingView(b, None, None, None, _visible_nik(b, principal, staff_of)) for b in bookings
    ]


def booking_view(booking: QueueBooking, principal: Principal) -> BookingView:
    """The booking with its live position in the queue, as the caller may see it."""
    return _view(booking, principal, _staff_of(principal))


def _view(
    booking: QueueBooking | BookingRow,
    principal: Principal,
    staff_of: uuid.UUID | None,
    position: tuple[int, time, int] | None = None,
) -> BookingView:
    """`booking_view` once the caller's facility (`_staff_of`) is known; `position`: the people
    ahead, the session's start and minutes per patient, when read with the booking."""
    # The booking (its day joined), then, unless read with it, one query for the people ahead
    # together with the session's start and minutes per patient.
    _record_staff_access([booking], principal, staff_of)
    day = booking.queue_day
    nik = _visible_nik(booking, principal, staff_of)
    if booking.status not in WAITING_STATUSES:
        estimated = booking.called_at if booking.status != "cancelled" else None
        return BookingView(booking, day.now_calling, None, estimated, nik)
    if position is None:
        people_ahead = (
            sa.select(sa.func.count())
            .select_from(QueueBooking)
            .where(
                QueueBooking.queue_day_id == day.id,
                QueueBooking.status.in_(WAITING_STATUSES),
                QueueBooking.queue_number < booking.queue_number,
            )
            .scalar_subquery()
        )
        position = db.session.execute(
            sa.select(people_ahead, QueueSession.starts_at, QueueSession.minutes_per_patient).where(
                QueueSession.id == day.session_id
            )
        ).one()
    ahead, starts_at, minutes_per_patient = position
    start = max(current_time(), local_instant(day.day, starts_at))
    minutes = _average_minutes(day, minutes_per_patient)
    estimated_at = start + timedelta(minutes=ahead * minutes)
    return BookingView(
        booking, day.now_calling, ahead, estimated_at.replace(second=0, microsecond=0), nik
    )


def get_booking(*, principal: Principal, booking_id: uuid.UUID) -> BookingView:
    """Live status of a booking (the app polls it): its patient's, its facility staff's, admins'."""
    row = db.session.execute(_booking_status_statement(), {"booking_id": booking_id}).one_or_none()
    if row is None:
        raise not_found(gettext("Booking not found."))
    booking = BookingRow(row)
    staff_of = _staff_of(principal)
    if not (
        booking.account_id == principal.id
        or principal.role == Role.ADMIN
        or staff_of == booking.facility_id
    ):
        raise not_found(gettext("Booking not found."))
    position = (row.people_ahead, row.session_starts_at, row.session_minutes_per_patient)
    return _view(booking, principal, staff_of, position)


@dataclass(frozen=True)
class _Named:
    name: str


@dataclass(frozen=True)
class _DayRow:
    id: uuid.UUID
    session_id: uuid.UUID
    day: date
    now_calling: int | None
    served_count: int
    service_seconds: int


class BookingRow:
    """A booking read as one plain row for the status poll (no ORM objects: the app polls this
    every few seconds), offering what the views read of a `QueueBooking`: its columns, and its
    facility's and poli's names and its day as `facility.name`, `service.name`, `queue_day`."""

    __slots__ = ("_row", "facility", "queue_day", "service")

    def __init__(self, row: sa.Row[Any]) -> None:
        self._row = row
        self.facility = _Named(row.facility_name)
        self.service = _Named(row.service_name)
        self.queue_day = _DayRow(
            row.queue_day_id,
            row.day_session_id,
            row.day,
            row.day_now_calling,
            row.day_served_count,
            row.day_service_seconds,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


@cache
def _booking_status_statement() -> sa.Select[Any]:
    """What the app polls, in one statement built once: the booking's columns, its facility's and
    poli's names, its day, the people ahead of it and its session's start and minutes per
    patient (counted whatever the status; `_view` uses them only while it waits)."""
    ahead = aliased(QueueBooking)
    people_ahead = (
        sa.select(sa.func.count())
        .select_from(ahead)
        .where(
            ahead.queue_day_id == QueueBooking.queue_day_id,
            ahead.status.in_(WAITING_STATUSES),
            ahead.queue_number < QueueBooking.queue_number,
        )
        .correlate(QueueBooking)
        .scalar_subquery()
    )
    return (
        sa.select(
            *QueueBooking.__table__.columns,
            Facility.name.label("facility_name"),
            HealthService.name.label("service_name"),
            QueueDay.session_id.label("day_session_id"),
            QueueDay.now_calling.label("day_now_calling"),
            QueueDay.served_count.label("day_served_count"),
            QueueDay.service_seconds.label("day_service_seconds"),
            people_ahead.label("people_ahead"),
            QueueSession.starts_at.label("session_starts_at"),
            QueueSession.minutes_per_patient.label("session_minutes_per_patient"),
        )
        .join(QueueDay, QueueDay.id == QueueBooking.queue_day_id)
        .join(QueueSession, QueueSession.id == QueueDay.session_id)
        .join(Facility, Facility.id == QueueBooking.facility_id)
        .join(HealthService, HealthService.id == QueueBooking.service_id)
        .where(QueueBooking.id == sa.bindparam("booking_id", type_=QueueBooking.id.type))
    )


@dataclass(frozen=True)
class MyBookingsQuery:
    """What the caller's list of their own bookings is made of: the account and the filters."""

    user_id: uuid.UUID
    status: str | None = None
    updated_after: datetime | None = None
    sort: str = "-date"

    @property
    def parameters(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "status": self.status, "updated_after": self.updated_after}


def my_bookings_query(
    *,
    user_id: uuid.UUID,
    status: str | None = None,
    updated_after: datetime | None = None,
    sort: str = "-date",
) -> MyBookingsQuery:
    """The caller's own bookings (family members' included), newest date first."""
    return MyBookingsQuery(user_id, status, updated_after, sort)


_BOOKINGS = QueueBooking.__table__
# What a list row shows of the booking itself (BookingSchema's fields but the names).
_MY_BOOKING_COLUMNS = (
    "id",
    "facility_id",
    "service_id",
    "day",
    "queue_number",
    "booking_code",
    "source",
    "status",
    "patient_name",
    "patient_nik",
    "checked_in_at",
    "called_at",
    "finished_at",
    "cancelled_at",
    "created_at",
    "updated_at",
)
_MY_SORTABLE = {"date": _BOOKINGS.c.day, "updated_at": _BOOKINGS.c.updated_at}


def _my_bookings_where(statement: sa.Select[Any], *, status: bool, updated_after: bool) -> Any:
    statement = statement.where(
        _BOOKINGS.c.account_id == sa.bindparam("user_id", type_=_BOOKINGS.c.account_id.type)
    )
    if status:
        statement = statement.where(
            _BOOKINGS.c.status == sa.bindparam("status", type_=_BOOKINGS.c.status.type)
        )
    if updated_after:
        statement = statement.where(
            _BOOKINGS.c.updated_at
            > sa.bindparam("updated_after", type_=_BOOKINGS.c.updated_at.type)
        )
    return statement


@lru_cache(maxsize=16)
def _my_bookings_page_statement(status: bool, updated_after: bool, sort: str) -> sa.Select[Any]:
    """A page of a resident's bookings with their facility's and poli's names and the list's
    total (a window count over the same rows: one statement), built once per filter shape and
    sort; the account, the filters' values and the page's bounds are its parameters."""
    facilities = Facility.__table__
    services = HealthService.__table__
    statement = sa.select(
        *(_BOOKINGS.c[name] for name in _MY_BOOKING_COLUMNS),
        facilities.c.name.label("facility_name"),
        services.c.name.label("service_name"),
        sa.func.count().over().label("list_total"),
    ).select_from(
        _BOOKINGS.join(facilities, facilities.c.id == _BOOKINGS.c.facility_id).join(
            services, services.c.id == _BOOKINGS.c.service_id
        )
    )
    statement = _my_bookings_where(statement, status=status, updated_after=updated_after)
    return (
        apply_sort(statement, sort, _MY_SORTABLE, tiebreaker=_BOOKINGS.c.id)
        .offset(sa.bindparam("page_offset", type_=sa.Integer))
        .limit(sa.bindparam("page_limit", type_=sa.Integer))
    )


@lru_cache(maxsize=4)
def _my_bookings_count_statement(status: bool, updated_after: bool) -> sa.Select[Any]:
    """The list's total alone, for a page past its end (which has no row to carry it)."""
    statement = sa.select(sa.func.count()).select_from(_BOOKINGS)
    return _my_bookings_where(statement, status=status, updated_after=updated_after)


def my_bookings_rows(
    query: MyBookingsQuery, *, offset: int, limit: int
) -> tuple[Sequence[sa.Row[Any]], int]:
    """A page of the caller's bookings as plain rows, and how many the whole list holds: one
    statement (two for a page past the end). Exact at once: the caller's own rows are counted
    in the same statement that reads them."""
    shape = (query.status is not None, query.updated_after is not None)
    parameters = query.parameters
    rows = db.session.execute(
        _my_bookings_page_statement(*shape, query.sort),
        {**parameters, "page_offset": offset, "page_limit": limit},
    ).all()
    if rows:
        return rows, int(rows[0].list_total)
    if offset == 0:
        return rows, 0
    return rows, int(db.session.scalar(_my_bookings_count_statement(*shape), parameters) or 0)


def _time_or_none(value: datetime | None) -> str | None:
    return None if value is None else rfc3339_utc(value)


def my_booking_items(rows: Iterable[sa.Row[Any]]) -> list[Dumped]:
    """The caller's own bookings (`my_bookings_rows`) in the JSON form BookingSchema documents,
    written in one pass. The account that booked sees the patient's NIK in full
    (`_visible_nik`), and its own reading is not recorded (`_record_staff_access`)."""
    return [
        Dumped(
            id=str(row.id),
            facility_id=str(row.facility_id),
            facility_name=row.facility_name,
            service_id=str(row.service_id),
            service_name=row.service_name,
            date=row.day.isoformat(),
            queue_number=row.queue_number,
            booking_code=row.booking_code,
            source=row.source,
            status=row.status,
            patient_name=row.patient_name,
            patient_nik=row.patient_nik,
            checked_in_at=_time_or_none(row.checked_in_at),
            called_at=_time_or_none(row.called_at),
            finished_at=_time_or_none(row.finished_at),
            cancelled_at=_time_or_none(row.cancelled_at),
            created_at=rfc3339_utc(row.created_at),
            updated_at=rfc3339_utc(row.updated_at),
        )
        for row in rows
    ]


def facility_queue_query(
    *,
    principal: Principal,
    facility_id: uuid.UUID,
    day: date | None = None,
    service_id: uuid.UUID | None = None,
    status: str | None = None,
    updated_after: datetime | None = None,
    sort: str = "queue_number",
) -> sa.Select[Any]:
    """A facility's bookings of a day (today by default), for its staff."""
    _require_facility(facility_id)
    require_staff(principal, facility_id)
    query = sa.select(QueueBooking).where(
        QueueBooking.facility_id == facility_id,
        QueueBooking.day == (day or local_now().date()),
    )
    if service_id is not None:
        query = query.where(QueueBooking.service_id == service_id)
    if status is not None:
        query = query.where(QueueBooking.status == status)
    if updated_after is not None:
        query = query.where(QueueBooking.updated_at > updated_after)
    columns = {"queue_number": QueueBooking.queue_number, "updated_at": QueueBooking.updated_at}
    return apply_sort(query, sort, columns, tiebreaker=QueueBooking.id)
