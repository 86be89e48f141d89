"""Health: the facility directory (search near a point, open now) and the online queue.

Queue numbers come from one counter row per session and date (`QueueDay`). Every write that
depends on the queue's state first updates that row: on PostgreSQL the UPDATE takes its row lock,
so bookings, calls and cancellations of one poli-day run one after the other; on SQLite the UPDATE
takes the database's write lock, which serialises them the same way. Unique constraints (one
number per day, one active booking per person) are the last line of defence and answer 409.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from binjai_api import geo
from binjai_api.agencies import service as agencies_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.db import for_update, utcnow
from binjai_api.errors import Problem, conflict, field_errors, forbidden, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.health.models import (
    ACTIVE_STATUSES,
    BedAvailability,
    Facility,
    FacilityStaff,
    HealthService,
    OpeningHours,
    QueueBooking,
    QueueDay,
    QueueSession,
)
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications
from binjai_api.notifications.service import Link
from binjai_api.pagination import apply_sort
from binjai_api.privacy import mask_tail
from binjai_api.quality import service as quality_service
from binjai_api.regions import service as regions_service
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.workcalendar import service as workcalendar

FACILITY_TYPES = ("puskesmas", "hospital", "clinic")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SERVICE_CODES = (
    # Puskesmas poli (domain brief: health)
    "umum",
    "gigi",
    "kia_kb",
    "lansia",
    "mtbs",
    "imunisasi",
    "laboratorium",
    # Hospital outpatient clinics
    "penyakit_dalam",
    "anak",
    "bedah",
    "kandungan",
    "mata",
    "tht",
    "saraf",
    "jantung",
    "paru",
    "kulit_kelamin",
    "jiwa",
    "rehabilitasi_medik",
    "hemodialisis",
)
# A doctor's leave is known weeks ahead, not years: further dates are typing mistakes.
CANCEL_AHEAD_DAYS = 366
BED_CLASSES = ("vip", "kelas_1", "kelas_2", "kelas_3", "kris", "icu", "nicu", "picu", "isolasi")

# --- the booking state machine: one table, read by the code and the docs -------------------------
BOOKING_STATUSES = (
    "booked",
    "checked_in",
    "called",
    "served",
    "no_show",
    "cancelled",
    "cancelled_by_facility",
)
WAITING_STATUSES = ("booked", "checked_in")
BOOKING_TRANSITIONS: Mapping[tuple[str, str], str] = {
    ("booked", "cancel"): "cancelled",  # the patient, before check-in
    ("booked", "check_in"): "checked_in",
    ("booked", "call"): "called",
    ("checked_in", "call"): "called",
    ("called", "serve"): "served",
    ("called", "mark_no_show"): "no_show",
    ("booked", "mark_no_show"): "no_show",  # never came, at the end of the session
    ("booked", "cancel_session"): "cancelled_by_facility",
    ("checked_in", "cancel_session"): "cancelled_by_facility",
}
BOOKING_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk
BOOKING_CODE_LENGTH = 8
THREE_AHEAD = 3


def transitions_description() -> str:
    """The state machine as text, for the API docs."""
    return "; ".join(f"{s} --{a}--> {t}" for (s, a), t in BOOKING_TRANSITIONS.items())


def next_status(current: str, action: str) -> str:
    """Where `action` takes a booking in status `current`, or 409 `invalid_transition`."""
    target = BOOKING_TRANSITIONS.get((current, action))
    if target is None:
        raise conflict(
            "invalid_transition",
            gettext("A booking that is %(status)s cannot be changed this way.", status=current),
        )
    return target


# --- time ---------------------------------------------------------------------------------------


def current_time() -> datetime:
    """Now, in UTC: the one clock of the queue (tests set it)."""
    return utcnow()


def local_now() -> datetime:
    """Now in Binjai (WIB)."""
    return current_time().astimezone(workcalendar.LOCAL_TIMEZONE)


def local_instant(day: date, moment: time) -> datetime:
    """A local (WIB) time on a date, as a UTC instant (a session's start or end)."""
    return datetime.combine(day, moment, tzinfo=workcalendar.LOCAL_TIMEZONE).astimezone(UTC)


# --- facilities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityView:
    """A facility as answered: its row, open now and (near a point) its distance."""

    facility: Facility
    open_now: bool
    distance_m: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.facility, name)


def is_open(facility: Facility, moment: datetime, day_off: bool) -> bool:
    """Open at a local moment: a 24-hour IGD always is, holidays included; everything else
    follows its weekly hours and closes on days off."""
    if facility.emergency_24h:
        return True
    if day_off:
        return False
    now = moment.time()
    return any(
        hours.weekday == moment.weekday() and hours.opens_at <= now < hours.closes_at
        for hours in facility.opening_hours
    )


