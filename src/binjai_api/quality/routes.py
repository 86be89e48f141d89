"""Service quality: the SKM survey, the IKM report, "is it fixed?" and the public performance
page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, request
from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.csv_export import csv_doc, send_csv, wants_csv
from binjai_api.i18n import negotiated_language
from binjai_api.openapi import Blueprint
from binjai_api.ops import service as ops_service
from binjai_api.pagination import SelectPage
from binjai_api.quality import fix_checks, ikm, pages, performance, service
from binjai_api.quality.schemas import (
    ANSWER_EXAMPLE,
    PERFORMANCE_PAGE_EXAMPLE,
    FixCheckAnswerSchema,
    FixCheckSchema,
    IkmQueryArgsSchema,
    IkmReportSchema,
    PublicPerformanceQueryArgsSchema,
    PublicPerformanceSchema,
    SurveyAnswerCreateSchema,
    SurveyInvitationQueryArgsSchema,
    SurveyInvitationSchema,
)

blp = Blueprint(
    "quality",
    __name__,
    url_prefix=API_V1_STR,
    description="Service quality: the SKM survey residents are invited to when a service ends "
    '(PermenPANRB 14/2017), the IKM per agency and service, "is it fixed?" after a report is '
    "resolved, and the public performance page.",
)


class InvitationsPage(SelectPage):
    pass


# --- the survey ----------------------------------------------------------------------------------


@blp.route("/survey-invitations")
class SurveyInvitationsView(MethodView):
    @access.authenticated
    @blp.arguments(SurveyInvitationQueryArgsSchema, location="query")
    @blp.response(200, SurveyInvitationSchema(many=True))
    @blp.paginate(InvitationsPage)
    @blp.doc(operationId="listMySurveyInvitations")
    def get(self, args: dict[str, Any]) -> Any:
        """List my survey invitations, newest first"""
        return service.my_invitations_query(
            user_id=access.current_principal().id, state=args.get("state")
        )


def _invitation_view(invitation: Any) -> dict[str, Any]:
    return service.invitation_view(invitation, negotiated_language())


@blp.route("/survey-invitations/<uuid:invitation_id>")
class SurveyInvitationByIdView(MethodView):
    @access.authenticated
    @blp.response(200, SurveyInvitationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getSurveyInvitation")
    def get(self, invitation_id: uuid.UUID) -> Any:
        """Read one of my survey invitations with its nine questions"""
        invitation = service.get_invitation(
            user_id=access.current_principal().id, invitation_id=invitation_id
        )
        return _invitation_view(invitation)


@blp.route("/survey-invitations/<uuid:invitation_id>/answers")
class SurveyAnswersView(MethodView):
    @access.authenticated
    @idempotency.idempotent
    @blp.arguments(SurveyAnswerCreateSchema, example=ANSWER_EXAMPLE)
    @blp.response(201, SurveyInvitationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(
        409, response="CONFLICT", description="`survey_already_answered` or `survey_expired`"
    )
    @blp.doc(
        operationId="answerSurveyInvitation",
        description="Scores the nine elements 1-4, once per invitation, within 30 days. The "
        "answer is stored without any link to you or to the invitation (only the service, its "
        "agency and the month), and staff see aggregates of at least 5 answers only.",
    )
    def post(self, payload: dict[str, Any], invitation_id: uuid.UUID) -> Any:
        """Answer a survey invitation (anonymously)"""
        invitation = service.answer_invitation(
            user_id=access.current_principal().id, invitation_id=invitation_id, **payload
        )
        return _invitation_view(invitation)


# --- the IKM --------------------------------------------------------------------------------------


@blp.route("/ops/ikm")
class IkmView(MethodView):
    @access.roles(Role.OPERATOR, Role.ADMIN, Role.OFFICER)
    @blp.arguments(IkmQueryArgsSchema, location="query")
    @blp.response(200, IkmReportSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        operationId="getIkmReport",
        description="The IKM = (Σ NRR x 1/9) x 25 and its grade (A 88.31-100, B 76.61-88.30, "
        "C 65.00-76.60, D 25.00-64.99), per agency and per service, with the number of answers "
        "against the Krejcie-Morgan minimum sample for the services that ended in the period. "
        "A group of fewer than 5 answers shows its counts only (`suppressed`).",
        **csv_doc(
            ikm.CSV_COLUMNS,
            (
                "2026",
                "total",
                None,
                None,
                None,
                None,
                12,
                40,
                36,
                False,
                3.1,
                3.0,
                2.9,
                3.8,
                3.1,
                3.2,
                3.4,
                2.8,
                3.0,
                78.89,
                "B",
            ),
        ),
    )
    def get(self, args: dict[str, Any]) -> Any:
        """The IKM (SKM survey results) per agency and service for a year or a month"""
        scope = ops_service.agency_scope(access.current_principal(), args.get("agency_id"))
        result = ikm.report(
            period=args["period"],
            agency_id=scope,
            service_kind=args.get("service_kind"),
            language=negotiated_language(),
        )
        if wants_csv():
            send_csv(ikm.CSV_COLUMNS, ikm.csv_rows(result), f"ikm-{args['period']}.csv")
        return result


# --- "is it fixed?" -------------------------------------------------------------------------------


def _fix_check_view(check: Any) -> dict[str, Any]:
    return {
        "asked_at": check.asked_at,
        "answer_until": check.answer_until,
        "state": fix_checks.state_of(check),
        "answer": check.answer,
        "answered_at": check.answered_at,
    }


@blp.route("/complaints/<uuid:complaint_id>/fix-check")
class FixCheckView(MethodView):
    @access.authenticated
    @blp.response(200, FixCheckSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getFixCheck")
    def get(self, complaint_id: uuid.UUID) -> Any:
        """Read the "is it fixed?" question about a report I made or support"""
        check = fix_checks.get_fix_check(
            user_id=access.current_principal().id, complaint_id=complaint_id
        )
        return _fix_check_view(check)

    @access.authenticated
    @blp.arguments(FixCheckAnswerSchema, example={"fixed": False, "reason": "Masih berlubang."})
    @blp.response(200, FixCheckSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(
        409,
        response="CONFLICT",
        description="`fix_check_answered`, `fix_check_expired`, or the report moved on since",
    )
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        operationId="answerFixCheck",
        description="The first answer of the reporter or a supporter settles it, within 7 days "
        "of the question: `fixed: true` closes the report, `false` reopens it with the `reason` "
        "(a new follow-up deadline for the agency).",
    )
    def post(self, payload: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Answer "is it fixed?" about a resolved report"""
        check = fix_checks.answer_fix_check(
            user_id=access.current_principal().id, complaint_id=complaint_id, **payload
        )
        return _fix_check_view(check)


