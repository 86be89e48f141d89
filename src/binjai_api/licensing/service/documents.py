"""Licensing: an application's documents: uploads, downloads and officers' reviews."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from binjai_api import uploads
from binjai_api.audit import service as audit_service
from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.licensing.models import (
    PermitDocument,
)
from binjai_api.licensing.service._common import (
    _agency_actors,
    _check_editable,
    _is_applicant,
    _latest_documents,
    _load_application,
    _not_your_step,
    _record,
    _requirement,
)
from binjai_api.licensing.workflow import (
    STATUSES,
    Actor,
    Clock,
    Status,
)


def upload_document(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    requirement_code: str,
    file: FileStorage | None,
) -> PermitDocument:
    """Add a document for one requirement; a re-upload adds a new version, the old ones stay."""
    application = _load_application(principal, application_id, lock=True)
    _check_editable(principal, application)
    requirement = _requirement(application.permit_type, requirement_code)
    if requirement is None:
        raise field_errors(
            {"requirement_code": [gettext("This permit type has no such requirement.")]},
            location="files",
        )
    checked = uploads.check_upload(
        file, accepted=requirement["accepted_types"], max_bytes=requirement["max_size_bytes"]
    )
    latest = db.session.scalar(
        sa.select(sa.func.max(PermitDocument.version)).where(
            PermitDocument.application_id == application.id,
            PermitDocument.requirement_code == requirement_code,
        )
    )
    key = uploads.store(checked.content)
    try:
        document = PermitDocument(
            application_id=application.id,
            requirement_code=requirement_code,
            version=(latest or 0) + 1,
            storage_key=key,
            sha256=checked.sha256,
            media_type=checked.media_type,
            size_bytes=checked.size,
            original_filename=checked.original_filename,
        )
        db.session.add(document)
        db.session.flush()
        _record(
            application,
            action="upload_document",
            from_status=application.status,
            actor=Actor.APPLICANT,
            principal=principal,
            details={
                "requirement_code": requirement_code,
                "version": document.version,
                "sha256": checked.sha256,
            },
        )
        application.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        uploads.delete_stored(key)
        raise
    return document


def document_content(
    *, principal: Principal, application_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[PermitDocument, bytes]:
    """A document's bytes, for the applicant and the officers handling the case."""
    application = _load_application(principal, application_id)
    document = db.session.get(PermitDocument, document_id)
    if document is None or document.application_id != application.id:
        raise not_found(gettext("Document not found."))
    content = uploads.read_stored(document.storage_key)
    if not _is_applicant(principal, application):
        audit_service.record_access(
            object_type=PermitDocument.__tablename__, object_ids=[document.id], fields=["content"]
        )
    return document, content


def review_document(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    review_status: str,
    note: str | None = None,
) -> PermitDocument:
    """Accept or reject one document during the agency's step; a correction request then sends
    the rejected ones back to the applicant with their reasons."""
    application = _load_application(principal, application_id, lock=True)
    waiting_on = STATUSES[Status(application.status)].waiting_on
    if STATUSES[Status(application.status)].clock != Clock.RUNNING or waiting_on is None:
        raise conflict(
            "document_review_closed",
            gettext("Documents are reviewed only while an agency works on the application."),
        )
    if waiting_on not in _agency_actors(principal, application.permit_type):
        raise _not_your_step()
    document = db.session.get(PermitDocument, document_id)
    if document is None or document.application_id != application.id:
        raise not_found(gettext("Document not found."))
    if _latest_documents(application)[document.requirement_code].id != document.id:
        raise conflict(
            "not_latest_version", gettext("Only the latest version of a document is reviewed.")
        )
    note = (note or "").strip() or None
    if review_status == "rejected" and note is None:
        raise field_errors({"note": [gettext("Give the reason for this step.")]})
    document.review_status = review_status
    document.review_note = note
    _record(
        application,
        action="review_document",
        from_status=application.status,
        actor=waiting_on,
        principal=principal,
        note=note,
        details={
            "requirement_code": document.requirement_code,
            "version": document.version,
            "review_status": review_status,
        },
    )
    application.updated_at = utcnow()
    db.session.commit()
    return document
