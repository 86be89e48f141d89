"""The BCC desk: reply templates, category questions, reports filed for residents, and an
officer's assignments."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.auth.enums import Role
from binjai_api.complaints import fieldwork, intake, questions, reply_templates, service
from binjai_api.complaints.desk_schemas import (
    ASSISTED_COMPLAINT_EXAMPLE,
    REPLY_TEMPLATE_EXAMPLE,
    AssignmentsQueryArgsSchema,
    AssistedComplaintCreateSchema,
    AssistedComplaintSchema,
    ReplyTemplateCreateSchema,
    ReplyTemplatePatchSchema,
    ReplyTemplateQueryArgsSchema,
    ReplyTemplateSchema,
)
from binjai_api.complaints.routes import ListPage
from binjai_api.complaints.schemas import (
    CategoryFormSchema,
    ComplaintCategorySchema,
    ComplaintListItemSchema,
)
from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "complaint_desk",
    __name__,
    url_prefix=API_V1_STR,
    description="The BCC desk: reply templates, category questions and emergency stops, "
    "reports filed on a resident's behalf (walk-in, phone, WhatsApp, SMS, email) and an "
    "officer's assignments.",
)

CATEGORY_FORM_EXAMPLE = {
    "questions": [
        {
            "code": "depth",
            "kind": "number",
            "label": "Kedalaman air (cm)",
            "label_en": "Water depth (cm)",
            "required": True,
            "min": 0,
            "max": 500,
            "unit": "cm",
        },
        {
            "code": "lives_at_risk",
            "kind": "yes_no",
            "label": "Ada orang terjebak atau nyawa terancam?",
            "label_en": "Is anyone trapped or are lives at risk?",
            "required": True,
            "stop_values": ["true"],
            "stop_message": "Darurat? Hubungi 112 sekarang.",
            "stop_message_en": "Emergency? Call 112 now.",
        },
    ],
    "notice": "Untuk keadaan darurat hubungi 112.",
    "notice_en": "For emergencies call 112.",
    "stop_message": None,
    "stop_message_en": None,
}


# --- reply templates ---------------------------------------------------------------------------


@blp.route("/complaint-reply-templates")
class ReplyTemplatesView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @blp.arguments(ReplyTemplateQueryArgsSchema, location="query")
    @blp.response(200, ReplyTemplateSchema(many=True))
    @blp.paginate(SelectPage)
    @blp.doc(operationId="listReplyTemplates")
    def get(self, args: dict[str, Any]) -> Any:
        """List the reply templates staff may use (filter by action and category)"""
        return reply_templates.templates_query(**args)

    @access.roles(Role.OPERATOR, Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(ReplyTemplateCreateSchema, example=REPLY_TEMPLATE_EXAMPLE)
    @blp.response(201, ReplyTemplateSchema)
    @blp.alt_response(409, response="CONFLICT", description="Another automatic template")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="Unknown placeholders")
    @blp.doc(operationId="createReplyTemplate")
    def post(self, payload: dict[str, Any]) -> Any:
        """Add a reply template"""
        return reply_templates.create_template(principal=access.current_principal(), **payload)


@blp.route("/complaint-reply-templates/<uuid:template_id>")
class ReplyTemplateByIdView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @blp.etag
    @blp.response(200, ReplyTemplateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getReplyTemplate")
    def get(self, template_id: uuid.UUID) -> Any:
        """Read a reply template"""
        return reply_templates.get_template(template_id)

    @access.roles(Role.OPERATOR, Role.ADMIN)
    @blp.etag
    @blp.arguments(ReplyTemplatePatchSchema, example={"auto_apply": False})
    @blp.response(200, ReplyTemplateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Another automatic template")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="Unknown placeholders")
    @blp.doc(operationId="updateReplyTemplate")
    def patch(self, changes: dict[str, Any], template_id: uuid.UUID) -> Any:
        """Change a reply template"""
        blp.check_etag(reply_templates.get_template(template_id, lock=True), ReplyTemplateSchema)
        return reply_templates.update_template(template_id=template_id, changes=changes)

    @access.roles(Role.OPERATOR, Role.ADMIN)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="deleteReplyTemplate")
    def delete(self, template_id: uuid.UUID) -> None:
        """Remove a reply template (replies already sent keep their text)"""
        reply_templates.delete_template(template_id)


# --- category questions ------------------------------------------------------------------------


@blp.route("/complaint-categories/<uuid:category_id>/form")
class CategoryFormView(MethodView):
    @access.roles(Role.OPERATOR, Role.ADMIN)
    @blp.etag
    @blp.arguments(CategoryFormSchema, example=CATEGORY_FORM_EXAMPLE)
    @blp.response(200, ComplaintCategorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        operationId="setComplaintCategoryForm",
        description="Replaces the category's questions, its notice and its stop. Reports "
        "already filed keep their answers with the questions as they were asked. Each "
        "question is also an Open311 attribute of the category's service definition.",
    )
    def put(self, payload: dict[str, Any], category_id: uuid.UUID) -> Any:
        """Set a category's extra questions, notice and emergency stop"""
        # The category's ETag (GET /complaint-categories/{id}): a stale If-Match is a 412.
        blp.check_etag(service.get_category(category_id, lock=True), ComplaintCategorySchema)
        return questions.set_form(category_id=category_id, **payload)


# --- assisted intake ---------------------------------------------------------------------------


@blp.route("/complaints/assisted")
class AssistedComplaintsView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(AssistedComplaintCreateSchema, example=ASSISTED_COMPLAINT_EXAMPLE)
    @blp.response(201, AssistedComplaintSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="Another agency's category")
    @blp.alt_response(
        422, response="UNPROCESSABLE_ENTITY", description="Invalid fields, or `emergency_stop`"
    )
    @blp.doc(operationId="createAssistedComplaint")
    def post(self, payload: dict[str, Any]) -> Any:
        """File a report on a resident's behalf (walk-in, phone, WhatsApp, SMS, email)"""
        principal = access.current_principal()
        filed = intake.file_for_resident(principal=principal, **payload)
        view = service.detail_view(filed.complaint, principal)
        view["acknowledgement"] = filed.acknowledgement
        view["linked_account"] = filed.linked_account
        return view


# --- field work --------------------------------------------------------------------------------


@blp.route("/complaints/assigned-to-me")
class AssignedComplaintsView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @blp.arguments(AssignmentsQueryArgsSchema, location="query")
    @blp.response(200, ComplaintListItemSchema(many=True))
    @blp.paginate(ListPage)
    @blp.doc(operationId="listMyAssignments")
    def get(self, args: dict[str, Any]) -> Any:
        """My assignments, nearest deadline first (sync with `updated_after`)"""
        return fieldwork.assignments_query(user_id=access.current_principal().id, **args)
