"""Schemas of service quality: the survey, the IKM report, "is it fixed?" and the public page."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from binjai_api.db import utcnow
from binjai_api.i18n import negotiated_language
from binjai_api.quality.models import SERVICE_KINDS, SurveyInvitation
from binjai_api.quality.scoring import ELEMENTS, GRADES, MAX_SCORE, MIN_SCORE
from binjai_api.quality.service import (
    INVITATION_STATES,
    SUGGESTION_MAX_LENGTH,
    invitation_view,
)
from binjai_api.schemas import StrictSchema, UTCDateTime, enum_field
from binjai_api.workcalendar.service import local_date

MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
PERIOD_PATTERN = r"^20[0-9]{2}(-(0[1-9]|1[0-2]))?$"
KECAMATAN_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
REASON_MAX_LENGTH = 2000


# --- the survey ----------------------------------------------------------------------------------


class SurveyOptionSchema(ma.Schema):
    score = ma.fields.Integer(required=True, metadata={"minimum": MIN_SCORE, "maximum": MAX_SCORE})
    label = ma.fields.String(required=True)


class SurveyElementSchema(ma.Schema):
    code = enum_field(tuple(element.code for element in ELEMENTS), required=True)
    number = ma.fields.Integer(required=True, metadata={"minimum": 1, "maximum": len(ELEMENTS)})
    name = ma.fields.String(required=True)
    question = ma.fields.String(required=True)
    options = ma.fields.List(ma.fields.Nested(SurveyOptionSchema), required=True)


class SurveyInvitationSchema(ma.Schema):
    """An invitation as its resident reads it, in the negotiated language (lists page through
    the rows themselves: each is turned into its view here)."""

    @ma.pre_dump
    def as_view(self, item: Any, **_kwargs: Any) -> Any:
        if isinstance(item, SurveyInvitation):
            return invitation_view(item, negotiated_language())
        return item

    id = ma.fields.UUID(required=True)
    service_kind = enum_field(SERVICE_KINDS, required=True)
    service_name = ma.fields.String(required=True)
    reference = ma.fields.String(
        required=True,
        metadata={"description": "The tracking number, application number or booking code."},
    )
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(required=True)
    state = enum_field(INVITATION_STATES, required=True)
    questionnaire = ma.fields.List(
        ma.fields.Nested(SurveyElementSchema),
        required=True,
        metadata={
            "description": "The nine elements of PermenPANRB 14/2017 with the regulation's "
            "wording, while the invitation is open (empty once answered or expired)."
        },
    )


class SurveyInvitationQueryArgsSchema(StrictSchema):
    state = enum_field(
        INVITATION_STATES, metadata={"description": "Only open, answered or expired."}
    )


def _score_field(element_code: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(MIN_SCORE, MAX_SCORE),
        metadata={"description": f"Element `{element_code}`: 1 (worst) to 4 (best)."},
    )


SurveyScoresSchema = ma.Schema.from_dict(
    {element.code: _score_field(element.code) for element in ELEMENTS},
    name="SurveyScoresSchema",
)


class SurveyAnswerCreateSchema(StrictSchema):
    scores = ma.fields.Nested(SurveyScoresSchema, required=True)
    suggestion = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=SUGGESTION_MAX_LENGTH),
        metadata={"description": "Optional free text: suggestions for the service."},
    )


ANSWER_EXAMPLE = {
    "scores": {element.code: 3 for element in ELEMENTS} | {"completion_time": 4},
    "suggestion": "Petugas ramah, antrean di loket perlu kursi tambahan.",
}


# --- the IKM ------------------------------------------------------------------------------------


class GradeSchema(ma.Schema):
    letter = enum_field(tuple(band.letter for band in GRADES), required=True)
    label = ma.fields.String(required=True, metadata={"description": "Mutu pelayanan."})


class ElementNrrSchema(ma.Schema):
    code = enum_field(tuple(element.code for element in ELEMENTS), required=True)
    number = ma.fields.Integer(required=True, metadata={"minimum": 1, "maximum": len(ELEMENTS)})
    name = ma.fields.String(required=True)
    nrr = ma.fields.Float(required=True, metadata={"minimum": 1, "maximum": 4})


class IkmFiguresSchema(ma.Schema):
    answers = ma.fields.Integer(required=True)
    population = ma.fields.Integer(
        required=True, metadata={"description": "Services that ended in the period (invitations)."}
    )
    minimum_sample = ma.fields.Integer(
        required=True, metadata={"description": "Krejcie-Morgan minimum for the population."}
    )
    sample_sufficient = ma.fields.Boolean(required=True)
    suppressed = ma.fields.Boolean(
        required=True,
        metadata={"description": "Fewer than 5 answers: no element averages, index or grade."},
    )
    elements = ma.fields.List(ma.fields.Nested(ElementNrrSchema), allow_none=True, required=True)
    ikm = ma.fields.Float(allow_none=True, required=True, metadata={"minimum": 25, "maximum": 100})
    grade = ma.fields.Nested(GradeSchema, allow_none=True, required=True)


class IkmAgencyRefSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class IkmServiceSchema(IkmFiguresSchema):
    service_kind = enum_field(SERVICE_KINDS, required=True)
    service_key = ma.fields.String(
        required=True,
        metadata={
            "description": "Permit type code, complaint category code, or the poli's id (a "
            "facility's health service)."
        },
    )
    service_name = ma.fields.String(required=True)


class IkmAgencySchema(IkmFiguresSchema):
    agency = ma.fields.Nested(IkmAgencyRefSchema, allow_none=True, required=True)
    services = ma.fields.List(ma.fields.Nested(IkmServiceSchema), required=True)


class IkmReportSchema(ma.Schema):
    period = ma.fields.String(required=True)
    total = ma.fields.Nested(IkmFiguresSchema, required=True)
    agencies = ma.fields.List(ma.fields.Nested(IkmAgencySchema), required=True)


class IkmQueryArgsSchema(StrictSchema):
    period = ma.fields.String(
        validate=ma.validate.Regexp(PERIOD_PATTERN),
        metadata={
            "description": "A year (`2026`) or a month (`2026-11`), WIB. Default: this year.",
            "pattern": PERIOD_PATTERN,
            "maxLength": 7,
            "example": "2026",
        },
    )
    agency_id = ma.fields.UUID(
        metadata={"description": "One agency (operators, admins); officers see their own."}
    )
    service_kind = enum_field(SERVICE_KINDS)

    @ma.post_load
    def default_period(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data.setdefault("period", str(local_date(utcnow()).year))  # this year in Binjai (WIB)
        return data


# --- "is it fixed?" ------------------------------------------------------------------------


class FixCheckSchema(ma.Schema):
    asked_at = UTCDateTime(required=True)
    answer_until = UTCDateTime(required=True)
    state = enum_field(("open", "answered", "expired"), required=True)
    answer = enum_field(("fixed", "not_fixed"), allow_none=True, required=True)
    answered_at = UTCDateTime(allow_none=True, required=True)


class FixCheckAnswerSchema(StrictSchema):
    fixed = ma.fields.Boolean(required=True, metadata={"description": "Is the problem fixed?"})
    reason = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=REASON_MAX_LENGTH),
        metadata={"description": "What is still wrong: required when `fixed` is false."},
    )


# --- the public page -----------------------------------------------------------------------


class PublicPerformanceQueryArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # a shared link may carry tracking parameters

    month = ma.fields.String(
        validate=ma.validate.Regexp(MONTH_PATTERN),
        metadata={
            "description": "The month, YYYY-MM (WIB). Default: this month.",
            "pattern": MONTH_PATTERN,
            "maxLength": 7,
            "example": "2026-11",
        },
    )
    agency_id = ma.fields.UUID(metadata={"description": "One agency's figures."})
    kecamatan = ma.fields.String(
        validate=ma.validate.Regexp(KECAMATAN_PATTERN),
        metadata={
            "description": "One kecamatan's code (`12.75.01`): narrows the reports' figures to "
            'problems located there. Permits, queues, "is it fixed?" and the IKM stay those '
            "of the city or agency.",
            "pattern": KECAMATAN_PATTERN,
            "maxLength": 8,
        },
    )
    lang = enum_field(
        ("id", "en"),
        metadata={"description": "Language of the page, over `Accept-Language`."},
    )


class PublicAgencyRefSchema(ma.Schema):
    id = ma.fields.String(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class PerformanceKecamatanSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class FixCheckCountsSchema(ma.Schema):
    asked = ma.fields.Integer(required=True)
    fixed = ma.fields.Integer(required=True)
    not_fixed = ma.fields.Integer(required=True)
    unanswered = ma.fields.Integer(required=True)


class ComplaintFiguresSchema(ma.Schema):
    received = ma.fields.Integer(required=True)
    followed_up_judged = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Reports sent to an agency that were followed up or are past their "
            "follow-up deadline."
        },
    )
    followed_up_on_time = ma.fields.Integer(required=True)
    followed_up_on_time_share = ma.fields.Float(allow_none=True, required=True)
    median_hours_to_resolve = ma.fields.Float(allow_none=True, required=True)
    fix_checks = ma.fields.Nested(
        FixCheckCountsSchema,
        allow_none=True,
        required=True,
        metadata={"description": "Null in a kecamatan's figures (counted per agency only)."},
    )


class PermitFiguresSchema(ma.Schema):
    issued = ma.fields.Integer(required=True)
    with_sla = ma.fields.Integer(required=True)
    within_sla = ma.fields.Integer(required=True)
    within_sla_share = ma.fields.Float(allow_none=True, required=True)


class QueueFiguresSchema(ma.Schema):
    served = ma.fields.Integer(required=True)
    median_minutes_waiting = ma.fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "From check-in to being called."},
    )


class PerformanceFiguresSchema(ma.Schema):
    complaints = ma.fields.Nested(ComplaintFiguresSchema, required=True)
    permits = ma.fields.Nested(PermitFiguresSchema, required=True)
    queues = ma.fields.Nested(QueueFiguresSchema, required=True)
    ikm = ma.fields.Nested(IkmFiguresSchema, required=True)


class AgencyPerformanceSchema(PerformanceFiguresSchema):
    agency = ma.fields.Nested(PublicAgencyRefSchema, required=True)


class KecamatanPerformanceSchema(ma.Schema):
    kecamatan = ma.fields.Nested(PerformanceKecamatanSchema, required=True)
    complaints = ma.fields.Nested(ComplaintFiguresSchema, required=True)


class PublicPerformanceSchema(ma.Schema):
    month = ma.fields.String(required=True)
    agency = ma.fields.Nested(PublicAgencyRefSchema, allow_none=True, required=True)
    kecamatan = ma.fields.Nested(PerformanceKecamatanSchema, allow_none=True, required=True)
    summary = ma.fields.Nested(PerformanceFiguresSchema, required=True)
    agencies = ma.fields.List(ma.fields.Nested(AgencyPerformanceSchema), required=True)
    kecamatan_figures = ma.fields.List(ma.fields.Nested(KecamatanPerformanceSchema), required=True)
    computed_at = ma.fields.String(required=True)


PERFORMANCE_PAGE_EXAMPLE = (
    '<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Kinerja Layanan Publik '
    "Kota Binjai</title>...</head><body>...</body></html>"
)
