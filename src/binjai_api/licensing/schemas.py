"""Request and response shapes of licensing: permit types, applications, bills and permits."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload

from binjai_api import uploads
from binjai_api.i18n import gettext
from binjai_api.licensing import permits, service
from binjai_api.licensing.workflow import STATUSES, USER_ACTIONS, Actor, Clock, Status, Step
from binjai_api.pagination import sort_field
from binjai_api.schemas import (
    ComputedNested,
    StrictSchema,
    UpdatedAfterQueryArgsSchema,
    UTCDateTime,
    enum_field,
)

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
ACCEPTED_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG, uploads.WEBP)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
PERMIT_STATUSES = ("active", "revoked")
BILL_STATUSES = ("unpaid", "paid")


# --- permit types ------------------------------------------------------------------------------


class PermitFormFieldSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(CODE_PATTERN))
    label = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    label_en = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    type = enum_field(service.FIELD_TYPES, required=True)
    required = ma.fields.Boolean(load_default=False)
    choices = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=50),
        metadata={"description": "The allowed values of a `choice` field."},
    )
    on_permit = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Printed on the permit as the object of the permit, in this order. "
            "A `kelurahan` field's value is a Kemendagri code (`12.75.01.1001`)."
        },
    )

    @ma.validates_schema
    def _check_choices(self, data: dict[str, Any], **_kwargs: object) -> None:
        if data.get("type") == "choice" and not data.get("choices"):
            raise ma.ValidationError(gettext("A choice field needs its choices."), "choices")


class PermitDocumentRequirementSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(CODE_PATTERN))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    required = ma.fields.Boolean(load_default=True)
    accepted_types = ma.fields.List(
        enum_field(ACCEPTED_TYPES),
        required=True,
        validate=ma.validate.Length(min=1, max=len(ACCEPTED_TYPES)),
    )
    max_size_bytes = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1024, max=MAX_DOCUMENT_BYTES),
        metadata={"example": 2 * 1024 * 1024},
    )


_DAYS = ma.validate.Range(min=1, max=60)


class PermitStepDeadlinesSchema(StrictSchema):
    """Deadlines in working days (Monday to Friday, minus national holidays, cuti bersama and
    the city's days off)."""

    verification = ma.fields.Integer(required=True, validate=_DAYS)
    technical_review = ma.fields.Integer(
        validate=_DAYS, metadata={"description": "Required when there is a technical agency."}
    )
    decision = ma.fields.Integer(required=True, validate=_DAYS)
    issuance = ma.fields.Integer(required=True, validate=_DAYS)
    applicant_correction = ma.fields.Integer(
        required=True,
        validate=_DAYS,
        metadata={"description": "The applicant's default time to correct the application."},
    )
    payment = ma.fields.Integer(
        required=True, validate=_DAYS, metadata={"description": "The applicant's time to pay."}
    )


def _duplicate_codes(items: list[dict[str, Any]] | None) -> bool:
    codes = [item["code"] for item in items or []]
    return len(codes) != len(set(codes))


class PermitTypeCreateSchema(StrictSchema):
    code = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=2, max=30), ma.validate.Regexp(r"^[A-Za-z0-9_-]+$")],
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))
    description = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=4000)
    )
    issuing_agency_id = ma.fields.UUID(required=True)
    technical_agency_id = ma.fields.UUID(load_default=None, allow_none=True)
    form_fields = ma.fields.List(
        ma.fields.Nested(PermitFormFieldSchema),
        load_default=list,
        validate=ma.validate.Length(max=50),
    )
    document_requirements = ma.fields.List(
        ma.fields.Nested(PermitDocumentRequirementSchema),
        load_default=list,
        validate=ma.validate.Length(max=30),
    )
    step_deadlines = ma.fields.Nested(PermitStepDeadlinesSchema, required=True)
    levy_idr = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=10_000_000_000),
        metadata={"description": "The retribusi in rupiah; null when there is none."},
    )
    validity_months = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=240))
    conditions = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=500)),
        load_default=list,
        validate=ma.validate.Length(max=20),
        metadata={
            "description": "Conditions printed on every permit of this type, in Indonesian.",
            "example": ["Reklame wajib dipasang sesuai desain dan lokasi yang disetujui."],
        },
    )

    @ma.validates_schema
    def _check_codes(self, data: dict[str, Any], **_kwargs: object) -> None:
        errors = {
            name: [gettext("Codes must be unique.")]
            for name in ("form_fields", "document_requirements")
            if _duplicate_codes(data.get(name))
        }
        if errors:
            raise ma.ValidationError(errors)