def _now_and_day_off() -> tuple[datetime, bool]:
    now = local_now()
    return now, workcalendar.is_day_off(now.date())


def search_facilities(
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_m: int = 5000,
    type: str | None = None,
    service: str | None = None,
    emergency_24h: bool | None = None,
    accepts_bpjs: bool | None = None,
    open_now: bool | None = None,
    updated_after: datetime | None = None,
    sort: str | None = None,
) -> list[FacilityView]:
    """Search facilities by point and radius, type, poli, IGD, BPJS and open now."""
    # Filter in SQL (a lat/lon bounding box for the radius), then measure the exact distance,
    # open-now and order in Python: a city has tens of facilities, not thousands.
    near = lat is not None and lon is not None
    sort = sort or ("distance" if near else "name")
    if sort.lstrip("-") == "distance" and not near:
        raise field_errors(
            {"sort": [gettext("Sorting by distance needs lat and lon.")]}, location="query"
        )
    query = (
        sa.select(Facility)
        .where(Facility.is_active.is_(True))
        .options(
            selectinload(Facility.opening_hours),
            selectinload(Facility.services),
            selectinload(Facility.beds),
        )
    )
    if near:
        assert lat is not None and lon is not None
        box = geo.box_around(lat, lon, radius_m)
        query = query.where(
            Facility.lat.between(box.min_lat, box.max_lat),
            Facility.lon.between(box.min_lon, box.max_lon),
        )
    if type is not None:
        query = query.where(Facility.type == type)
    if emergency_24h is not None:
        query = query.where(Facility.emergency_24h.is_(emergency_24h))
    if accepts_bpjs is not None:
        query = query.where(Facility.accepts_bpjs.is_(accepts_bpjs))
    if updated_after is not None:
        query = query.where(Facility.updated_at > updated_after)
    if service is not None:
        query = query.where(
            Facility.id.in_(
                sa.select(HealthService.facility_id).where(
                    HealthService.code == service, HealthService.is_active.is_(True)
                )
            )
        )
    now, day_off = _now_and_day_off()
    results: list[FacilityView] = []
    for facility in db.session.scalars(query):
        distance = None
        if near:
            assert lat is not None and lon is not None
            exact = geo.haversine_m(lat, lon, facility.lat, facility.lon)
            if exact > radius_m:
                continue
            distance = round(exact)
        is_open_now = is_open(facility, now, day_off)
        if open_now is not None and is_open_now != open_now:
            continue
        results.append(FacilityView(facility, is_open_now, distance))
    keys = {
        "distance": lambda v: (v.distance_m, v.facility.name),
        "name": lambda v: (v.facility.name.lower(), str(v.facility.id)),
        "updated_at": lambda v: (v.facility.updated_at, str(v.facility.id)),
    }
    results.sort(key=keys[sort.lstrip("-")], reverse=sort.startswith("-"))
    return results


def _get_facility(facility_id: uuid.UUID, *, lock: bool = False) -> Facility:
    """An active facility with its hours, poli, sessions and beds, or 404; `lock`: the
    facility's row held until the transaction ends (db.for_update), which every change to the
    facility, its poli, sessions or beds takes first."""
    facility = db.session.get(
        Facility,
        facility_id,
        options=[
            selectinload(Facility.opening_hours),
            selectinload(Facility.services).selectinload(HealthService.sessions),
            selectinload(Facility.beds),
        ],
        **for_update(lock, Facility),
    )
    if facility is None or not facility.is_active:
        raise not_found(gettext("Health facility not found."))
    return facility


def _require_facility(facility_id: uuid.UUID) -> None:
    """404 unless the facility exists and is active (one query, none of its relations)."""
    found = db.session.scalar(
        sa.select(Facility.id).where(Facility.id == facility_id, Facility.is_active.is_(True))
    )
    if found is None:
        raise not_found(gettext("Health facility not found."))


def get_facility(facility_id: uuid.UUID, *, lock: bool = False) -> FacilityView:
    """One facility with its hours, poli and schedules, beds, and whether it is open now."""
    facility = _get_facility(facility_id, lock=lock)
    now, day_off = _now_and_day_off()
    return FacilityView(facility, is_open(facility, now, day_off))


