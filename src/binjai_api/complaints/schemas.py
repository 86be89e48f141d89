"""Request and response shapes of complaints, their categories, comments and photos."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload

from binjai_api.complaints.questions import MAX_QUESTIONS, QuestionKind
from binjai_api.complaints.states import (
    Action,
    Actor,
    Channel,
    ComplaintType,
    Privacy,
    Source,
    Status,
)
from binjai_api.fastdump import FastDump
from binjai_api.i18n import gettext, lazy_gettext
from binjai_api.page_bounds import MAX_PAGE
from binjai_api.pagination import sort_field
from binjai_api.schemas import StrictSchema, UpdatedAfterQueryArgsSchema, UTCDateTime, enum_field

EXAMPLE_ID = "5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11"
PHOTO_PURPOSES = ("report", "resolution")
KELURAHAN_CODE = ma.validate.Regexp(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
KECAMATAN_CODE = ma.validate.Regexp(r"^\d{2}\.\d{2}\.\d{2}$")


# --- categories and their questions ------------------------------------------------------------

_QUESTION_CODE = [
    ma.validate.Length(min=1, max=40),
    # Also an Open311 attribute code, posted as `attribute[code]`.
    ma.validate.Regexp(
        r"^[a-z0-9_]+$", error=lazy_gettext("Use lower-case letters, digits and underscores.")
    ),
]
_LABEL = ma.validate.Length(min=1, max=200)
_STOP_MESSAGE = ma.validate.Length(min=1, max=500)


class QuestionChoiceSchema(StrictSchema):
    value = ma.fields.String(required=True, validate=_QUESTION_CODE)
    label = ma.fields.String(required=True, validate=_LABEL)
    label_en = ma.fields.String(required=True, validate=_LABEL)


class CategoryQuestionSchema(StrictSchema):
    """A typed extra question of a category; a stop blocks the submission on some answers."""

    code = ma.fields.String(required=True, validate=_QUESTION_CODE, metadata={"example": "depth"})
    kind = enum_field(QuestionKind, required=True)
    label = ma.fields.String(
        required=True, validate=_LABEL, metadata={"example": "Kedalaman air (cm)"}
    )
    label_en = ma.fields.String(
        required=True, validate=_LABEL, metadata={"example": "Water depth (cm)"}
    )
    help = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=500)
    )
    help_en = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=500)
    )
    required = ma.fields.Boolean(load_default=False)
    private = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The answer is shown to staff (and its author) only"},
    )
    choices = ma.fields.List(
        ma.fields.Nested(QuestionChoiceSchema),
        load_default=list,
        validate=ma.validate.Length(max=30),
        metadata={"description": "`choice` only: 2 to 30 choices"},
    )
    min = ma.fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=ma.validate.Range(-1e9, 1e9),
        metadata={"description": "`number` only"},
    )
    max = ma.fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=ma.validate.Range(-1e9, 1e9),
        metadata={"description": "`number` only"},
    )
    unit = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=20),
        metadata={"example": "cm"},
    )
    stop_values = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=40)),
        load_default=list,
        validate=ma.validate.Length(max=30),
        metadata={
            "description": "Answers that stop the submission (choice values, or `true`/`false` "
            "for yes/no): 422 `emergency_stop` with `stop_message`",
            "example": ["true"],
        },
    )
    stop_message = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_STOP_MESSAGE,
        metadata={"example": "Darurat? Hubungi 112 sekarang."},
    )
    stop_message_en = ma.fields.String(load_default=None, allow_none=True, validate=_STOP_MESSAGE)


class CategoryFormSchema(StrictSchema):
    """A category's intake form: its questions, a notice shown before submitting, and a stop
    message that blocks every submission under the category."""

    questions = ma.fields.List(
        ma.fields.Nested(CategoryQuestionSchema),
        required=True,
        validate=ma.validate.Length(max=MAX_QUESTIONS),
    )
    notice = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=1000),
        metadata={"example": "Foto lubang dari dekat membantu petugas."},
    )
    notice_en = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=1000)
    )
    stop_message = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=_STOP_MESSAGE,
        metadata={"description": "When set, every submission under the category is refused"},
    )
    stop_message_en = ma.fields.String(load_default=None, allow_none=True, validate=_STOP_MESSAGE)


class ComplaintCategorySchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "road_damage"})
    name = ma.fields.String(metadata={"example": "Jalan rusak / berlubang"})
    name_en = ma.fields.String(metadata={"example": "Damaged road / pothole"})
    description = ma.fields.String(allow_none=True)
    agency_id = ma.fields.UUID()
    follow_up_days = ma.fields.Integer(
        metadata={"description": "The agency's follow-up deadline in working days", "example": 5}
    )
    is_active = ma.fields.Boolean()
    is_demo = ma.fields.Boolean(metadata={"description": "Demo data, not verified facts"})
    questions = ma.fields.List(
        ma.fields.Nested(CategoryQuestionSchema),
        metadata={"description": "Extra questions to answer in `answers` when submitting"},
    )
    notice = ma.fields.String(
        allow_none=True, metadata={"description": "Shown before submitting (Indonesian)"}
    )
    notice_en = ma.fields.String(allow_none=True)
    stop_message = ma.fields.String(
        allow_none=True,
        metadata={"description": "When set, submissions under this category are refused"},
    )
    stop_message_en = ma.fields.String(allow_none=True)
    updated_at = UTCDateTime()


_CATEGORY_CODE = [
    ma.validate.Length(min=2, max=40),
    # Also Open311's service_code, which sits in a URL path.
    ma.validate.Regexp(
        r"^[a-z0-9_]+$", error=lazy_gettext("Use lower-case letters, digits and underscores.")
    ),
]


class ComplaintCategoryCreateSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=_CATEGORY_CODE)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))
    description = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=2000)
    )
    agency_id = ma.fields.UUID(required=True)
    follow_up_days = ma.fields.Integer(load_default=5, validate=ma.validate.Range(1, 60))


class ComplaintCategoryPatchSchema(StrictSchema):
    code = ma.fields.String(validate=_CATEGORY_CODE)
    name = ma.fields.String(validate=ma.validate.Length(min=2, max=120))
    name_en = ma.fields.String(validate=ma.validate.Length(min=2, max=120))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
    agency_id = ma.fields.UUID()
    follow_up_days = ma.fields.Integer(validate=ma.validate.Range(1, 60))
    is_active = ma.fields.Boolean()


COMPLAINT_CATEGORY_EXAMPLE = {
    "code": "illegal_parking",
    "name": "Parkir liar",
    "name_en": "Illegal parking",
    "description": "Parkir di bahu jalan atau trotoar",
    "agency_id": "7d1f5e0a-3b7c-4f6e-9a1d-2c8b4e6f0a11",
    "follow_up_days": 3,
}


class ComplaintCategoryQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    agency_id = ma.fields.UUID()
    include_inactive = ma.fields.Boolean(load_default=False)
    sort = sort_field("code", "name", "updated_at", default="code")


# --- submission --------------------------------------------------------------------------------


class ComplaintCreateSchema(StrictSchema):
    type = enum_field(ComplaintType, required=True)
    category_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=150))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    lat = ma.fields.Float(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(-90, 90),
        metadata={
            "description": "WGS84, with `lon`; must be inside Kota Binjai. A location is "
            "required: `lat` and `lon` together, or an `address`, or both.",
            "example": 3.6001,
        },
    )
    lon = ma.fields.Float(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(-180, 180),
        metadata={"description": "WGS84, with `lat`.", "example": 98.4853},
    )
    address = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=300),
        metadata={
            "description": "Required when there is no point (`lat` and `lon`): where to find "
            "the problem, in words.",
            "example": "Jl. Soekarno-Hatta No. 12, depan Toko Sejahtera",
        },
    )
    kelurahan_code = ma.fields.String(
        required=True,
        validate=KELURAHAN_CODE,
        metadata={"description": "Where the problem is (the app may preselect it from the map)"},
    )
    privacy = enum_field(
        Privacy,
        load_default=Privacy.PUBLIC.value,
        metadata={
            "description": "`public`: shown in the public feed without the reporter's name; "
            "`anonymous`: the reporter's identity is also hidden from the agency; "
            "`confidential`: the whole report is hidden from the public."
        },
    )
    answers = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(max=40)),
        values=ma.fields.Raw(allow_none=True),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=MAX_QUESTIONS),
        metadata={
            "description": "Answers to the category's `questions`, by question code: text, "
            "number, choice value, true/false, or a date YYYY-MM-DD. An answer listed in a "
            "question's `stop_values` (or a category with a `stop_message`) refuses the report "
            "with 422 `emergency_stop`.",
            "example": {"hole_size": "large"},
        },
    )


# What the schema alone cannot say (OpenAPI has no "one of these groups" for optional fields).
COMPLAINT_LOCATION_RULE = (
    "A report needs a location: a point (`lat` and `lon` together, inside Kota Binjai) or an "
    "`address`, or both. Without either, or with only one of `lat` and `lon`, the answer is "
    "422 naming the field."
)

# The two ways to say where: a point from the phone's map, or an address typed in.
COMPLAINT_EXAMPLES = {
    "point": {
        "summary": "Located by a point on the map",
        "value": {
            "type": "complaint",
            "category_id": EXAMPLE_ID,
            "title": "Jalan berlubang di Jl. Soekarno-Hatta",
            "description": "Lubang besar di depan toko nomor 12, berbahaya bagi pengendara motor.",
            "lat": 3.6001,
            "lon": 98.4853,
            "kelurahan_code": "12.75.02.1001",
            "privacy": "public",
        },
    },
    "address": {
        "summary": "Located by an address",
        "value": {
            "type": "complaint",
            "category_id": EXAMPLE_ID,
            "title": "Lampu jalan padam",
            "description": "Tiga lampu jalan padam sejak Senin, jalan gelap pada malam hari.",
            "address": "Jl. Gatot Subroto, depan Masjid Raya",
            "kelurahan_code": "12.75.02.1001",
            "privacy": "public",
        },
    },
}


class ComplaintPhotoSchema(ma.Schema):
    id = ma.fields.UUID()
    purpose = enum_field(
        PHOTO_PURPOSES,
        metadata={"description": "`report`: from the reporter; `resolution`: of the fix"},
    )
    media_type = ma.fields.String(metadata={"example": "image/jpeg"})
    url = ma.fields.String(
        metadata={
            "description": "Download path (never a storage path)",
            "example": f"/api/v1/public/complaints/{EXAMPLE_ID}/photos/{EXAMPLE_ID}",
        }
    )
    created_at = UTCDateTime()


class PublicComplaintSchema(FastDump):
    """A report as anyone may see it: never the reporter's identity."""

    id = ma.fields.UUID()
    tracking_number = ma.fields.String(metadata={"example": "BJI-2026-000123"})
    type = enum_field(ComplaintType)
    category_id = ma.fields.UUID()
    category_code = ma.fields.String(metadata={"example": "road_damage"})
    category_name = ma.fields.String(metadata={"example": "Jalan rusak / berlubang"})
    agency_id = ma.fields.UUID(metadata={"description": "The agency now responsible"})
    agency_code = ma.fields.String(metadata={"example": "PUPR"})
    agency_name = ma.fields.String()
    title = ma.fields.String(metadata={"example": "Jalan berlubang di Jl. Soekarno-Hatta"})
    description = ma.fields.String()
    lat = ma.fields.Float(allow_none=True, metadata={"example": 3.6001})
    lon = ma.fields.Float(allow_none=True, metadata={"example": 98.4853})
    address = ma.fields.String(allow_none=True)
    kelurahan_code = ma.fields.String(allow_none=True, metadata={"example": "12.75.02.1001"})
    kecamatan_code = ma.fields.String(allow_none=True, metadata={"example": "12.75.02"})
    status = enum_field(Status)
    status_label = ma.fields.String(metadata={"example": "Sent to the agency"})
    is_open = ma.fields.Boolean()
    due_at = UTCDateTime(
        allow_none=True,
        metadata={
            "description": "The deadline now running: verification (3 working days) while "
            "`submitted`, then the agency's follow-up (the category's working days)"
        },
    )
    is_overdue = ma.fields.Boolean()
    duplicate_of_id = ma.fields.UUID(allow_none=True)
    resolution_note = ma.fields.String(allow_none=True)
    resolved_at = UTCDateTime(allow_none=True)
    supporter_count = ma.fields.Integer(metadata={"description": 'Residents who said "saya juga"'})
    photos = ma.fields.List(ma.fields.Nested(ComplaintPhotoSchema))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class PublicComplaintEventSchema(ma.Schema):
    action = ma.fields.String(
        metadata={
            "example": "dispatch",
            "description": "`submit`, an action of the transitions table, or `escalate`: the "
            "deadline passed and the Command Center alerted the staff (no actor; the status "
            "is unchanged).",
        }
    )
    from_status = enum_field(Status, allow_none=True)
    to_status = enum_field(Status)
    created_at = UTCDateTime()


class ComplaintAnswerSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "hole_size"})
    kind = enum_field(QuestionKind)
    question = ma.fields.String(metadata={"example": "Ukuran lubang"})
    value = ma.fields.Raw(
        metadata={"description": "string, number or boolean by `kind`", "example": "large"}
    )
    value_label = ma.fields.String(allow_none=True, metadata={"example": "Besar (> 50 cm)"})
    unit = ma.fields.String(allow_none=True)
    private = ma.fields.Boolean()


class PublicComplaintDetailSchema(PublicComplaintSchema):
    history = ma.fields.List(ma.fields.Nested(PublicComplaintEventSchema))
    answers = ma.fields.List(
        ma.fields.Nested(ComplaintAnswerSchema),
        metadata={"description": "Answers to the category's questions, private ones left out"},
    )


class ComplaintListItemSchema(PublicComplaintSchema):
    privacy = enum_field(Privacy)
    assignee_id = ma.fields.UUID(allow_none=True, metadata={"description": "Staff only"})


class ComplaintReporterSchema(ma.Schema):
    id = ma.fields.UUID()
    full_name = ma.fields.String(metadata={"example": "Siti Aminah"})
    phone = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Masked for staff until revealed (POST …/contact-reveals)",
            "example": "**********7890",
        },
    )
    email = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Masked for staff until revealed (POST …/contact-reveals)",
            "example": "s****@example.com",
        },
    )