class PermitTypePatchSchema(PermitTypeCreateSchema):
    """Only the fields given change; a list or the deadlines given are replaced whole."""

    is_active = ma.fields.Boolean()


# Partial on the top-level fields only: nested entries (form fields, requirements, deadlines) are
# always complete.
PERMIT_TYPE_PATCH = PermitTypePatchSchema(partial=tuple(PermitTypePatchSchema._declared_fields))


PERMIT_TYPE_EXAMPLE = {
    "code": "TDUP",
    "name": "Tanda Daftar Usaha Pariwisata",
    "name_en": "Tourism business registration",
    "description": "Pendaftaran usaha pariwisata (demo)",
    "issuing_agency_id": "5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11",
    "technical_agency_id": None,
    "form_fields": [
        {
            "code": "nama_usaha",
            "label": "Nama usaha",
            "label_en": "Business name",
            "type": "text",
            "required": True,
        }
    ],
    "document_requirements": [
        {
            "code": "ktp",
            "name": "KTP pemilik",
            "name_en": "Owner's ID card",
            "required": True,
            "accepted_types": ["application/pdf", "image/jpeg"],
            "max_size_bytes": 2097152,
        }
    ],
    "step_deadlines": {
        "verification": 2,
        "decision": 2,
        "issuance": 1,
        "applicant_correction": 5,
        "payment": 5,
    },
    "levy_idr": None,
    "validity_months": 60,
}


class PermitTypeSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "SIP"})
    name = ma.fields.String(metadata={"example": "Surat Izin Praktik Tenaga Kesehatan"})
    name_en = ma.fields.String(metadata={"example": "Practice permit for health workers"})
    description = ma.fields.String(allow_none=True)
    issuing_agency_id = ma.fields.UUID()
    technical_agency_id = ma.fields.UUID(allow_none=True)
    form_fields = ma.fields.List(ma.fields.Nested(PermitFormFieldSchema))
    document_requirements = ma.fields.List(ma.fields.Nested(PermitDocumentRequirementSchema))
    step_deadlines = ma.fields.Nested(PermitStepDeadlinesSchema)
    levy_idr = ma.fields.Integer(allow_none=True, metadata={"example": 150000})
    validity_months = ma.fields.Integer(metadata={"example": 60})
    conditions = ma.fields.List(ma.fields.String())
    is_active = ma.fields.Boolean()
    is_demo = ma.fields.Boolean(metadata={"description": "Demo data, not verified facts"})
    updated_at = UTCDateTime()


class PermitTypeQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    include_inactive = ma.fields.Boolean(load_default=False)
    agency_id = ma.fields.UUID(
        metadata={"description": "Only types this agency issues or reviews."}
    )
    sort = sort_field(*service.TYPE_SORTABLE, default="code")


# --- applications ------------------------------------------------------------------------------


class PermitTypeBriefSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "SIP"})
    name = ma.fields.String(metadata={"example": "Surat Izin Praktik Tenaga Kesehatan"})
    name_en = ma.fields.String(metadata={"example": "Practice permit for health workers"})


class PermitAllowedActionSchema(ma.Schema):
    action = enum_field(tuple(str(a) for a in USER_ACTIONS))
    actor = enum_field(Actor)


class PermitNextActionSchema(ma.Schema):
    actor = enum_field(
        Actor,
        allow_none=True,
        metadata={"description": "Who must act next; null once the case is closed."},
    )
    agency_id = ma.fields.UUID(allow_none=True)
    agency_code = ma.fields.String(allow_none=True, metadata={"example": "DPMPTSP"})
    due_at = UTCDateTime(allow_none=True, metadata={"description": "By when (UTC)."})
    overdue = ma.fields.Boolean()
    clock = enum_field(
        Clock,
        metadata={"description": "`paused` while the case waits on the applicant."},
    )
    actions = ma.fields.List(ma.fields.Nested(PermitAllowedActionSchema))


