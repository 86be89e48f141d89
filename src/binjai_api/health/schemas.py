"""Request and response shapes of health facilities and the online queue."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from binjai_api.auth import service as auth_service
from binjai_api.fastdump import FastDump
from binjai_api.health.service import (
    BED_CLASSES,
    BOOKING_STATUSES,
    FACILITY_TYPES,
    SERVICE_CODES,
    WEEKDAYS,
    transitions_description,
)
from binjai_api.i18n import gettext
from binjai_api.pagination import sort_field
from binjai_api.schemas import (
    NIK_DESCRIPTION,
    NIK_PATTERN,
    StrictSchema,
    UpdatedAfterQueryArgsSchema,
    UTCDateTime,
    enum_field,
)

MAX_RADIUS_M = 50_000


class Weekday(ma.fields.String):
    """A weekday as `monday` ... `sunday` (stored as 0-6)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=ma.validate.OneOf(WEEKDAYS), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return WEEKDAYS[value] if isinstance(value, int) else value


# What "%H:%M" parses: the hour 0-23 and the minute 0-59, each with or without a leading zero.
CLOCK_PATTERN = "^([01]?[0-9]|2[0-3]):[0-5]?[0-9]$"


def _clock(**kwargs: Any) -> ma.fields.Time:
    metadata = {
        "description": "Local time in Binjai (WIB), `HH:MM` (24-hour).",
        "pattern": CLOCK_PATTERN,
        "example": "08:00",
    }
    return ma.fields.Time(format="%H:%M", metadata=metadata, **kwargs)


def _check_nik(value: str) -> None:
    problem = auth_service.nik_error(value)
    if problem:
        raise ma.ValidationError(problem)


def _check_text(value: str) -> None:
    if len(value.strip()) < 2:
        raise ma.ValidationError(gettext("Enter at least two characters besides spaces."))


def _name(max_length: int, **kwargs: Any) -> ma.fields.String:
    """A name or address: 2 to `max_length` characters, not only spaces."""
    return ma.fields.String(
        validate=[ma.validate.Length(min=2, max=max_length), _check_text], **kwargs
    )


# --- facilities ---------------------------------------------------------------------------------


class OpeningHoursSchema(StrictSchema):
    weekday = Weekday(required=True, metadata={"example": "monday"})
    opens_at = _clock(required=True)
    closes_at = _clock(required=True)


class SessionPutSchema(StrictSchema):
    starts_at = _clock(required=True)
    ends_at = _clock(required=True)
    online_quota = ma.fields.Integer(
        required=True, validate=ma.validate.Range(0, 1000), metadata={"example": 40}
    )
    walk_in_quota = ma.fields.Integer(
        required=True, validate=ma.validate.Range(0, 1000), metadata={"example": 20}
    )
    minutes_per_patient = ma.fields.Integer(
        required=True, validate=ma.validate.Range(1, 240), metadata={"example": 10}
    )


class SessionSchema(SessionPutSchema):
    """A poli's session on one weekday (the PUT body names the weekday in its path)."""

    weekday = Weekday(required=True, metadata={"example": "monday"})


class HealthServiceSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    code = enum_field(SERVICE_CODES, required=True, metadata={"example": "umum"})
    name = _name(120, required=True, metadata={"example": "Poli Umum"})
    name_en = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(min=1, max=120),
        metadata={
            "description": "The name in English texts (notifications); the Indonesian name "
            "when absent.",
            "example": "General clinic",
        },
    )
    sessions = ma.fields.List(
        ma.fields.Nested(SessionSchema),
        load_default=list,
        validate=ma.validate.Length(max=7),
        metadata={"description": "Weekly schedule: at most one session per weekday."},
    )

    class Meta:
        unknown = ma.RAISE


class BedSchema(StrictSchema):
    bed_class = enum_field(BED_CLASSES, required=True, metadata={"example": "kelas_3"})
    total = ma.fields.Integer(
        required=True, validate=ma.validate.Range(0, 10000), metadata={"example": 40}
    )
    available = ma.fields.Integer(
        required=True, validate=ma.validate.Range(0, 10000), metadata={"example": 6}
    )
    updated_at = UTCDateTime(dump_only=True)