# --- the public performance page ------------------------------------------------------------------


def _wants_html() -> bool:
    """A browser asks for HTML first; apps ask for JSON or anything."""
    return request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"


@blp.route("/public/performance")
class PublicPerformanceView(MethodView):
    @access.public
    @blp.arguments(PublicPerformanceQueryArgsSchema, location="query")
    @blp.response(
        200,
        PublicPerformanceSchema,
        description="Aggregates only, no personal data. `Accept: text/html` gets the page.",
    )
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        operationId="getPublicPerformance",
        description="Per month, for the whole city, per agency and per kecamatan: reports "
        "received and the share followed up within the deadline (SP4N-LAPOR!'s way), the "
        'median time to resolve, "is it fixed?" answers, permits issued within their service '
        "level, queue waiting times and the IKM with its grade (withheld below 5 answers). A "
        "browser gets a server-rendered page in Indonesian (English on `Accept-Language: en` "
        "or `?lang=en`) with no JavaScript and nothing loaded from elsewhere. Cached for "
        "`OPS_CACHE_SECONDS`.",
        responses={
            200: {
                "content": {
                    "text/html": {
                        "schema": {"type": "string"},
                        "example": PERFORMANCE_PAGE_EXAMPLE,
                    }
                }
            }
        },
    )
    def get(self, args: dict[str, Any]) -> Any:
        """The public performance of the city's services for a month"""
        if args.get("lang"):
            g.language = args["lang"]
        language = negotiated_language()
        figures = performance.public_performance(
            month=args.get("month") or performance.current_month(),
            agency_id=args.get("agency_id"),
            kecamatan=args.get("kecamatan"),
            language=language,
        )
        if not _wants_html():
            return figures, 200, {"Vary": "Accept"}
        response = current_app.response_class(
            pages.performance_page(figures, language), mimetype="text/html"
        )
        response.headers["Content-Security-Policy"] = pages.CONTENT_SECURITY_POLICY
        response.headers["Vary"] = "Accept, Accept-Language"
        return response
