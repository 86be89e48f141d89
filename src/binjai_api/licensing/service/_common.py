"""Licensing helpers the service modules share: who may see and act on an application, its
event rows and its latest documents."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.errors import STATUS_DETAILS, Problem, conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext, lazy_gettext
from binjai_api.licensing.models import (
    PermitApplication,
    PermitApplicationEvent,
    PermitDocument,
    PermitType,
)
from binjai_api.licensing.workflow import (
    Action,
    Actor,
    Status,
)

EDITABLE_STATUSES = (
    Status.DRAFT,
    Status.CORRECTION_REQUESTED,
    Status.TECHNICAL_CORRECTION_REQUESTED,
)
REVIEW_RESULTS = ("recommended", "not_recommended")
# A missed deadline reported by the command center: a timeline entry, not a workflow step.
ESCALATE_ACTION = "escalate"
SYSTEM_ACTOR = "system"
FIELD_TYPES = ("text", "number", "date", "boolean", "choice", "kelurahan")
DOCUMENT_REVIEW_STATUSES = ("pending", "accepted", "rejected")
MISSING_VALUE = lazy_gettext("Missing data for required field.")
MISSING_DOCUMENT = lazy_gettext("This document is required.")
NEW_VERSION_NEEDED = lazy_gettext("Upload a corrected version of this document.")


# --- who may see and do what -------------------------------------------------------------------


def _agency_actors(principal: Principal, permit_type: PermitType) -> set[Actor]:
    """The agency roles an officer holds for applications of this permit type."""
    if principal.role != Role.OFFICER or principal.agency_id is None:
        return set()
    actors = set()
    if principal.agency_id == permit_type.issuing_agency_id:
        actors.add(Actor.ISSUING_AGENCY)
    if principal.agency_id == permit_type.technical_agency_id:
        actors.add(Actor.TECHNICAL_AGENCY)
    return actors


def _is_applicant(principal: Principal, application: PermitApplication) -> bool:
    return principal.role == Role.CITIZEN and principal.id == application.applicant_id


def _can_see(principal: Principal, application: PermitApplication) -> bool:
    if _is_applicant(principal, application):
        return True
    if application.status == Status.DRAFT:
        return False  # a draft is the applicant's alone
    if principal.role in (Role.OPERATOR, Role.ADMIN):
        return True  # the Command Center watches every service (read only)
    return bool(_agency_actors(principal, application.permit_type))


def _not_your_step() -> Problem:
    return Problem(
        403, "not_your_step", gettext("This step belongs to another party of the application.")
    )


def _load_application(
    principal: Principal, application_id: uuid.UUID, *, lock: bool = False
) -> PermitApplication:
    """The application if this caller may see it; otherwise 404, its existence being private."""
    query = sa.select(PermitApplication).where(PermitApplication.id == application_id)
    if lock:
        query = query.with_for_update(of=PermitApplication).execution_options(
            populate_existing=True
        )
    application = db.session.scalar(query)
    if application is None or not _can_see(principal, application):
        raise not_found(gettext("Permit application not found."))
    return application


def _open_corrections(application: PermitApplication) -> list[dict[str, Any]]:
    if application.status not in (
        Status.CORRECTION_REQUESTED,
        Status.TECHNICAL_CORRECTION_REQUESTED,
    ):
        return []
    event = _last_correction_request(application.id)
    return list(event.details.get("corrections", [])) if event else []


def _last_correction_request(application_id: uuid.UUID) -> PermitApplicationEvent | None:
    return db.session.scalar(
        sa.select(PermitApplicationEvent)
        .where(
            PermitApplicationEvent.application_id == application_id,
            PermitApplicationEvent.action == Action.REQUEST_CORRECTION,
        )
        .order_by(PermitApplicationEvent.created_at.desc(), PermitApplicationEvent.id.desc())
        .limit(1)
    )


def _documents(application_id: uuid.UUID) -> list[PermitDocument]:
    return list(
        db.session.scalars(
            sa.select(PermitDocument)
            .where(PermitDocument.application_id == application_id)
            .order_by(PermitDocument.requirement_code, PermitDocument.version)
        )
    )


def _latest_documents(application: PermitApplication) -> dict[str, PermitDocument]:
    """The newest version of each requirement's document."""
    latest: dict[str, PermitDocument] = {}
    for document in _documents(application.id):
        latest[document.requirement_code] = document
    return latest


def _nested_errors(name: str, errors: dict[str, list[str]]) -> Problem:
    """A 422 naming the entries at fault inside one field: {"json": {name: {code: [...]}}}."""
    return Problem(422, "validation_error", STATUS_DETAILS[422], errors={"json": {name: errors}})


def _check_editable(principal: Principal, application: PermitApplication) -> None:
    if not _is_applicant(principal, application):
        raise not_found(gettext("Permit application not found."))
    if application.status not in EDITABLE_STATUSES:
        raise conflict(
            "application_not_editable",
            gettext("This application can only be changed as a draft or during a correction."),
        )


def _requirement(permit_type: PermitType, code: str) -> dict[str, Any] | None:
    return next((r for r in permit_type.document_requirements if r["code"] == code), None)


def _record(
    application: PermitApplication,
    *,
    action: str,
    from_status: str | None,
    actor: Actor,
    principal: Principal | None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.session.add(
        PermitApplicationEvent(
            application_id=application.id,
            action=action,
            from_status=from_status,
            to_status=application.status,
            actor_id=principal.id if principal else None,
            actor_kind=str(actor),
            actor_agency_id=principal.agency_id if principal else None,
            note=note,
            details=details or {},
        )
    )
