"""Schemas of the command center's overview, overdue list and wall map."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma

from binjai_api.complaints.states import ComplaintType
from binjai_api.complaints.states import Status as ComplaintStatus
from binjai_api.db import utcnow
from binjai_api.deadlines import ItemType, WaitingOn
from binjai_api.i18n import lazy_gettext
from binjai_api.ops.service import Period
from binjai_api.pagination import sort_field
from binjai_api.schemas import StrictSchema, UTCDateTime, enum_field
from binjai_api.workcalendar.service import local_date

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366

# --- query arguments ------------------------------------------------------------------------------


class PeriodQueryArgsSchema(StrictSchema):
    """`from`/`to`: local dates (WIB), both included; default the 30 days ending today."""

    first_day = ma.fields.Date(
        data_key="from",
        metadata={
            "description": "First local date (YYYY-MM-DD, WIB), from 00:00. Default: 29 days "
            "before `to`.",
            "example": "2026-12-01",
        },
    )
    last_day = ma.fields.Date(
        data_key="to",
        metadata={
            "description": "Last local date, included to its end. Default: today.",
            "example": "2026-12-31",
        },
    )
    agency_id = ma.fields.UUID(
        metadata={
            "description": "One agency's figures (operators, admins). Officers always see "
            "their own agency; another one is 403."
        }
    )

    @ma.post_load
    def make_period(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        last = data.pop("last_day", None) or local_date(utcnow())
        first = data.pop("first_day", None) or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if first > last:
            raise ma.ValidationError(
                str(lazy_gettext("`from` must not be after `to`.")), field_name="from"
            )
        if (last - first).days + 1 > MAX_PERIOD_DAYS:
            raise ma.ValidationError(
                str(lazy_gettext("The period may not be longer than 366 days.")),
                field_name="from",
            )
        data["period"] = Period(first, last)
        return data


class OverdueQueryArgsSchema(StrictSchema):
    item_type = enum_field(ItemType, metadata={"description": "Only this kind of item."})
    waiting_on = enum_field(WaitingOn, metadata={"description": "Only items waiting on them."})
    agency_id = ma.fields.UUID(
        metadata={"description": "Only this agency's items (officers: their own only)."}
    )


class HeatmapQueryArgsSchema(PeriodQueryArgsSchema):
    by = ma.fields.String(
        load_default="kelurahan",
        validate=ma.validate.OneOf(["kelurahan", "grid"]),
        metadata={"description": "One feature per kelurahan (default) or per square grid cell."},
    )
    cell_m = ma.fields.Integer(
        load_default=500,
        validate=ma.validate.Range(100, 5000),
        metadata={"description": "Grid cell side in metres (100-5000), with `by=grid`."},
    )
    status = enum_field(ComplaintStatus, metadata={"description": "Only reports in this status."})
    category_id = ma.fields.UUID(metadata={"description": "Only reports of this category."})
    type = enum_field(ComplaintType, metadata={"description": "Only reports of this type."})


# --- the overview ---------------------------------------------------------------------------------


class OpsAgencyRefSchema(ma.Schema):
    id = ma.fields.UUID(metadata={"example": "6f1c2a8e-8d5b-4e0f-9a51-3a0b7d2c9e11"})
    code = ma.fields.String(metadata={"example": "PUPR"})
    name = ma.fields.String(metadata={"example": "Dinas Pekerjaan Umum dan Penataan Ruang"})


class WithinDeadlineSchema(ma.Schema):
    with_deadline = ma.fields.Integer(
        metadata={"description": "Closing steps that had a deadline running.", "example": 40}
    )
    on_time = ma.fields.Integer(
        metadata={"description": "Of those, taken at or before the deadline.", "example": 34}
    )
    share = ma.fields.Float(
        allow_none=True,
        metadata={"description": "on_time / with_deadline (null: none).", "example": 0.85},
    )


class DurationSchema(ma.Schema):
    median = ma.fields.Float(
        allow_none=True,
        metadata={"description": "Seconds (null: no item in the period).", "example": 86400.0},
    )
    p90 = ma.fields.Float(
        allow_none=True,
        metadata={"description": "90th percentile, seconds (percentile_cont).", "example": 1.5e5},
    )


class AgencyOverdueSchema(ma.Schema):
    agency = ma.fields.Nested(OpsAgencyRefSchema, allow_none=True)
    overdue = ma.fields.Integer(metadata={"example": 3})


class DomainOverviewSchema(ma.Schema):
    by_status = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={
            "description": "Items opened in the period, by current status (every status).",
            "example": {"submitted": 2, "dispatched": 5, "resolved": 12},
        },
    )
    by_channel = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={
            "description": "complaints only: reports opened in the period by how they reached "
            "the city (app, open311, or filed by staff: walk_in, phone, whatsapp, sms, email).",
            "example": {"app": 12, "open311": 2, "walk_in": 1, "phone": 3, "whatsapp": 1},
            "x-optional": True,  # complaints only
        },
    )
    opened = ma.fields.Integer(metadata={"description": "Opened in the period.", "example": 19})
    closed = ma.fields.Integer(
        metadata={"description": "Reached a final outcome in the period.", "example": 14}
    )
    closed_within_deadline = ma.fields.Nested(WithinDeadlineSchema)
    durations = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(DurationSchema),
        metadata={
            "description": "complaints: time_to_verify, time_to_resolve; permit_applications: "
            "time_to_verify, time_to_issue; queue_bookings: time_to_call.",
            "example": {"time_to_verify": {"median": 5400.0, "p90": 86400.0}},
        },
    )
    overdue_by_agency = ma.fields.List(
        ma.fields.Nested(AgencyOverdueSchema),
        metadata={"description": "Overdue now, per agency that must act."},
    )


class AreaCountsSchema(ma.Schema):
    code = ma.fields.String(
        allow_none=True, metadata={"description": "null: unknown", "example": "12.75.01.1001"}
    )
    name = ma.fields.String(allow_none=True, metadata={"example": "Tanah Tinggi"})
    opened = ma.fields.Integer(metadata={"description": "Opened in the period.", "example": 4})
    open = ma.fields.Integer(metadata={"description": "Open now.", "example": 2})
    overdue = ma.fields.Integer(metadata={"description": "Overdue now.", "example": 1})


class KecamatanCountsSchema(AreaCountsSchema):
    kelurahan = ma.fields.List(ma.fields.Nested(AreaCountsSchema))


OVERVIEW_EXAMPLE: dict[str, Any] = {
    "generated_at": "2026-12-31T03:00:00.000000Z",
    "from": "2026-12-01",
    "to": "2026-12-31",
    "agency": None,
    "complaints": {
        "by_status": {
            "submitted": 2,
            "dispatched": 3,
            "in_progress": 1,
            "resolved": 6,
            "closed": 4,
            "rejected": 1,
            "duplicate": 0,
            "reopened": 0,
        },
        "opened": 17,
        "closed": 11,
        "closed_within_deadline": {"with_deadline": 11, "on_time": 9, "share": 0.8182},
        "durations": {
            "time_to_verify": {"median": 14400.0, "p90": 172800.0},
            "time_to_resolve": {"median": 259200.0, "p90": 604800.0},
        },
        "overdue_by_agency": [
            {
                "agency": {
                    "id": "6f1c2a8e-8d5b-4e0f-9a51-3a0b7d2c9e11",
                    "code": "PUPR",
                    "name": "Dinas Pekerjaan Umum dan Penataan Ruang",
                },
                "overdue": 2,
            }
        ],
    },
    "permit_applications": {
        "by_status": {"submitted": 1, "awaiting_decision": 1, "issued": 5, "rejected": 1},
        "opened": 8,
        "closed": 6,
        "closed_within_deadline": {"with_deadline": 6, "on_time": 6, "share": 1.0},
        "durations": {
            "time_to_verify": {"median": 90000.0, "p90": 180000.0},
            "time_to_issue": {"median": 432000.0, "p90": 600000.0},
        },
        "overdue_by_agency": [],
    },
    "queue_bookings": {
        "by_status": {"booked": 3, "served": 40, "no_show": 2, "cancelled": 1},
        "opened": 46,
        "closed": 43,
        "closed_within_deadline": {"with_deadline": 40, "on_time": 39, "share": 0.975},
        "durations": {"time_to_call": {"median": 1500.0, "p90": 3600.0}},
        "overdue_by_agency": [],
    },
    "complaints_by_area": [
        {
            "code": "12.75.01",
            "name": "Binjai Selatan",
            "opened": 5,
            "open": 3,
            "overdue": 1,
            "kelurahan": [
                {
                    "code": "12.75.01.1001",
                    "name": "Tanah Tinggi",
                    "opened": 5,
                    "open": 3,
                    "overdue": 1,
                }
            ],
        }
    ],
}


class OverviewSchema(ma.Schema):
    generated_at = UTCDateTime(metadata={"description": "When these figures were computed."})
    first_day = ma.fields.Date(data_key="from", metadata={"example": "2026-12-01"})
    last_day = ma.fields.Date(data_key="to", metadata={"example": "2026-12-31"})
    agency = ma.fields.Nested(
        OpsAgencyRefSchema, allow_none=True, metadata={"description": "null: every agency"}
    )
    complaints = ma.fields.Nested(DomainOverviewSchema)
    permit_applications = ma.fields.Nested(DomainOverviewSchema)
    queue_bookings = ma.fields.Nested(DomainOverviewSchema)
    complaints_by_area = ma.fields.List(
        ma.fields.Nested(KecamatanCountsSchema),
        metadata={
            "description": "Per kecamatan and kelurahan (code null: reports without a known area)."
        },
    )

    class Meta:
        ordered = True


# --- the overdue list -----------------------------------------------------------------------------


class OverdueItemSchema(ma.Schema):
    item_type = enum_field(ItemType)
    item_id = ma.fields.UUID()
    reference = ma.fields.String(metadata={"example": "BJI-2026-000123"})
    title = ma.fields.String(metadata={"example": "Jalan berlubang di Jl. Sudirman"})
    agency = ma.fields.Nested(OpsAgencyRefSchema, allow_none=True)
    step = ma.fields.String(metadata={"example": "follow_up"})
    waiting_on = enum_field(WaitingOn)
    due_at = UTCDateTime()
    overdue_seconds = ma.fields.Integer(metadata={"example": 93600})
    link = ma.fields.String(metadata={"example": "/api/v1/complaints/9b2f0c1e-..."})
    escalated_at = UTCDateTime(
        allow_none=True, metadata={"description": "Latest escalation of this deadline, if any."}
    )


OVERDUE_EXAMPLE = [
    {
        "item_type": "complaint",
        "item_id": "9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
        "reference": "BJI-2026-000123",
        "title": "Jalan berlubang di Jl. Sudirman",
        "agency": {
            "id": "6f1c2a8e-8d5b-4e0f-9a51-3a0b7d2c9e11",
            "code": "PUPR",
            "name": "Dinas Pekerjaan Umum dan Penataan Ruang",
        },
        "step": "follow_up",
        "waiting_on": "agency_officer",
        "due_at": "2026-12-29T16:59:59.000000Z",
        "overdue_seconds": 93600,
        "link": "/api/v1/complaints/9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
        "escalated_at": "2026-12-29T17:05:00.000000Z",
    }
]
OVERDUE_CSV_COLUMNS = (
    "item_type",
    "item_id",
    "reference",
    "title",
    "agency_code",
    "agency_name",
    "step",
    "waiting_on",
    "due_at",
    "overdue_seconds",
    "link",
    "escalated_at",
)

OVERDUE_CSV_EXAMPLE = (
    "complaint",
    "9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
    "BJI-2026-000123",
    "Jalan berlubang di Jl. Sudirman",
    "PUPR",
    "Dinas Pekerjaan Umum dan Penataan Ruang",
    "follow_up",
    "agency_officer",
    "2026-12-29T16:59:59Z",
    93600,
    "/api/v1/complaints/9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
    "2026-12-29T17:05:00Z",
)


# --- the wall map ---------------------------------------------------------------------------------


class HeatmapGeometrySchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "Point"})
    coordinates = ma.fields.Raw(
        metadata={
            "description": "Point: [lon, lat]; Polygon: one ring of [lon, lat], counterclockwise.",
            "example": [98.4853, 3.6001],
        }
    )


class HeatmapPropertiesSchema(ma.Schema):
    kelurahan_code = ma.fields.String(allow_none=True, metadata={"example": "12.75.01.1001"})
    kelurahan_name = ma.fields.String(allow_none=True, metadata={"example": "Tanah Tinggi"})
    kecamatan_code = ma.fields.String(allow_none=True, metadata={"example": "12.75.01"})
    kecamatan_name = ma.fields.String(allow_none=True, metadata={"example": "Binjai Selatan"})
    cell = ma.fields.String(
        metadata={
            "description": "by=grid: row:column of the cell.",
            "example": "6511:24717",
            "x-optional": True,  # only by=grid
        }
    )
    center_lat = ma.fields.Float(
        metadata={"description": "by=grid", "example": 3.6001, "x-optional": True}
    )
    center_lon = ma.fields.Float(
        metadata={"description": "by=grid", "example": 98.4853, "x-optional": True}
    )
    count = ma.fields.Integer(metadata={"example": 12})
    open = ma.fields.Integer(metadata={"example": 5})
    overdue = ma.fields.Integer(metadata={"example": 1})


class HeatmapFeatureSchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "Feature"})
    id = ma.fields.String(allow_none=True, metadata={"example": "12.75.01.1001"})
    geometry = ma.fields.Nested(HeatmapGeometrySchema, allow_none=True)
    properties = ma.fields.Nested(HeatmapPropertiesSchema)


class HeatmapSchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "FeatureCollection"})
    features = ma.fields.List(ma.fields.Nested(HeatmapFeatureSchema))


HEATMAP_EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "12.75.01.1001",
            "geometry": {"type": "Point", "coordinates": [98.4853, 3.6001]},
            "properties": {
                "kelurahan_code": "12.75.01.1001",
                "kelurahan_name": "Tanah Tinggi",
                "kecamatan_code": "12.75.01",
                "kecamatan_name": "Binjai Selatan",
                "count": 12,
                "open": 5,
                "overdue": 1,
            },
        }
    ],
}
HEATMAP_CSV_COLUMNS = (
    "feature",
    "kelurahan_code",
    "kelurahan_name",
    "kecamatan_code",
    "kecamatan_name",
    "lat",
    "lon",
    "count",
    "open",
    "overdue",
)
HEATMAP_CSV_EXAMPLE = (
    "12.75.01.1001",
    "12.75.01.1001",
    "Tanah Tinggi",
    "12.75.01",
    "Binjai Selatan",
    3.6001,
    98.4853,
    12,
    5,
    1,
)
GEOJSON_MEDIA_TYPE = "application/geo+json"
OVERVIEW_CSV_COLUMNS = ("section", "figure", "key", "value")


# --- escalations ----------------------------------------------------------------------------------


class EscalationQueryArgsSchema(StrictSchema):
    item_type = enum_field(ItemType, metadata={"description": "Only this kind of item."})
    item_id = ma.fields.UUID(
        metadata={"description": "One item's escalations (a queue session: its queue day)."}
    )
    agency_id = ma.fields.UUID(
        metadata={
            "description": "Only this agency's escalations. Officers always see their own "
            "agency; another one is 403."
        }
    )
    sort = sort_field("escalated_at", "deadline", default="-escalated_at")


class EscalationSchema(ma.Schema):
    id = ma.fields.UUID()
    item_type = enum_field(ItemType)
    item_id = ma.fields.UUID()
    reference = ma.fields.String(
        metadata={
            "description": "Tracking or application number; a queue session's date.",
            "example": "BJI-2026-000123",
        }
    )
    title = ma.fields.String(metadata={"example": "Jalan berlubang di Jl. Sudirman"})
    step = ma.fields.String(metadata={"example": "follow_up"})
    agency_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "The agency answerable for the step; null while the BCC must."},
    )
    deadline = UTCDateTime(metadata={"description": "The deadline that was missed."})
    escalated_at = UTCDateTime()
    notified_count = ma.fields.Integer(
        metadata={"description": "Staff notified (officers and BCC operators).", "example": 4}
    )
    link = ma.fields.String(
        metadata={"example": "/api/v1/complaints/9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10"}
    )


ESCALATION_EXAMPLE = [
    {
        "id": "3c7d9e2a-1b4f-4c8e-9a6d-5e2f1a0b3c4d",
        "item_type": "complaint",
        "item_id": "9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
        "reference": "BJI-2026-000123",
        "title": "Jalan berlubang di Jl. Sudirman",
        "step": "follow_up",
        "agency_id": "6f1c2a8e-8d5b-4e0f-9a51-3a0b7d2c9e11",
        "deadline": "2026-12-29T16:59:59.000000Z",
        "escalated_at": "2026-12-29T17:00:30.000000Z",
        "notified_count": 4,
        "link": "/api/v1/complaints/9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
    }
]
ESCALATION_CSV_EXAMPLE = (
    "3c7d9e2a-1b4f-4c8e-9a6d-5e2f1a0b3c4d",
    "complaint",
    "9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
    "BJI-2026-000123",
    "Jalan berlubang di Jl. Sudirman",
    "follow_up",
    "6f1c2a8e-8d5b-4e0f-9a51-3a0b7d2c9e11",
    "2026-12-29T16:59:59Z",
    "2026-12-29T17:00:30Z",
    4,
    "/api/v1/complaints/9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
)
