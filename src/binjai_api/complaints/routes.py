"""Complaints, aspirations and information requests (pengaduan / aspirasi)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_jwt_extended import get_current_user

from binjai_api import access, idempotency, public_cache
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints import exports, service
from binjai_api.complaints.schemas import (
    COMMENT_EXAMPLE,
    COMPLAINT_CATEGORY_EXAMPLE,
    COMPLAINT_EXAMPLES,
    COMPLAINT_LOCATION_RULE,
    CONTACT_REVEAL_EXAMPLE,
    TRANSITION_EXAMPLE,
    ComplaintCategoryCreateSchema,
    ComplaintCategoryPatchSchema,
    ComplaintCategoryQueryArgsSchema,
    ComplaintCategorySchema,
    ComplaintCommentCreateSchema,
    ComplaintCommentQueryArgsSchema,
    ComplaintCommentSchema,
    ComplaintCreateSchema,
    ComplaintGeoJsonFeatureCollectionSchema,
    ComplaintGeoJsonQueryArgsSchema,
    ComplaintListItemSchema,
    ComplaintPhotoSchema,
    ComplaintPhotoUploadSchema,
    ComplaintSchema,
    ComplaintTransitionSchema,
    ContactRevealCreateSchema,
    ContactRevealSchema,
    MyComplaintsQueryArgsSchema,
    NearbyComplaintsQueryArgsSchema,
    PublicComplaintDetailSchema,
    PublicComplaintSchema,
    PublicComplaintsQueryArgsSchema,
    QueueQueryArgsSchema,
)
from binjai_api.complaints.states import transitions_table_markdown
from binjai_api.config import API_V1_STR
from binjai_api.csv_export import csv_doc, send_csv, wants_csv
from binjai_api.openapi import Blueprint
from binjai_api.pagination import LINK_HEADER_DOC, PublicSelectPage, SelectPage
from binjai_api.ratelimit import limit_by

blp = Blueprint(
    "complaints",
    __name__,
    url_prefix=API_V1_STR,
    description="Complaints, aspirations and information requests (SP4N-LAPOR! types).",
)

IMAGE_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in ("image/jpeg", "image/png", "image/webp")
}
PHOTO_DOWNLOAD_DOC = {"responses": {200: {"description": "The photo", "content": IMAGE_CONTENT}}}
PHOTO_UPLOAD_EXAMPLE = {"file": "(binary JPEG, PNG or WebP)"}
PAGINATION_HEADER = {
    "X-Pagination": {"description": "Pagination metadata (JSON)", "schema": {"type": "string"}},
    "Link": LINK_HEADER_DOC,
}


def submitter_key() -> str:
    """The submitting account, whatever its address. Flask-Limiter calls a decorated view's key
    inside the view's wrapper, after `access.authenticated` has verified the token, so there is
    always a principal here."""
    return f"submitter:{access.current_principal().id}"


class PublicPage(PublicSelectPage):
    """Reports as anyone may see them."""

    @property
    def items(self) -> list[Any]:
        return service.public_views_page(
            self.collection,
            offset=self.page_params.first_item,
            limit=self.page_params.page_size,
        )


class ListPage(SelectPage):
    """Reports as the caller may see them in a list."""

    deadline_attribute = "due_at"  # `is_overdue`

    @property
    def items(self) -> list[Any]:
        principal = access.current_principal()
        return [service.list_view(complaint, principal) for complaint in super().items]


class MyComplaintsPage(SelectPage):
    """The caller's own reports: the page and its total read in one statement of plain rows
    (`service.my_complaints_page`), then written in their JSON form; a poll whose rows are what
    the client has answers 304 before any is written."""

    collection: service.MyComplaints  # type: ignore[assignment]
    deadline_attribute = "due_at"  # `is_overdue`

    @property
    def item_count(self) -> int:
        # flask-smorest asks for the total first, then for the items.
        self._page = service.my_complaints_page(
            self.collection, offset=self.page_params.first_item, limit=self.page_params.page_size
        )
        return self._page.total

    @property
    def items(self) -> list[Any]:
        self.poll_rows(self._page.rows)
        return self._page.views(access.current_principal())


class CommentPage(SelectPage):
    @property
    def items(self) -> list[Any]:
        principal = access.current_principal()
        return [service.comment_view(comment, principal) for comment in super().items]


def _image(content: bytes, media_type: str, *, public: bool) -> Response:
    response = current_app.response_class(content, mimetype=media_type)
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- categories --------------------------------------------------------------------------------


@blp.route("/complaint-categories")
class ComplaintCategoriesView(MethodView):
    @access.public
    @blp.arguments(ComplaintCategoryQueryArgsSchema(), location="query")
    @blp.response(200, ComplaintCategorySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List the complaint categories, each with its agency and follow-up deadline"""
        return service.categories_query(**args)

    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(ComplaintCategoryCreateSchema(), example=COMPLAINT_CATEGORY_EXAMPLE)
    @blp.response(201, ComplaintCategorySchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Add a complaint category"""
        return service.create_category(**payload)


@blp.route("/complaint-categories/<uuid:category_id>")
class ComplaintCategoryByIdView(MethodView):
    @access.public
    @blp.etag
    @blp.response(200, ComplaintCategorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, category_id: uuid.UUID) -> Any:
        """Read a complaint category"""
        return service.get_category(category_id)

    @access.roles(Role.ADMIN)
    @blp.etag
    @blp.arguments(ComplaintCategoryPatchSchema(), example={"follow_up_days": 3, "is_active": True})
    @blp.response(200, ComplaintCategorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes: dict[str, Any], category_id: uuid.UUID) -> Any:
        """Change a complaint category"""
        blp.check_etag(service.get_category(category_id, lock=True), ComplaintCategorySchema)
        return service.update_category(category_id=category_id, changes=changes)


# --- residents and staff -----------------------------------------------------------------------


@blp.route("/complaints")
class ComplaintsView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @blp.arguments(QueueQueryArgsSchema(), location="query")
    @blp.response(200, ComplaintListItemSchema(many=True))
    @blp.paginate(ListPage)
    @blp.doc(**csv_doc(exports.QUEUE_CSV_COLUMNS, exports.QUEUE_CSV_EXAMPLE))
    def get(self, args: dict[str, Any]) -> Any:
        """The work queue: my agency's reports (officers) or all reports (operators)"""
        query = service.queue_query(principal=access.current_principal(), **args)
        if wants_csv():  # the whole filtered queue, with the answers to the category questions
            send_csv(exports.QUEUE_CSV_COLUMNS, exports.queue_csv_rows(query), "complaints.csv")
        return query

    @access.authenticated
    @limit_by("COMPLAINT_SUBMIT_RATE_LIMIT", submitter_key)
    @idempotency.idempotent
    @blp.arguments(
        ComplaintCreateSchema(), examples=COMPLAINT_EXAMPLES, description=COMPLAINT_LOCATION_RULE
    )
    @blp.response(201, ComplaintSchema)
    def post(self, payload: dict[str, Any]) -> Any:
        """Submit a complaint, aspiration or information request"""
        # The principal itself, not the `current_user` proxy: the view and the detail view read
        # it a few times, each read through the proxy being a lookup of the token's user.
        principal: Principal | None = get_current_user()
        if principal is None:  # access.authenticated admitted a caller: unreachable
            principal = access.current_principal()
        complaint = service.submit_complaint(reporter_id=principal.id, **payload)
        return service.detail_view(complaint, principal)


@blp.route("/complaints/mine")
class MyComplaintsView(MethodView):
    @access.authenticated
    @blp.arguments(MyComplaintsQueryArgsSchema(), location="query")
    @blp.response(200, ComplaintListItemSchema(many=True))
    @blp.paginate(MyComplaintsPage, polled=True)
    def get(self, args: dict[str, Any]) -> Any:
        """List my reports (sync with `updated_after`)"""
        return service.my_complaints(user_id=access.current_principal().id, **args)


@blp.route("/complaints/nearby")
class NearbyComplaintsView(MethodView):
    @access.authenticated
    @blp.arguments(NearbyComplaintsQueryArgsSchema(), location="query")
    @blp.response(200, PublicComplaintSchema(many=True))
    @blp.paginate(PublicPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Open reports near a point, nearest first: support one instead of filing a duplicate"""
        return service.nearby_query(**args)


@blp.route("/complaints/<uuid:complaint_id>")
class ComplaintByIdView(MethodView):
    @access.authenticated
    @blp.etag
    @blp.response(200, ComplaintSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id: uuid.UUID) -> Any:
        """Read one of my reports (or my agency's) with its full timeline"""
        principal = access.current_principal()
        complaint = service.get_complaint(principal=principal, complaint_id=complaint_id)
        return service.detail_view(complaint, principal)


@blp.route("/complaints/<uuid:complaint_id>/transitions")
class ComplaintTransitionsView(MethodView):
    @access.authenticated
    @blp.arguments(ComplaintTransitionSchema(), example=TRANSITION_EXAMPLE)
    @blp.response(200, ComplaintSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="Not an action for your role")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Not allowed in the current status")
    @blp.doc(
        description="Every change of a report goes through one of these actions. An action "
        "not allowed from the report's current status answers 409 `invalid_transition`; "
        "officers act only on their agency's reports, operators on all.\n\n"
        + transitions_table_markdown()
    )
    def post(self, payload: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Take an action on a report (dispatch, reject, transfer, resolve, reopen ...)"""
        principal = access.current_principal()
        complaint = service.transition(principal=principal, complaint_id=complaint_id, **payload)
        return service.detail_view(complaint, principal)


@blp.route("/complaints/<uuid:complaint_id>/contact-reveals")
class ComplaintContactRevealsView(MethodView):
    @access.roles(Role.OFFICER, Role.OPERATOR, Role.ADMIN)
    @blp.arguments(ContactRevealCreateSchema(), example=CONTACT_REVEAL_EXAMPLE)
    @blp.response(200, ContactRevealSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="revealComplaintContact")
    def post(self, payload: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Reveal the reporter's phone and email, with a reason kept in the audit trail

        Staff see a reporter's phone number and email masked. The officer the report is
        assigned to, or an operator, sees them in full here; the audit trail records who, when
        and why (`reveal_contact`). Other officers get 403 `not_handling_officer`; an anonymous
        report answers 403 `anonymous_report`. The answer is `Cache-Control: no-store`. Not
        replayed by `Idempotency-Key`: a stored answer would keep the contact for 24 hours;
        asking again reveals, and records, again.
        """
        revealed = service.reveal_contact(
            principal=access.current_principal(), complaint_id=complaint_id, **payload
        )
        return revealed, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blp.route("/complaints/<uuid:complaint_id>/comments")
class ComplaintCommentsView(MethodView):
    @access.authenticated
    @blp.arguments(ComplaintCommentQueryArgsSchema(), location="query")
    @blp.response(200, ComplaintCommentSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(CommentPage)
    def get(self, args: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Read a report's thread (internal notes only for staff)"""
        return service.comments_query(
            principal=access.current_principal(), complaint_id=complaint_id, **args
        )

    @access.authenticated
    @idempotency.idempotent
    @blp.arguments(ComplaintCommentCreateSchema(), example=COMMENT_EXAMPLE)
    @blp.response(201, ComplaintCommentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(403, response="FORBIDDEN", description="Internal notes are for staff")
    def post(self, payload: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Post a response or, for staff, an internal note"""
        principal = access.current_principal()
        comment = service.add_comment(principal=principal, complaint_id=complaint_id, **payload)
        return service.comment_view(comment, principal)


@blp.route("/complaints/<uuid:complaint_id>/photos")
class ComplaintPhotosView(MethodView):
    @access.authenticated
    @idempotency.idempotent
    @blp.arguments(ComplaintPhotoUploadSchema, location="files", example=PHOTO_UPLOAD_EXAMPLE)
    @blp.response(201, ComplaintPhotoSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Photo limit or status")
    def post(self, files: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Attach a photo (at most 5 per report, 5 MB each; EXIF and GPS are removed)"""
        photo = service.add_photo(
            principal=access.current_principal(), complaint_id=complaint_id, file=files.get("file")
        )
        return service.photo_view(photo)


@blp.route("/complaints/<uuid:complaint_id>/photos/<uuid:photo_id>")
class ComplaintPhotoView(MethodView):
    @access.authenticated
    @blp.doc(**PHOTO_DOWNLOAD_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
        """Download a photo of a report I may see"""
        content, media_type = service.read_photo(
            principal=access.current_principal(), complaint_id=complaint_id, photo_id=photo_id
        )
        return _image(content, media_type, public=False)


@blp.route("/complaints/<uuid:complaint_id>/support")
class ComplaintSupportView(MethodView):
    @access.authenticated
    @idempotency.idempotent
    @blp.response(201, PublicComplaintSchema, description="Support recorded")
    @blp.alt_response(200, schema=PublicComplaintSchema, description="Already supported")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Own or closed report")
    def post(self, complaint_id: uuid.UUID) -> Any:
        """Say "saya juga" (me too): follow an open report instead of filing a duplicate"""
        complaint, added = service.support_complaint(
            principal=access.current_principal(), complaint_id=complaint_id
        )
        return service.public_view(complaint), 201 if added else 200

    @access.authenticated
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, complaint_id: uuid.UUID) -> None:
        """Take back my "saya juga\""""
        service.withdraw_support(principal=access.current_principal(), complaint_id=complaint_id)


# --- the public feed ---------------------------------------------------------------------------


@blp.route("/public/complaints")
class PublicComplaintsView(MethodView):
    @access.public
    @public_cache.public_response
    @blp.arguments(PublicComplaintsQueryArgsSchema(), location="query")
    @blp.response(200, PublicComplaintSchema(many=True))
    @blp.paginate(PublicPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The public feed: non-confidential reports, never the reporter's identity"""
        return service.public_complaints_query(**args)


@blp.route("/public/complaints.geojson")
class PublicComplaintsGeoJsonView(MethodView):
    @access.public
    @public_cache.public_response
    @blp.arguments(ComplaintGeoJsonQueryArgsSchema(), location="query")
    @blp.response(
        200,
        ComplaintGeoJsonFeatureCollectionSchema,
        content_type="application/geo+json",
        headers=PAGINATION_HEADER,
        description="RFC 7946 FeatureCollection; reports without coordinates are left out",
    )
    def get(self, args: dict[str, Any]) -> Any:
        """The public feed as GeoJSON points for maps"""
        collection, total = service.public_geojson(**args)
        body = ComplaintGeoJsonFeatureCollectionSchema().dump(collection)
        # The same X-Pagination and Link headers as every paginated list (CONVENTIONS: lists).
        return current_app.response_class(
            json.dumps(body),
            mimetype="application/geo+json",
            headers=blp.pagination_headers(args["page"], args["page_size"], total),
        )


@blp.route("/public/complaints/<uuid:complaint_id>")
class PublicComplaintByIdView(MethodView):
    @access.public
    @blp.etag
    @blp.response(200, PublicComplaintDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id: uuid.UUID) -> Any:
        """Read a public report with its public timeline"""
        complaint = service.get_public_complaint(complaint_id)
        return service.public_detail_view(complaint)


@blp.route("/public/complaints/<uuid:complaint_id>/photos/<uuid:photo_id>")
class PublicComplaintPhotoView(MethodView):
    @access.public
    @blp.doc(**PHOTO_DOWNLOAD_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
        """Download a photo of a public report"""
        content, media_type = service.read_public_photo(
            complaint_id=complaint_id, photo_id=photo_id
        )
        return _image(content, media_type, public=True)