class FacilitySchema(FastDump):
    id = ma.fields.UUID()
    name = ma.fields.String(metadata={"example": "RSUD Dr. R.M. Djoelham"})
    type = enum_field(FACILITY_TYPES, metadata={"example": "hospital"})
    address = ma.fields.String(metadata={"example": "Jl. Sultan Hasanuddin No. 9, Binjai"})
    kelurahan_code = ma.fields.String(allow_none=True, metadata={"example": "12.75.02.1005"})
    lat = ma.fields.Float(metadata={"example": 3.6001})
    lon = ma.fields.Float(metadata={"example": 98.4852})
    phone = ma.fields.String(allow_none=True, metadata={"example": "0618821234"})
    emergency_24h = ma.fields.Boolean(
        metadata={
            "description": "Has a 24-hour emergency department (IGD): open every hour of "
            "every day, holidays included."
        }
    )
    accepts_bpjs = ma.fields.Boolean(
        metadata={"description": "Serves BPJS / UHC patients (Binjai's UHC: with the KTP alone)."}
    )
    open_now = ma.fields.Boolean(
        metadata={
            "description": "Open at this moment (WIB). A 24-hour IGD is always open; others "
            "follow their weekly hours and are closed on national holidays, cuti bersama and "
            "the city's days off."
        }
    )
    distance_m = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Metres from the search point (only when searching near one).",
            "example": 850,
        },
    )
    opening_hours = ma.fields.List(ma.fields.Nested(OpeningHoursSchema))
    services = ma.fields.List(ma.fields.Nested(HealthServiceSchema))
    beds = ma.fields.List(
        ma.fields.Nested(BedSchema),
        metadata={"description": "Hospitals: free beds by class, as last reported by staff."},
    )
    beds_updated_at = UTCDateTime(allow_none=True)
    is_demo = ma.fields.Boolean(metadata={"description": "Demo data, not verified facts"})
    updated_at = UTCDateTime()


class ServiceSummarySchema(ma.Schema):
    id = ma.fields.UUID()
    code = enum_field(SERVICE_CODES, metadata={"example": "umum"})
    name = ma.fields.String(metadata={"example": "Poli Umum"})
    name_en = ma.fields.String(allow_none=True, metadata={"example": "General clinic"})


class FacilitySummarySchema(FacilitySchema):
    """A search result: the facility without its poli's weekly sessions (read the facility for
    those)."""

    services = ma.fields.List(ma.fields.Nested(ServiceSummarySchema))


class FacilityCreateSchema(StrictSchema):
    name = _name(200, required=True)
    type = enum_field(FACILITY_TYPES, required=True)
    address = _name(300, required=True)
    kelurahan_code = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=13)
    )
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    phone = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=20)
    )
    emergency_24h = ma.fields.Boolean(load_default=False)
    accepts_bpjs = ma.fields.Boolean(load_default=True)
    opening_hours = ma.fields.List(
        ma.fields.Nested(OpeningHoursSchema), load_default=list, validate=ma.validate.Length(max=7)
    )
    services = ma.fields.List(
        ma.fields.Nested(HealthServiceSchema),
        load_default=list,
        validate=ma.validate.Length(max=30),
    )


class FacilityQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    lat = ma.fields.Float(
        validate=ma.validate.Range(-90, 90),
        metadata={"description": "WGS84; with `lon` (both or neither, else 422).", "example": 3.6},
    )
    lon = ma.fields.Float(
        validate=ma.validate.Range(-180, 180),
        metadata={
            "description": "WGS84; with `lat` (both or neither, else 422).",
            "example": 98.49,
        },
    )
    radius_m = ma.fields.Integer(
        load_default=5000,
        validate=ma.validate.Range(1, MAX_RADIUS_M),
        metadata={"description": "Search radius around lat/lon, in metres (default 5000)."},
    )
    type = enum_field(FACILITY_TYPES)
    service = enum_field(SERVICE_CODES, metadata={"description": "Has this poli."})
    emergency_24h = ma.fields.Boolean(metadata={"description": "Has (or has not) a 24-hour IGD."})
    accepts_bpjs = ma.fields.Boolean()
    open_now = ma.fields.Boolean()
    sort = ma.fields.String(
        validate=ma.validate.OneOf(
            ["distance", "-distance", "name", "-name", "updated_at", "-updated_at"]
        ),
        metadata={"description": "Default: `distance` near a point, else `name`."},
    )

    @ma.validates_schema
    def _point_complete(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("lat" in data) != ("lon" in data):
            raise ma.ValidationError(gettext("Give both lat and lon, or neither."), "lat")


class BedsPutSchema(StrictSchema):
    beds = ma.fields.List(
        ma.fields.Nested(BedSchema),
        required=True,
        validate=ma.validate.Length(max=len(BED_CLASSES)),
    )


class StaffLinkCreateSchema(StrictSchema):
    user_id = ma.fields.UUID(required=True, metadata={"description": "An officer's account."})


class StaffLinkSchema(ma.Schema):
    user_id = ma.fields.UUID()
    facility_id = ma.fields.UUID()
    created_at = UTCDateTime()


# --- the queue ----------------------------------------------------------------------------------


class PatientSchema(StrictSchema):
    name = _name(120, required=True, metadata={"example": "Budi"})
    nik = ma.fields.String(
        required=True,
        validate=_check_nik,
        metadata={
            "description": NIK_DESCRIPTION,
            "pattern": NIK_PATTERN,
            "example": "1275010501150002",
        },
    )


class WalkInPatientSchema(StrictSchema):
    name = _name(120, required=True)
    nik = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_check_nik,
        metadata={
            "description": NIK_DESCRIPTION + " Optional at the desk (a baby may have none yet).",
            "pattern": NIK_PATTERN,
        },
    )