def _hours_rows(opening_hours: Iterable[Mapping[str, Any]]) -> list[OpeningHours]:
    rows: dict[int, OpeningHours] = {}
    for entry in opening_hours:
        weekday = WEEKDAYS.index(entry["weekday"])
        if weekday in rows or entry["opens_at"] >= entry["closes_at"]:
            raise field_errors(
                {
                    "opening_hours": [
                        gettext("One opening time per weekday, opening before closing.")
                    ]
                }
            )
        rows[weekday] = OpeningHours(
            weekday=weekday, opens_at=entry["opens_at"], closes_at=entry["closes_at"]
        )
    return list(rows.values())


def _service_row(entry: Mapping[str, Any]) -> HealthService:
    sessions: dict[int, QueueSession] = {}
    for session in entry.get("sessions", []):
        weekday = WEEKDAYS.index(session["weekday"])
        if weekday in sessions or session["starts_at"] >= session["ends_at"]:
            raise field_errors(
                {"services": [gettext("One session per weekday, starting before it ends.")]}
            )
        sessions[weekday] = QueueSession(
            weekday=weekday,
            starts_at=session["starts_at"],
            ends_at=session["ends_at"],
            online_quota=session["online_quota"],
            walk_in_quota=session["walk_in_quota"],
            minutes_per_patient=session["minutes_per_patient"],
        )
    return HealthService(
        code=entry["code"],
        name=entry["name"],
        name_en=entry.get("name_en"),
        sessions=list(sessions.values()),
    )


def create_facility(
    *,
    name: str,
    type: str,
    address: str,
    lat: float,
    lon: float,
    kelurahan_code: str | None = None,
    phone: str | None = None,
    emergency_24h: bool = False,
    accepts_bpjs: bool = True,
    opening_hours: Iterable[Mapping[str, Any]] = (),
    services: Iterable[Mapping[str, Any]] = (),
    is_demo: bool = False,
) -> FacilityView:
    """Add a facility with its weekly hours and its poli (each with its weekly sessions)."""
    if kelurahan_code is not None and regions_service.find_kelurahan(kelurahan_code) is None:
        raise field_errors({"kelurahan_code": [gettext("Unknown kelurahan.")]})
    service_rows = [_service_row(entry) for entry in services]
    if len({row.code for row in service_rows}) != len(service_rows):
        raise field_errors({"services": [gettext("Each poli appears once per facility.")]})
    facility = Facility(
        name=name.strip(),
        type=type,
        address=address.strip(),
        lat=lat,
        lon=lon,
        kelurahan_code=kelurahan_code,
        phone=phone,
        emergency_24h=emergency_24h,
        accepts_bpjs=accepts_bpjs,
        is_demo=is_demo,
        opening_hours=_hours_rows(opening_hours),
        services=service_rows,
    )
    db.session.add(facility)
    db.session.commit()
    return get_facility(facility.id)


def update_beds(
    *, principal: Principal, facility_id: uuid.UUID, beds: Iterable[Mapping[str, Any]]
) -> FacilityView:
    """Replace a hospital's bed availability (its staff, after each count)."""
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    if facility.type != "hospital":
        raise conflict("not_a_hospital", gettext("Only hospitals report bed availability."))
    entries = list(beds)
    if len({entry["bed_class"] for entry in entries}) != len(entries):
        raise field_errors({"beds": [gettext("Each bed class appears once.")]})
    if any(entry["available"] > entry["total"] for entry in entries):
        raise field_errors({"beds": [gettext("Free beds cannot exceed the total.")]})
    now = utcnow()
    facility.beds = [
        BedAvailability(
            bed_class=entry["bed_class"],
            total=entry["total"],
            available=entry["available"],
            updated_at=now,
            updated_by_id=principal.id,
        )
        for entry in entries
    ]
    facility.beds_updated_at = now
    facility.updated_at = now
    db.session.commit()
    return get_facility(facility.id)


def set_session(
    *,
    principal: Principal,
    facility_id: uuid.UUID,
    service_id: uuid.UUID,
    weekday: str,
    starts_at: time,
    ends_at: time,
    online_quota: int,
    walk_in_quota: int,
    minutes_per_patient: int,
) -> FacilityView:
    """Set a poli's session on one weekday (its staff or an admin)."""
    # Bookings already taken keep their numbers; a lower quota only refuses new ones.
    if weekday not in WEEKDAYS:
        raise not_found()
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    service = _service_of(facility, service_id)
    if starts_at >= ends_at:
        raise field_errors({"ends_at": [gettext("A session ends after it starts.")]})
    index = WEEKDAYS.index(weekday)
    session = next((s for s in service.sessions if s.weekday == index), None)
    if session is None:
        session = QueueSession(weekday=index)
        service.sessions.append(session)
    session.starts_at = starts_at
    session.ends_at = ends_at
    session.online_quota = online_quota
    session.walk_in_quota = walk_in_quota
    session.minutes_per_patient = minutes_per_patient
    service.updated_at = facility.updated_at = utcnow()
    db.session.commit()
    return get_facility(facility.id)


