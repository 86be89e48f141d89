"""Licensing (perizinan): permit types, applications, payments and public verification."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request
from flask.views import MethodView
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from binjai_api import access, idempotency
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.i18n import negotiated_language
from binjai_api.licensing import pages, permits, service, workflow
from binjai_api.licensing.schemas import (
    APPLICATION_EXAMPLE,
    DOCUMENT_UPLOAD_EXAMPLE,
    PAYMENT_CALLBACK_EXAMPLE,
    PERMIT_TYPE_EXAMPLE,
    PERMIT_TYPE_PATCH,
    TRANSITION_EXAMPLE,
    MyPermitApplicationSchema,
    MyPermitApplicationsQueryArgsSchema,
    MyPermitsQueryArgsSchema,
    PermitApplicationCreateSchema,
    PermitApplicationPatchSchema,
    PermitApplicationSchema,
    PermitApplicationSummarySchema,
    PermitDocumentReviewSchema,
    PermitDocumentSchema,
    PermitDocumentUploadSchema,
    PermitPaymentCallbackSchema,
    PermitPaymentResultSchema,
    PermitSchema,
    PermitTransitionSchema,
    PermitTypeCreateSchema,
    PermitTypeQueryArgsSchema,
    PermitTypeSchema,
    PermitVerificationQueryArgsSchema,
    PermitVerificationSchema,
    PermitWorkQueueQueryArgsSchema,
)
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

SIGNATURE_HEADER = "X-Signature"
F = TypeVar("F", bound=Callable[..., Any])


class _MultipartParser(FlaskParser):
    """A multipart body's text fields travel with its files, in one documented schema."""

    def load_files(self, req: Any, schema: Any) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class LicensingBlueprint(Blueprint):
    ARGUMENTS_PARSER = _MultipartParser()


blp = LicensingBlueprint(
    "licensing",
    __name__,
    url_prefix=API_V1_STR,
    description="Local permits (perizinan): apply, correct, pay, and verify issued permits.",
)


class MyApplicationsPage(SelectPage):
    """The applicant's own list, polled by the app: `next_action.overdue` follows the clock."""

    deadline_attribute = "action_due_at"


def _binary_doc(description: str, media_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in media_types
            },
        }
    }


# --- permit types ------------------------------------------------------------------------------