def _step_of(application: Any) -> str | None:
    step = STATUSES[Status(application.status)].step
    return str(step) if step else None


class PermitApplicationSummarySchema(ma.Schema):
    id = ma.fields.UUID()
    number = ma.fields.String(metadata={"example": "IZN-2026-000042"})
    permit_type = ma.fields.Nested(PermitTypeBriefSchema)
    status = enum_field(Status)
    step = ma.fields.Function(
        _step_of,
        metadata={"enum": [str(s) for s in Step], "description": "The current step."},
        allow_none=True,
    )
    next_action = ComputedNested(PermitNextActionSchema, compute=service.next_action)
    submitted_at = UTCDateTime(allow_none=True)
    decided_at = UTCDateTime(allow_none=True)
    step_due_at = UTCDateTime(
        allow_none=True, metadata={"description": "Deadline of the current officer step."}
    )
    sla_due_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "Deadline of the whole service, extended by every pause."},
    )
    technical_review_result = enum_field(service.REVIEW_RESULTS, allow_none=True)
    status_reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The reason given with the latest rejection, correction request, "
            "review or revocation."
        },
    )
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class PermitApplicantSchema(ma.Schema):
    id = ma.fields.UUID()
    full_name = ma.fields.String(metadata={"example": "Siti Aminah"})
    nik = ma.fields.String(allow_none=True, metadata={"example": "************0003"})
    phone = ma.fields.String(allow_none=True, metadata={"example": "************0001"})


class PermitDocumentSchema(ma.Schema):
    id = ma.fields.UUID()
    requirement_code = ma.fields.String(metadata={"example": "str"})
    version = ma.fields.Integer(metadata={"example": 2})
    sha256 = ma.fields.String(
        metadata={"example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
    )
    media_type = enum_field(ACCEPTED_TYPES)
    size_bytes = ma.fields.Integer()
    original_filename = ma.fields.String(allow_none=True)
    review_status = enum_field(service.DOCUMENT_REVIEW_STATUSES)
    review_note = ma.fields.String(allow_none=True)
    created_at = UTCDateTime()


class PermitDocumentReviewSchema(StrictSchema):
    review_status = enum_field(("accepted", "rejected"), required=True)
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=1000),
        metadata={"description": "Required to reject: the reason the applicant will read."},
    )


class PermitCorrectionSchema(StrictSchema):
    requirement_code = ma.fields.String(validate=ma.validate.Length(min=1, max=40))
    field_code = ma.fields.String(validate=ma.validate.Length(min=1, max=40))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=1000))

    @ma.validates_schema
    def _check_target(self, data: dict[str, Any], **_kwargs: object) -> None:
        if ("requirement_code" in data) == ("field_code" in data):
            raise ma.ValidationError(gettext("Name either a requirement_code or a field_code."))


class PermitTimelineEntrySchema(ma.Schema):
    action = ma.fields.String(
        metadata={
            "example": "request_correction",
            "description": "An action of the workflow, or `escalate`: the step's deadline "
            "passed and the Command Center alerted the staff (actor `system`).",
        }
    )
    from_status = enum_field(Status, allow_none=True)
    to_status = enum_field(Status)
    actor = enum_field((*(str(a) for a in Actor), service.SYSTEM_ACTOR))
    actor_agency_code = ma.fields.String(allow_none=True, metadata={"example": "DPMPTSP"})
    note = ma.fields.String(allow_none=True, metadata={"description": "The reason given."})
    details = ma.fields.Dict(
        metadata={
            "description": "Per action: `corrections`, `review_result`, `payment_code` and "
            "`amount_idr`, `permit_number`, the uploaded document's `requirement_code`, "
            "`version` and `sha256`, or the escalated `step` and its `deadline`."
        }
    )
    created_at = UTCDateTime()


class MyPermitApplicationSchema(PermitApplicationSummarySchema):
    """An application in the applicant's own list: with its whole timeline."""

    timeline = ComputedNested(PermitTimelineEntrySchema, many=True, compute=service.timeline)