# --- facility staff ---------------------------------------------------------------------------


def staff_facility_id(user_id: uuid.UUID) -> uuid.UUID | None:
    """The facility whose queues this officer runs, if any."""
    return db.session.scalar(
        sa.select(FacilityStaff.facility_id).where(FacilityStaff.user_id == user_id)
    )


def require_staff(principal: Principal, facility_id: uuid.UUID) -> None:
    """Admins, and officers tied to this facility, may act on its queues; nobody else."""
    if principal.role == Role.ADMIN:
        return
    if principal.role == Role.OFFICER and staff_facility_id(principal.id) == facility_id:
        return
    raise forbidden(gettext("Only this facility's staff may do this."))


def staff_query(facility_id: uuid.UUID) -> sa.Select[Any]:
    """The officers tied to a facility."""
    _require_facility(facility_id)
    return (
        sa.select(FacilityStaff)
        .where(FacilityStaff.facility_id == facility_id)
        .order_by(FacilityStaff.created_at, FacilityStaff.user_id)
    )


def staff_facilities() -> dict[uuid.UUID, uuid.UUID]:
    """Every facility officer's facility, by account (who runs which queues)."""
    rows = db.session.execute(sa.select(FacilityStaff.user_id, FacilityStaff.facility_id))
    return {row.user_id: row.facility_id for row in rows}


def queue_day_facility_id(queue_day_id: uuid.UUID) -> uuid.UUID | None:
    """The facility of one poli's session on one date (a command center's overdue item)."""
    return db.session.scalar(sa.select(QueueDay.facility_id).where(QueueDay.id == queue_day_id))


def add_staff(*, facility_id: uuid.UUID, user_id: uuid.UUID) -> FacilityStaff:
    """Tie an officer's account to this facility (moving it from another one, if any)."""
    _require_facility(facility_id)
    user = auth_service.get_user(user_id)
    if user.role != Role.OFFICER:
        raise field_errors({"user_id": [gettext("Facility staff must be officer accounts.")]})
    link = db.session.get(FacilityStaff, user_id)
    if link is None:
        link = FacilityStaff(user_id=user_id, facility_id=facility_id, created_at=utcnow())
        db.session.add(link)
    else:
        link.facility_id = facility_id
    db.session.commit()
    return link