class BookingCreateSchema(StrictSchema):
    facility_id = ma.fields.UUID(required=True)
    service_id = ma.fields.UUID(required=True, metadata={"description": "The poli."})
    day = ma.fields.Date(
        required=True,
        data_key="date",
        metadata={
            "description": "Local date (WIB), from today to QUEUE_BOOKING_DAYS_AHEAD (7) days "
            "ahead, on a weekday the poli holds a session and not a national holiday, cuti "
            "bersama or city day off (422 `outside_booking_window` / `service_closed`)."
        },
    )
    patient = ma.fields.Nested(
        PatientSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "A family member; omit to book for yourself."},
    )


class BookingSchema(FastDump):
    id = ma.fields.UUID()
    facility_id = ma.fields.UUID()
    facility_name = ma.fields.Function(
        lambda b: b.facility.name,
        metadata={"type": "string", "example": "UPTD Puskesmas Binjai Estate"},
    )
    service_id = ma.fields.UUID()
    service_name = ma.fields.Function(
        lambda b: b.service.name, metadata={"type": "string", "example": "Poli Umum"}
    )
    day = ma.fields.Date(data_key="date")
    queue_number = ma.fields.Integer(metadata={"example": 12})
    booking_code = ma.fields.String(
        metadata={"description": "Shown at the desk to check in.", "example": "K7M2QXPA"}
    )
    source = enum_field(("online", "walk_in"))
    status = enum_field(
        BOOKING_STATUSES,
        metadata={
            "description": "Transitions (status --action--> status): " + transitions_description()
        },
    )
    patient_name = ma.fields.String(metadata={"example": "Siti Aminah"})
    patient_nik = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "In full for the account that booked and the facility's staff; "
            "masked (`************0003`) for administrators.",
            "example": "1275014501900003",
        },
    )
    checked_in_at = UTCDateTime(allow_none=True)
    called_at = UTCDateTime(allow_none=True)
    finished_at = UTCDateTime(allow_none=True)
    cancelled_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class BookingStatusSchema(BookingSchema):
    now_calling = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "The number the poli is calling now (none yet today).",
            "example": 8,
        },
    )
    people_ahead = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "Waiting patients with a lower number (while waiting).",
            "example": 3,
        },
    )
    estimated_call_time = UTCDateTime(
        allow_none=True,
        metadata={
            "description": "When this number should be called: people ahead x the day's measured "
            "minutes per patient (the configured minutes until someone is served)."
        },
    )


class MyBookingsQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    status = enum_field(BOOKING_STATUSES)
    sort = sort_field("date", "updated_at", default="-date")


class FacilityQueueQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    day = ma.fields.Date(data_key="date", metadata={"description": "Default: today (WIB)."})
    service_id = ma.fields.UUID()
    status = enum_field(BOOKING_STATUSES)
    sort = sort_field("queue_number", "updated_at", default="queue_number")


class CheckInSchema(StrictSchema):
    booking_code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=4, max=12), metadata={"example": "K7M2QXPA"}
    )


class WalkInCreateSchema(StrictSchema):
    service_id = ma.fields.UUID(required=True)
    patient = ma.fields.Nested(WalkInPatientSchema, required=True)


class CallNextSchema(StrictSchema):
    service_id = ma.fields.UUID(required=True)


class SessionCancelSchema(StrictSchema):
    service_id = ma.fields.UUID(required=True)
    day = ma.fields.Date(required=True, data_key="date")
    reason = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=3, max=300), _check_text],
        metadata={"example": "Dokter cuti"},
    )


class SessionCancelResultSchema(ma.Schema):
    service_id = ma.fields.UUID()
    day = ma.fields.Date(data_key="date")
    status = enum_field(("open", "cancelled"))
    cancel_reason = ma.fields.String(allow_none=True)
    cancelled_bookings = ma.fields.Integer(metadata={"example": 14})


FACILITY_EXAMPLE: dict[str, Any] = {
    "name": "Klinik Pratama Sehat Binjai",
    "type": "clinic",
    "address": "Jl. Jenderal Sudirman No. 10, Binjai",
    "kelurahan_code": "12.75.02.1004",
    "lat": 3.6012,
    "lon": 98.4861,
    "phone": "0618820000",
    "emergency_24h": False,
    "accepts_bpjs": True,
    "opening_hours": [{"weekday": "monday", "opens_at": "08:00", "closes_at": "16:00"}],
    "services": [
        {
            "code": "umum",
            "name": "Poli Umum",
            "sessions": [
                {
                    "weekday": "monday",
                    "starts_at": "08:00",
                    "ends_at": "12:00",
                    "online_quota": 30,
                    "walk_in_quota": 20,
                    "minutes_per_patient": 8,
                }
            ],
        }
    ],
}
BEDS_EXAMPLE = {
    "beds": [
        {"bed_class": "kelas_3", "total": 40, "available": 6},
        {"bed_class": "icu", "total": 8, "available": 1},
    ]
}
BOOKING_EXAMPLE = {
    "facility_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "service_id": "6c1f3b7e-2a44-4d0a-9a55-3f1e8f2b9c10",
    "date": "2026-11-30",
}