@blp.route("/permit-types")
class PermitTypesView(MethodView):
    @access.public
    @blp.arguments(PermitTypeQueryArgsSchema, location="query")
    @blp.response(200, PermitTypeSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List the permits the city issues, with their forms, documents and deadlines"""
        return service.permit_types_query(**args)

    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(PermitTypeCreateSchema, example=PERMIT_TYPE_EXAMPLE)
    @blp.response(201, PermitTypeSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Add a permit type"""
        return service.create_permit_type(**payload)


@blp.route("/permit-types/<uuid:permit_type_id>")
class PermitTypeByIdView(MethodView):
    @access.public
    @blp.etag
    @blp.response(200, PermitTypeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, permit_type_id: uuid.UUID) -> Any:
        """Read a permit type"""
        return service.get_permit_type(permit_type_id)

    @access.roles(Role.ADMIN)
    @blp.etag
    @blp.arguments(PERMIT_TYPE_PATCH, example={"levy_idr": 200000, "is_active": True})
    @blp.response(200, PermitTypeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, changes: dict[str, Any], permit_type_id: uuid.UUID) -> Any:
        """Change a permit type"""
        blp.check_etag(service.get_permit_type(permit_type_id, lock=True), PermitTypeSchema)
        return service.update_permit_type(permit_type_id=permit_type_id, changes=changes)


# --- applications ------------------------------------------------------------------------------


@blp.route("/permit-applications")
class ApplicationsView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @blp.arguments(PermitWorkQueueQueryArgsSchema, location="query")
    @blp.response(200, PermitApplicationSummarySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Work queue: applications your agency handles, soonest deadline first"""
        return service.work_queue_query(principal=access.current_principal(), **args)

    @access.roles(Role.CITIZEN)
    @idempotency.idempotent
    @blp.arguments(PermitApplicationCreateSchema, example=APPLICATION_EXAMPLE)
    @blp.response(201, PermitApplicationSchema)
    def post(self, payload: dict[str, Any]) -> Any:
        """Start a permit application (a draft)"""
        return service.create_application(principal=access.current_principal(), **payload)


@blp.route("/permit-applications/mine")
class MyApplicationsView(MethodView):
    @access.roles(Role.CITIZEN)
    @blp.arguments(MyPermitApplicationsQueryArgsSchema, location="query")
    @blp.response(200, MyPermitApplicationSchema(many=True))
    @blp.paginate(MyApplicationsPage, polled=True)
    def get(self, args: dict[str, Any]) -> Any:
        """List my permit applications"""
        return service.my_applications_query(principal=access.current_principal(), **args)


@blp.route("/permit-applications/<uuid:application_id>")
class ApplicationByIdView(MethodView):
    @access.authenticated
    @blp.etag
    @blp.response(200, PermitApplicationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, application_id: uuid.UUID) -> Any:
        """Read an application: status, timeline, documents, and who must act next by when"""
        return service.get_application(
            principal=access.current_principal(), application_id=application_id
        )

    @access.roles(Role.CITIZEN)
    @blp.etag
    @blp.arguments(
        PermitApplicationPatchSchema,
        example={"form_data": {"nama_tempat_praktik": "Praktik Bidan Sehati", "alamat": None}},
    )
    @blp.response(200, PermitApplicationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, payload: dict[str, Any], application_id: uuid.UUID) -> Any:
        """Fill in the form of my draft or corrected application"""
        principal = access.current_principal()
        blp.check_etag(
            service.get_application(principal=principal, application_id=application_id, lock=True),
            PermitApplicationSchema,
        )
        return service.update_form(
            principal=principal, application_id=application_id, form_data=payload["form_data"]
        )


@blp.route("/permit-applications/<uuid:application_id>/documents")
class DocumentsView(MethodView):
    @access.roles(Role.CITIZEN)
    @idempotency.idempotent
    @blp.arguments(PermitDocumentUploadSchema, location="files", example=DOCUMENT_UPLOAD_EXAMPLE)
    @blp.response(201, PermitDocumentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    def post(self, payload: dict[str, Any], application_id: uuid.UUID) -> Any:
        """Upload a document for one requirement (a re-upload adds a new version)"""
        return service.upload_document(
            principal=access.current_principal(),
            application_id=application_id,
            requirement_code=payload["requirement_code"],
            file=payload.get("file"),
        )


@blp.route("/permit-applications/<uuid:application_id>/documents/<uuid:document_id>")
class DocumentByIdView(MethodView):
    @access.roles(Role.CITIZEN, Role.OFFICER)
    @blp.response(200)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        responses=_binary_doc(
            "The document as uploaded", ("application/pdf", "image/jpeg", "image/png", "image/webp")
        )
    )
    def get(self, application_id: uuid.UUID, document_id: uuid.UUID) -> Response:
        """Download a document of an application"""
        document, content = service.document_content(
            principal=access.current_principal(),
            application_id=application_id,
            document_id=document_id,
        )
        response = current_app.response_class(content, mimetype=document.media_type)
        response.headers["Cache-Control"] = "private, no-store"
        return response


@blp.route("/permit-applications/<uuid:application_id>/documents/<uuid:document_id>/review")
class DocumentReviewView(MethodView):
    @access.roles(Role.OFFICER)
    @blp.arguments(
        PermitDocumentReviewSchema,
        example={"review_status": "rejected", "note": "Scan KTP buram; unggah ulang."},
    )
    @blp.response(200, PermitDocumentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(
        self, payload: dict[str, Any], application_id: uuid.UUID, document_id: uuid.UUID
    ) -> Any:
        """Accept or reject one document (the agency whose step it is)"""
        return service.review_document(
            principal=access.current_principal(),
            application_id=application_id,
            document_id=document_id,
            **payload,
        )


@blp.route("/permit-applications/<uuid:application_id>/submit")
class SubmitView(MethodView):
    @access.roles(Role.CITIZEN)
    @blp.response(200, PermitApplicationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(
        422,
        response="UNPROCESSABLE_ENTITY",
        description="`application_incomplete`: `errors.form_data` and `errors.documents` list "
        "exactly what is missing (also as `missing_fields` and `missing_documents`).",
    )
    def post(self, application_id: uuid.UUID) -> Any:
        """Submit my application, or resubmit it after corrections"""
        return service.submit(principal=access.current_principal(), application_id=application_id)


@blp.route("/permit-applications/<uuid:application_id>/transitions")
class TransitionsView(MethodView):
    @access.roles(Role.CITIZEN, Role.OFFICER)
    @blp.arguments(PermitTransitionSchema, example=TRANSITION_EXAMPLE)
    @blp.response(200, PermitApplicationSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(
        409, response="CONFLICT", description="`invalid_transition` from the current status."
    )
    @blp.doc(
        description="Every step of the workflow. Allowed transitions (one table, "
        "`licensing/workflow.py`):\n\n" + workflow.markdown_table()
    )
    def post(self, payload: dict[str, Any], application_id: uuid.UUID) -> Any:
        """Take a workflow step (verify, correct, review, approve, reject, issue, revoke...)"""
        return service.transition(
            principal=access.current_principal(), application_id=application_id, **payload
        )


# --- payments ----------------------------------------------------------------------------------


def _signed_by_gateway(view: F) -> F:
    """Authenticate the gateway by its signature over the raw body, before anything is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        service.check_payment_signature(
            body=request.get_data(cache=True), signature=request.headers.get(SIGNATURE_HEADER)
        )
        return view(*args, **kwargs)

    return cast(F, wrapper)


@blp.route("/payments/callback")
class PaymentCallbackView(MethodView):
    @access.public
    @_signed_by_gateway
    @blp.arguments(
        PermitPaymentCallbackSchema,
        example=PAYMENT_CALLBACK_EXAMPLE,
        description="Signed by the gateway: `X-Signature` is the hex HMAC-SHA256 of the raw "
        "body with the shared secret (PAYMENT_CALLBACK_SECRET).",
    )
    @blp.response(200, PermitPaymentResultSchema, description="Paid; a replay answers the same.")
    @blp.alt_response(401, response="UNAUTHORIZED", description="`invalid_signature`.")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="`bill_already_paid`.")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="`amount_mismatch`.")
    @blp.doc(
        parameters=[
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "Hex HMAC-SHA256 of the raw body.",
            }
        ]
    )
    def post(self, payload: dict[str, Any]) -> Any:
        """Payment gateway callback: a levy was paid"""
        return service.record_payment(**payload)