class PermitBillSchema(ma.Schema):
    payment_code = ma.fields.String(metadata={"example": "12752600000017"})
    amount_idr = ma.fields.Integer(metadata={"example": 150000})
    status = enum_field(BILL_STATUSES)
    due_at = UTCDateTime()
    paid_at = UTCDateTime(allow_none=True)


class PermitSchema(ma.Schema):
    id = ma.fields.UUID()
    permit_number = ma.fields.String(metadata={"example": "SIP/00042/DPMPTSP/2026"})
    permit_type = ma.fields.Nested(PermitTypeBriefSchema)
    status = enum_field(PERMIT_STATUSES)
    issued_at = UTCDateTime()
    valid_from = ma.fields.Date(metadata={"example": "2026-12-01"})
    valid_until = ma.fields.Date(metadata={"example": "2031-11-30"})
    revocation_reason = ma.fields.String(allow_none=True)
    replaced_by_id = ma.fields.UUID(allow_none=True)
    verification_code = ma.fields.String(
        metadata={"example": "q83vEjRWeJASNFZ4kBI0VnQ2v8yC3Tn1aX0c1FZ4kBI"}
    )
    verification_url = ma.fields.Function(
        lambda permit: permits.verification_url(permit.verification_code),
        metadata={"description": "What the permit's QR code points at."},
    )


class MyPermitsQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    sort = sort_field(*service.PERMIT_SORTABLE, default="-issued_at")


class PermitApplicationSchema(PermitApplicationSummarySchema):
    form_data = ma.fields.Dict(
        metadata={
            "example": {"nama_praktik": "Klinik Sehat"},
            "description": "Free-text answers are masked for all but the applicant and the "
            "officers handling the case.",
        }
    )
    replaces_permit_id = ma.fields.UUID(allow_none=True)
    applicant = ma.fields.Nested(PermitApplicantSchema)
    documents = ma.fields.List(
        ma.fields.Nested(PermitDocumentSchema),
        metadata={"description": "Every version of every document, oldest first."},
    )
    open_corrections = ma.fields.List(
        ma.fields.Nested(PermitCorrectionSchema),
        metadata={"description": "What the applicant must correct now, with each reason."},
    )
    timeline = ma.fields.List(ma.fields.Nested(PermitTimelineEntrySchema))
    bill = ma.fields.Nested(PermitBillSchema, allow_none=True)
    permit = ma.fields.Nested(PermitSchema, allow_none=True)


class PermitApplicationCreateSchema(StrictSchema):
    permit_type_id = ma.fields.UUID(required=True)
    form_data = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    replaces_permit_id = ma.fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "Your earlier permit of this type that this one renews."},
    )


APPLICATION_EXAMPLE = {
    "permit_type_id": "5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11",
    "form_data": {"profesi": "bidan", "nama_tempat_praktik": "Praktik Bidan Sehati"},
}


class PermitApplicationPatchSchema(StrictSchema):
    form_data = ma.fields.Dict(
        keys=ma.fields.String(),
        required=True,
        metadata={"description": "Values to set; a null removes the value."},
    )


class PermitDocumentUploadSchema(StrictSchema):
    requirement_code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=40), metadata={"example": "ktp"}
    )
    file = Upload(required=True, metadata={"description": "PDF or image, per the requirement."})


DOCUMENT_UPLOAD_EXAMPLE = {"requirement_code": "ktp", "file": "ktp.pdf"}


class PermitTransitionSchema(StrictSchema):
    action = enum_field(tuple(str(a) for a in USER_ACTIONS), required=True)
    note = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=2000),
        metadata={
            "description": "The reason; required to reject, revoke, ask for corrections "
            "or record a review."
        },
    )
    corrections = ma.fields.List(
        ma.fields.Nested(PermitCorrectionSchema),
        load_default=None,
        validate=ma.validate.Length(min=1, max=50),
        metadata={
            "description": "For `request_correction`: what to correct, each with its reason. "
            "Default: the documents rejected one by one during this step."
        },
    )
    correction_days = ma.fields.Integer(
        load_default=None,
        validate=_DAYS,
        metadata={
            "description": "For `request_correction`: the applicant's deadline in "
            "working days (default: the permit type's)."
        },
    )
    review_result = enum_field(
        service.REVIEW_RESULTS,
        load_default=None,
        metadata={"description": "For `record_review`."},
    )


