"""Health helpers the service modules share: the booking state machine, the clock in Binjai's
time zone and the catalogue's codes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from binjai_api.db import for_update, utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language
from binjai_api.health.models import (
    Facility,
    HealthService,
)
from binjai_api.i18n import gettext
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


def _service_of(facility: Facility, service_id: uuid.UUID) -> HealthService:
    for service in facility.services:
        if service.id == service_id and service.is_active:
            return service
    raise field_errors({"service_id": [gettext("This facility has no such poli.")]})


def _service_name_param(service: HealthService) -> dict[str, str]:
    """The poli's name in each reader's language, for notification texts."""
    return in_each_language(
        "service", lambda language: (service.name_en if language == "en" else None) or service.name
    )