class ComplaintContactSchema(ma.Schema):
    name = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)


class ComplaintEventSchema(ma.Schema):
    action = ma.fields.String(
        metadata={
            "example": "transfer",
            "description": "`submit`, an action of the transitions table, or `escalate`: the "
            "deadline passed and the Command Center alerted the staff (no actor; the status "
            "is unchanged).",
        }
    )
    from_status = enum_field(Status, allow_none=True)
    to_status = enum_field(Status)
    actor_role = enum_field(Actor, allow_none=True)
    actor_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "Staff only, and never for an anonymous reporter"},
    )
    from_agency_id = ma.fields.UUID(allow_none=True)
    to_agency_id = ma.fields.UUID(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = UTCDateTime()


class ComplaintSchema(ComplaintListItemSchema):
    """A report with its timeline, for its reporter and the staff handling it."""

    reporter = ma.fields.Nested(
        ComplaintReporterSchema,
        allow_none=True,
        metadata={"description": "Staff only; null when the report is anonymous"},
    )
    contact = ma.fields.Nested(
        ComplaintContactSchema,
        allow_none=True,
        metadata={
            "description": "Contact given through an integrator; hidden when anonymous; phone "
            "and email masked for staff until revealed"
        },
    )
    contact_masked = ma.fields.Boolean(
        metadata={
            "description": "Whether the reporter's phone and email in this answer are masked: "
            "the officer handling the report, or an operator, reveals them with "
            "`POST /api/v1/complaints/{id}/contact-reveals`"
        }
    )
    source = enum_field(Source)
    channel = enum_field(
        Channel,
        metadata={
            "description": "How the report reached the city: `app`, `open311`, or filed by "
            "staff for a resident (`walk_in`, `phone`, `whatsapp`, `sms`, `email`)"
        },
    )
    answers = ma.fields.List(
        ma.fields.Nested(ComplaintAnswerSchema),
        metadata={"description": "Private answers only for staff and the reporter"},
    )
    rating = ma.fields.Integer(allow_none=True)
    rating_feedback = ma.fields.String(allow_none=True)
    reopen_until = UTCDateTime(
        allow_none=True, metadata={"description": "Last moment to reopen or rate"}
    )
    history = ma.fields.List(ma.fields.Nested(ComplaintEventSchema))


# --- lists -------------------------------------------------------------------------------------


class CommaSeparated(ma.fields.String):
    """Several values in one query parameter, `a,b,c`; its errors stay flat (one list of
    messages per parameter, as in every problem+json)."""

    def __init__(self, item: ma.fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item = item

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not parts or len(parts) > 20:
            raise ma.ValidationError(gettext("Give 1 to 20 comma-separated values."))
        try:
            return [self.item.deserialize(part) for part in parts]
        except ma.ValidationError as error:
            messages = error.messages if isinstance(error.messages, list) else [str(error)]
            raise ma.ValidationError([str(message) for message in messages]) from None


def _statuses() -> CommaSeparated:
    """`?status=a,b`, loaded as the service's `statuses`."""
    return CommaSeparated(
        enum_field(Status),
        data_key="status",
        metadata={
            "description": "One or more statuses, comma-separated: "
            + ", ".join(f"`{s.value}`" for s in Status),
            "example": "dispatched,in_progress",
        },
    )


class MyComplaintsQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    statuses = _statuses()
    sort = sort_field("created_at", "updated_at", default="-created_at")


class QueueQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    statuses = _statuses()
    overdue = ma.fields.Boolean(metadata={"description": "Only reports past (or within) due"})
    category_id = ma.fields.UUID()
    agency_id = ma.fields.UUID(metadata={"description": "Operators only; officers see their own"})
    kecamatan_code = ma.fields.String(validate=KECAMATAN_CODE)
    assigned_to_me = ma.fields.Boolean()
    sort = sort_field("created_at", "updated_at", "due_at", default="due_at")


class BoundingBox(ma.fields.String):
    """`min_lon,min_lat,max_lon,max_lat`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parts = tuple(float(part) for part in text.split(","))
        except ValueError:
            raise ma.ValidationError(gettext("Give min_lon,min_lat,max_lon,max_lat.")) from None
        if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
            raise ma.ValidationError(gettext("Give min_lon,min_lat,max_lon,max_lat."))
        if not all(abs(part) <= 180 for part in parts):
            raise ma.ValidationError(gettext("Give min_lon,min_lat,max_lon,max_lat."))
        return parts


class PublicComplaintsQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    category_ids = CommaSeparated(
        ma.fields.UUID(),
        data_key="category_id",
        metadata={"description": "One or more category ids, comma-separated"},
    )
    statuses = _statuses()
    kecamatan_code = ma.fields.String(validate=KECAMATAN_CODE)
    bbox = BoundingBox(
        metadata={
            "description": "min_lon,min_lat,max_lon,max_lat (WGS84)",
            "example": "98.45,3.57,98.52,3.63",
        }
    )
    tracking_number = ma.fields.String(
        validate=ma.validate.Length(max=20), metadata={"example": "BJI-2026-000123"}
    )
    sort = sort_field("created_at", "updated_at", default="-created_at")


class NearbyComplaintsQueryArgsSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    radius_m = ma.fields.Integer(load_default=200, validate=ma.validate.Range(10, 2000))
    category_id = ma.fields.UUID()


class ComplaintGeoJsonQueryArgsSchema(PublicComplaintsQueryArgsSchema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(
        load_default=100,
        validate=ma.validate.Range(1, 500),
        metadata={"description": "Features per page (1-500)"},
    )


class ComplaintGeoJsonGeometrySchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "Point"})
    coordinates = ma.fields.List(
        ma.fields.Float(), metadata={"description": "[lon, lat]", "example": [98.4853, 3.6001]}
    )


class ComplaintGeoJsonPropertiesSchema(ma.Schema):
    id = ma.fields.UUID()
    tracking_number = ma.fields.String(metadata={"example": "BJI-2026-000123"})
    type = enum_field(ComplaintType)
    category_code = ma.fields.String(metadata={"example": "road_damage"})
    title = ma.fields.String()
    status = enum_field(Status)
    is_open = ma.fields.Boolean()
    is_overdue = ma.fields.Boolean()
    agency_code = ma.fields.String(metadata={"example": "PUPR"})
    kecamatan_code = ma.fields.String(allow_none=True)
    supporter_count = ma.fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ComplaintGeoJsonFeatureSchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "Feature"})
    id = ma.fields.UUID()
    geometry = ma.fields.Nested(ComplaintGeoJsonGeometrySchema)
    properties = ma.fields.Nested(ComplaintGeoJsonPropertiesSchema)


class ComplaintGeoJsonFeatureCollectionSchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "FeatureCollection"})
    features = ma.fields.List(ma.fields.Nested(ComplaintGeoJsonFeatureSchema))


# --- actions -----------------------------------------------------------------------------------


def _template_id() -> ma.fields.UUID:
    return ma.fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Staff: answer with this reply template, rendered in the resident's "
            "language; a `note` (or comment `body`) beside it follows the template's text. "
            "Without a note, the action's automatic template applies if there is one."
        },
    )


def _template_overrides() -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(max=40)),
        values=ma.fields.String(validate=ma.validate.Length(max=200)),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=5),
        metadata={
            "description": "Placeholder values replacing the computed ones: tracking_number, "
            "category, agency, deadline, officer_role",
            "example": {"deadline": "Jumat, 11 Desember 2026"},
        },
    )


class ComplaintTransitionSchema(StrictSchema):
    action = enum_field(Action, required=True)
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Reason or note; required by reject, transfer, resolve, reopen"},
    )
    agency_id = ma.fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "dispatch, transfer"}
    )
    duplicate_of_id = ma.fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "mark_duplicate"}
    )
    rating = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(1, 5),
        metadata={"description": "rate: 1 to 5"},
    )
    template_id = _template_id()
    template_overrides = _template_overrides()


TRANSITION_EXAMPLE = {
    "action": "transfer",
    "note": "Saluran ini kewenangan Dinas Perkim, bukan PUPR.",
    "agency_id": EXAMPLE_ID,
}


class ComplaintCommentCreateSchema(StrictSchema):
    body = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=4000),
        metadata={"description": "Required unless `template_id` is given"},
    )
    internal = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "An internal note, for staff only; the resident never sees it"},
    )
    template_id = _template_id()
    template_overrides = _template_overrides()


COMMENT_EXAMPLE = {"body": "Tim kami akan meninjau lokasi besok pagi.", "internal": False}


class ComplaintCommentSchema(ma.Schema):
    id = ma.fields.UUID()
    body = ma.fields.String(metadata={"example": "Tim kami akan meninjau lokasi besok pagi."})
    is_internal = ma.fields.Boolean()
    author_role = enum_field(Actor)
    is_mine = ma.fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ComplaintCommentQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    pass


class ComplaintPhotoUploadSchema(ma.Schema):
    file = Upload(
        required=True,
        metadata={"description": "JPEG, PNG or WebP, at most 5 MB; EXIF and GPS are removed"},
    )


class ContactRevealCreateSchema(StrictSchema):
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=10, max=500),
        metadata={
            "description": "Why the contact is needed (10 to 500 characters), kept in the audit "
            "trail"
        },
    )


CONTACT_REVEAL_EXAMPLE = {"reason": "Menelepon pelapor untuk memastikan lokasi lubang jalan"}


class ContactRevealSchema(ma.Schema):
    """The reporter's contact details unmasked, for the officer handling the report or an
    operator; the reveal is in the audit trail."""

    complaint_id = ma.fields.UUID(metadata={"example": "7c9e6679-7425-40de-944b-e07fc1f90ae7"})
    reporter = ma.fields.Nested(
        ComplaintReporterSchema,
        allow_none=True,
        metadata={
            "description": "Null when the report came without an account (an integrator)",
            "example": {
                "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "full_name": "Siti Aminah",
                "phone": "+6281234567890",
                "email": "siti.aminah@example.com",
            },
        },
    )
    contact = ma.fields.Nested(ComplaintContactSchema, allow_none=True)
    reason = ma.fields.String(
        metadata={"example": "Menelepon pelapor untuk memastikan lokasi lubang jalan"}
    )
    revealed_at = UTCDateTime(metadata={"example": "2026-12-04T03:15:42Z"})
