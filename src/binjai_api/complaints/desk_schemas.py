"""Shapes of the BCC desk: reply templates, reports filed for residents, officers' assignments."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.complaints.models import REPLY_TEMPLATE_ACTIONS
from binjai_api.complaints.schemas import (
    EXAMPLE_ID,
    ComplaintCreateSchema,
    ComplaintSchema,
    _statuses,
)
from binjai_api.complaints.states import ASSISTED_CHANNELS
from binjai_api.pagination import sort_field
from binjai_api.schemas import StrictSchema, UpdatedAfterQueryArgsSchema, UTCDateTime, enum_field

_BODY = ma.validate.Length(min=1, max=2000)
_PLACEHOLDER_HELP = (
    "Placeholders: `{tracking_number}`, `{category}`, `{agency}`, `{deadline}` (the running "
    "deadline as a long date, e.g. 12 Desember 2026) and `{officer_role}`; any other is refused "
    "(422). Write `{{` and `}}` for literal braces."
)


# --- reply templates ---------------------------------------------------------------------------


class ReplyTemplateSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String(metadata={"example": "Diteruskan ke dinas"})
    action = enum_field(
        REPLY_TEMPLATE_ACTIONS,
        allow_none=True,
        metadata={"description": "The action it answers (null: any action or comment)"},
    )
    category_id = ma.fields.UUID(allow_none=True, metadata={"description": "null: any category"})
    body = ma.fields.String(metadata={"description": "Indonesian text. " + _PLACEHOLDER_HELP})
    body_en = ma.fields.String(metadata={"description": "English text"})
    auto_apply = ma.fields.Boolean(
        metadata={
            "description": "Applied by itself when staff take the action without a note (the "
            "category's template before the one for every category)"
        }
    )
    is_active = ma.fields.Boolean()
    is_demo = ma.fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ReplyTemplateCreateSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))
    action = enum_field(REPLY_TEMPLATE_ACTIONS, load_default=None, allow_none=True)
    category_id = ma.fields.UUID(load_default=None, allow_none=True)
    body = ma.fields.String(
        required=True, validate=_BODY, metadata={"description": _PLACEHOLDER_HELP}
    )
    body_en = ma.fields.String(required=True, validate=_BODY)
    auto_apply = ma.fields.Boolean(load_default=False)


class ReplyTemplatePatchSchema(StrictSchema):
    name = ma.fields.String(validate=ma.validate.Length(min=2, max=120))
    action = enum_field(REPLY_TEMPLATE_ACTIONS, allow_none=True)
    category_id = ma.fields.UUID(allow_none=True)
    body = ma.fields.String(validate=_BODY)
    body_en = ma.fields.String(validate=_BODY)
    auto_apply = ma.fields.Boolean()
    is_active = ma.fields.Boolean()


REPLY_TEMPLATE_EXAMPLE = {
    "name": "Diteruskan ke dinas",
    "action": "dispatch",
    "category_id": None,
    "body": "Laporan {tracking_number} ({category}) telah diverifikasi dan diteruskan ke "
    "{agency}. Batas waktu tindak lanjut: {deadline}. Salam, {officer_role}.",
    "body_en": "Report {tracking_number} ({category}) was verified and sent to {agency}. "
    "Follow-up deadline: {deadline}. Regards, {officer_role}.",
    "auto_apply": True,
}


class ReplyTemplateQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    action = enum_field(
        REPLY_TEMPLATE_ACTIONS,
        metadata={"description": "Templates usable for this action (those for any included)"},
    )
    category_id = ma.fields.UUID(
        metadata={"description": "Templates usable in this category (those for any included)"}
    )
    include_inactive = ma.fields.Boolean(load_default=False)
    sort = sort_field("name", "updated_at", default="name")


# --- assisted intake ---------------------------------------------------------------------------


class ResidentSchema(StrictSchema):
    name = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=120), metadata={"example": "Budi"}
    )
    phone = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=20),
        metadata={
            "description": "Indonesian mobile number; required for phone, whatsapp and sms. "
            "Links the report to the resident's account when one has this number.",
            "example": "081234567890",
        },
    )
    email = ma.fields.Email(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=254),
        metadata={"description": "Required for the email channel"},
    )
    nik = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(r"^\d{16}$"),
        metadata={
            "description": "Only to find the resident's account; never stored on the report",
            "example": "1275014501900001",
        },
    )


class AssistedComplaintCreateSchema(ComplaintCreateSchema):
    channel = enum_field(
        ASSISTED_CHANNELS,
        required=True,
        metadata={"description": "How the resident reached the city"},
    )
    resident = ma.fields.Nested(ResidentSchema, required=True)


ASSISTED_COMPLAINT_EXAMPLE = {
    "channel": "phone",
    "resident": {"name": "Budi Santoso", "phone": "081234567890", "nik": None, "email": None},
    "type": "complaint",
    "category_id": EXAMPLE_ID,
    "title": "Jalan berlubang di Jl. Gatot Subroto",
    "description": "Penelepon melaporkan lubang besar di depan SD Negeri 2.",
    "lat": None,
    "lon": None,
    "address": "Jl. Gatot Subroto depan SD Negeri 2",
    "kelurahan_code": "12.75.01.1001",
    "privacy": "public",
    "answers": {"hole_size": "large"},
}


class AssistedComplaintSchema(ComplaintSchema):
    acknowledgement = ma.fields.String(
        metadata={
            "description": "To read out or paste back to the resident, with the tracking number",
            "example": "Laporan Anda telah kami terima dengan nomor BJI-2026-000123. ...",
        }
    )
    linked_account = ma.fields.Boolean(
        metadata={"description": "The resident's account was found by phone or NIK"}
    )


# --- field work --------------------------------------------------------------------------------


class AssignmentsQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    statuses = _statuses()