def remove_staff(*, facility_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Untie an officer from this facility."""
    link = db.session.get(FacilityStaff, user_id)
    if link is None or link.facility_id != facility_id:
        raise not_found(gettext("This account is not staff of this facility."))
    db.session.delete(link)
    db.session.commit()


# --- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingView:
    """A booking with its live position: the number called now, people ahead, estimated time."""

    booking: QueueBooking
    now_calling: int | None
    people_ahead: int | None
    estimated_call_time: datetime | None
    patient_nik: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.booking, name)


def _settings() -> tuple[int, int]:
    config = current_app.config
    return config["QUEUE_BOOKING_DAYS_AHEAD"], config["QUEUE_MAX_ACTIVE_BOOKINGS"]


def _service_of(facility: Facility, service_id: uuid.UUID) -> HealthService:
    for service in facility.services:
        if service.id == service_id and service.is_active:
            return service
    raise field_errors({"service_id": [gettext("This facility has no such poli.")]})


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


def _average_minutes(day: QueueDay, session_minutes: int) -> float:
    """Minutes per patient: measured today (called to served) if any, else configured."""
    if day.served_count:
        return day.service_seconds / day.served_count / 60
    return float(session_minutes)


def _visible_nik(
    booking: QueueBooking, principal: Principal, staff_of: uuid.UUID | None
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
    bookings: Sequence[QueueBooking], principal: Principal, staff_of: uuid.UUID | None
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


def _view(booking: QueueBooking, principal: Principal, staff_of: uuid.UUID | None) -> BookingView:
    """`booking_view` once the caller's facility (`_staff_of`) is known."""
    # The app polls this: the booking (its day joined), then one query for the people ahead
    # together with the session's start and minutes per patient.
    _record_staff_access([booking], principal, staff_of)
    day = booking.queue_day
    nik = _visible_nik(booking, principal, staff_of)
    if booking.status not in WAITING_STATUSES:
        estimated = booking.called_at if booking.status != "cancelled" else None
        return BookingView(booking, day.now_calling, None, estimated, nik)
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
    ahead, starts_at, minutes_per_patient = db.session.execute(
        sa.select(people_ahead, QueueSession.starts_at, QueueSession.minutes_per_patient).where(
            QueueSession.id == day.session_id
        )
    ).one()
    start = max(current_time(), local_instant(day.day, starts_at))
    minutes = _average_minutes(day, minutes_per_patient)
    estimated_at = start + timedelta(minutes=ahead * minutes)
    return BookingView(
        booking, day.now_calling, ahead, estimated_at.replace(second=0, microsecond=0), nik
    )


def get_booking(*, principal: Principal, booking_id: uuid.UUID) -> BookingView:
    """Live status of a booking (the app polls it): its patient's, its facility staff's, admins'."""
    booking = db.session.get(QueueBooking, booking_id)
    if booking is None:
        raise not_found(gettext("Booking not found."))
    staff_of = _staff_of(principal)
    if not (
        booking.account_id == principal.id
        or principal.role == Role.ADMIN
        or staff_of == booking.facility_id
    ):
        raise not_found(gettext("Booking not found."))
    return _view(booking, principal, staff_of)


def my_bookings_query(
    *,
    user_id: uuid.UUID,
    status: str | None = None,
    updated_after: datetime | None = None,
    sort: str = "-date",
) -> sa.Select[Any]:
    """The caller's own bookings (family members' included), newest date first."""
    query = sa.select(QueueBooking).where(QueueBooking.account_id == user_id)
    if status is not None:
        query = query.where(QueueBooking.status == status)
    if updated_after is not None:
        query = query.where(QueueBooking.updated_at > updated_after)
    columns = {"date": QueueBooking.day, "updated_at": QueueBooking.updated_at}
    return apply_sort(query, sort, columns, tiebreaker=QueueBooking.id)


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


def _service_name_param(service: HealthService) -> dict[str, str]:
    """The poli's name in each reader's language, for notification texts."""
    return in_each_language(
        "service", lambda language: (service.name_en if language == "en" else None) or service.name
    )


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


# --- demo data ----------------------------------------------------------------------------------


def seed_demo_facilities() -> int:
    """Load Binjai's demo hospitals and puskesmas and tie their demo staff; returns how many."""
    # seed/facilities.json marks unverified facts as demo; loading twice adds nothing.
    text = resources.files("binjai_api").joinpath("seed/facilities.json").read_text("utf-8")
    data = json.loads(text)
    officers = {
        user.email: user.id
        for user in db.session.scalars(auth_service.accounts_query(role=Role.OFFICER))
    }
    existing = set(db.session.scalars(sa.select(Facility.name)))
    added = 0
    for entry in data["facilities"]:
        if entry["name"] in existing:
            continue
        kind = entry["type"]
        template = data["sessions"][kind]
        sessions = [
            {**{k: v for k, v in template.items() if k != "weekdays"}, "weekday": weekday}
            for weekday in template["weekdays"]
        ]
        view = create_facility(
            name=entry["name"],
            type=kind,
            address=entry["address"],
            lat=entry["lat"],
            lon=entry["lon"],
            kelurahan_code=entry.get("kelurahan_code"),
            phone=entry.get("phone"),
            emergency_24h=entry["emergency_24h"],
            accepts_bpjs=True,
            opening_hours=[
                {
                    **hours,
                    "opens_at": _clock(hours["opens_at"]),
                    "closes_at": _clock(hours["closes_at"]),
                }
                for hours in data["hours"][kind]
            ],
            services=[
                {
                    "code": code,
                    "name": data["poli"][code],
                    "name_en": data["poli_en"].get(code),
                    "sessions": [
                        {**s, "starts_at": _clock(s["starts_at"]), "ends_at": _clock(s["ends_at"])}
                        for s in sessions
                    ],
                }
                for code in entry["services"]
            ],
            is_demo=True,
        )
        facility = view.facility
        now = utcnow()
        facility.beds = [BedAvailability(**bed, updated_at=now) for bed in entry.get("beds", [])]
        facility.beds_updated_at = now if facility.beds else None
        for email in entry.get("staff_emails", []):
            if email in officers and db.session.get(FacilityStaff, officers[email]) is None:
                db.session.add(
                    FacilityStaff(user_id=officers[email], facility_id=facility.id, created_at=now)
                )
        db.session.commit()
        added += 1
    return added


def _clock(value: str) -> time:
    return time.fromisoformat(value)