TRANSITION_EXAMPLE = {
    "action": "request_correction",
    "note": "STR yang diunggah sudah kedaluwarsa.",
    "corrections": [
        {"requirement_code": "str", "reason": "STR kedaluwarsa; unggah STR yang berlaku."}
    ],
    "correction_days": 5,
}


class PermitApplicationQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    status = enum_field(Status)
    step = enum_field(Step)
    permit_type_id = ma.fields.UUID()
    overdue = ma.fields.Boolean(metadata={"description": "Only those past their deadline."})


class MyPermitApplicationsQueryArgsSchema(PermitApplicationQueryArgsSchema):
    sort = sort_field(*service.APPLICATION_SORTABLE, default="-updated_at")


class PermitWorkQueueQueryArgsSchema(PermitApplicationQueryArgsSchema):
    waiting_on_my_agency = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Officers: only the applications whose current step is your agency's."
        },
    )
    sort = sort_field(*service.APPLICATION_SORTABLE, default="action_due_at")


# --- payments and verification -----------------------------------------------------------------


class PermitPaymentCallbackSchema(StrictSchema):
    """The gateway's notification; fields it adds beyond these are ignored (the signature
    covers the whole body)."""

    payment_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=30))
    amount_idr = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0, max=10_000_000_000_000)
    )
    reference = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "The gateway's own transaction id."},
    )
    paid_at = UTCDateTime(load_default=None, allow_none=True)
    channel = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=40),
        metadata={"example": "qris"},
    )

    class Meta:
        unknown = ma.EXCLUDE


PAYMENT_CALLBACK_EXAMPLE = {
    "payment_code": "12752600000017",
    "amount_idr": 150000,
    "reference": "BSM-20261201-000123",
    "paid_at": "2026-12-01T03:15:00Z",
    "channel": "virtual_account",
}


class PermitPaymentResultSchema(ma.Schema):
    payment_code = ma.fields.String(metadata={"example": "12752600000017"})
    status = enum_field(BILL_STATUSES)
    amount_idr = ma.fields.Integer(metadata={"example": 150000})
    reference = ma.fields.String(metadata={"example": "BSM-20261201-000123"})
    paid_at = UTCDateTime()
    application_id = ma.fields.UUID()
    application_number = ma.fields.String(metadata={"example": "IZN-2026-000042"})


class PermitVerificationSchema(ma.Schema):
    result = enum_field(
        permits.VERIFICATION_RESULTS,
        metadata={"description": "`not_found` also for a forged or altered code."},
    )
    checked_at = UTCDateTime(metadata={"description": "When this check was made."})
    permit_number = ma.fields.String(
        allow_none=True, metadata={"example": "REKLAME/00012/DPMPTSP/2026"}
    )
    permit_type_code = ma.fields.String(allow_none=True, metadata={"example": "REKLAME"})
    permit_type_name = ma.fields.String(allow_none=True, metadata={"example": "Izin Reklame"})
    permit_type_name_en = ma.fields.String(
        allow_none=True, metadata={"example": "Advertising permit"}
    )
    holder_name = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "So that whoever checks can compare it with the person or business "
            "showing the permit. Never the NIK.",
            "example": "Siti Rahmawati",
        },
    )
    issuing_agency_code = ma.fields.String(allow_none=True, metadata={"example": "DPMPTSP"})
    issuing_agency_name = ma.fields.String(allow_none=True)
    issuing_agency_name_en = ma.fields.String(allow_none=True)
    valid_from = ma.fields.Date(allow_none=True)
    valid_until = ma.fields.Date(allow_none=True)
    revoked_on = ma.fields.Date(allow_none=True)
    replaced_by_permit_number = ma.fields.String(allow_none=True)


class PermitVerificationQueryArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # a scanned link may carry tracking parameters

    lang = enum_field(
        ("id", "en"),
        metadata={
            "description": "Language of the HTML page, over `Accept-Language` (a link a person "
            "can follow on a phone whose language is set otherwise)."
        },
    )