# --- permits -----------------------------------------------------------------------------------


@blp.route("/permits/mine")
class MyPermitsView(MethodView):
    @access.roles(Role.CITIZEN)
    @blp.arguments(MyPermitsQueryArgsSchema, location="query")
    @blp.response(200, PermitSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List my issued permits"""
        return service.my_permits_query(principal=access.current_principal(), **args)


@blp.route("/permits/<uuid:permit_id>/pdf")
class PermitPdfView(MethodView):
    @access.roles(Role.CITIZEN, Role.OFFICER)
    @blp.response(200)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        description="The permit on A4, in Indonesian: the holder (name, masked NIK), the object "
        "of the permit from the application, conditions, validity, the signing official, and "
        "the QR code of its verification page. A revoked or replaced permit says so. For its "
        "holder and for the officers of the agencies that issue or review its type; 404 for "
        "anyone else.",
        responses=_binary_doc("The permit, with its QR code", ("application/pdf",)),
    )
    def get(self, permit_id: uuid.UUID) -> Response:
        """Download a permit as a PDF"""
        permit, content = permits.permit_pdf(
            principal=access.current_principal(), permit_id=permit_id
        )
        response = current_app.response_class(content, mimetype="application/pdf")
        filename = permit.permit_number.replace("/", "-")
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        response.headers["Cache-Control"] = "private, no-store"
        return response


VERIFICATION_PAGE_EXAMPLE = (
    '<!doctype html><html lang="id"><head><meta name="robots" content="noindex, nofollow">'
    "<title>Izin berlaku · Verifikasi izin · Pemerintah Kota Binjai</title>...</head><body>"
    '<main><section class="state valid"><h2>✓ Izin berlaku</h2>...</section><dl>...</dl>'
    "</main></body></html>"
)


def _wants_html() -> bool:
    """A browser (a phone camera's scan) asks for HTML first; apps ask for JSON or anything."""
    best = request.accept_mimetypes.best_match(("application/json", "text/html"))
    return best == "text/html"


@blp.route("/permits/verify/<string:code>")
class VerifyPermitView(MethodView):
    @access.public
    @blp.etag
    @blp.arguments(PermitVerificationQueryArgsSchema, location="query")
    @blp.response(
        200,
        PermitVerificationSchema,
        description="Always 200: `result` says valid, replaced, revoked, expired or not_found "
        "(also for a forged or altered code). The holder's name is shown, never the NIK. "
        "`Accept: text/html` (a browser) gets the same check as a page.",
    )
    @blp.doc(
        operationId="verifyPermit",
        description="What a permit's QR code opens (`PUBLIC_BASE_URL` + this path). A browser "
        "gets a page in Indonesian (English on `Accept-Language: en` or `?lang=en`) that says "
        "the state in words; apps get JSON. The page needs no JavaScript, loads nothing from "
        "elsewhere, and is not indexed (`X-Robots-Tag: noindex`).",
        responses={
            200: {
                "content": {
                    "text/html": {
                        "schema": {"type": "string"},
                        "example": VERIFICATION_PAGE_EXAMPLE,
                    },
                }
            }
        },
    )
    def get(self, args: dict[str, Any], code: str) -> Any:
        """Verify a permit from its QR code"""
        if args.get("lang"):
            g.language = args["lang"]
        verification = permits.verify_permit(code)
        state = {**dataclasses.asdict(verification), "checked_at": None}
        if not _wants_html():
            # Unchanged unless the permit's state is: `checked_at` aside, a 304 says as much.
            blp.set_etag(state, PermitVerificationSchema)
            return verification, 200, {"Vary": "Accept"}
        # A page always says when this check was made: never answered from a cache.
        blp.set_etag({**state, "page": negotiated_language(), "at": str(verification.checked_at)})
        page = pages.verification_page(verification, negotiated_language())
        response = current_app.response_class(page, mimetype="text/html")
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Content-Security-Policy"] = pages.CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Vary"] = "Accept"
        return response
