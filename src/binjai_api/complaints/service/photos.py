"""Complaints: a report's photos: adding, viewing and reading them."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from binjai_api import uploads
from binjai_api.auth.service import Principal
from binjai_api.complaints.models import (
    Complaint,
    ComplaintPhoto,
)
from binjai_api.complaints.service._common import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    PRIVATE_API,
    PUBLIC_API,
    _actor,
    _get_for,
)
from binjai_api.complaints.states import (
    OPEN_STATUSES,
    Actor,
    Status,
)
from binjai_api.db import utcnow
from binjai_api.errors import Problem, conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext


def photo_public_url(photo: ComplaintPhoto) -> str:
    """The public download path of a photo of a non-confidential report."""
    return f"{PUBLIC_API}/{photo.complaint_id}/photos/{photo.id}"


def photo_private_url(photo: ComplaintPhoto) -> str:
    return f"{PRIVATE_API}/{photo.complaint_id}/photos/{photo.id}"


# --- photos ------------------------------------------------------------------------------------


def add_photo(
    *, principal: Principal, complaint_id: uuid.UUID, file: FileStorage | None
) -> ComplaintPhoto:
    """Attach a photo: the reporter's of the problem while the report is open, staff's of the
    fix while it is with the agency or just resolved. Nothing is stored when a check fails."""
    complaint = _get_for(principal, complaint_id, lock=True)
    actor = _actor(principal, complaint)
    if actor == Actor.REPORTER:
        purpose, allowed = "report", OPEN_STATUSES
    else:
        purpose = "resolution"
        allowed = (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED, Status.RESOLVED)
    if complaint.status not in allowed:
        raise conflict(
            "invalid_transition", gettext("Photos cannot be added to a report in this status.")
        )
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ComplaintPhoto)
        .where(ComplaintPhoto.complaint_id == complaint.id, ComplaintPhoto.purpose == purpose)
    )
    if (count or 0) >= MAX_PHOTOS:
        raise conflict(
            "photo_limit_reached",
            gettext("A report takes at most %(count)s photos.", count=MAX_PHOTOS),
        )
    checked = uploads.check_upload(file, accepted=uploads.IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)
    key = uploads.store(checked.content)
    try:
        photo = ComplaintPhoto(
            complaint_id=complaint.id,
            purpose=purpose,
            storage_key=key,
            media_type=checked.media_type,
            size_bytes=checked.size,
            sha256=checked.sha256,
            uploaded_by_id=principal.id,
        )
        db.session.add(photo)
        complaint.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        uploads.delete_stored(key)
        raise
    return photo


def photo_view(photo: ComplaintPhoto, *, public: bool = False) -> dict[str, Any]:
    """A photo's entry: its download path, public or for those who may see the report."""
    return {
        "id": photo.id,
        "purpose": photo.purpose,
        "media_type": photo.media_type,
        "url": photo_public_url(photo) if public else photo_private_url(photo),
        "created_at": photo.created_at,
    }


def read_photo(
    *, principal: Principal, complaint_id: uuid.UUID, photo_id: uuid.UUID
) -> tuple[bytes, str]:
    """A photo of a report the caller may see: (content, media type)."""
    return _read_photo(_get_for(principal, complaint_id), photo_id)


def _read_photo(complaint: Complaint, photo_id: uuid.UUID) -> tuple[bytes, str]:
    photo = db.session.get(ComplaintPhoto, photo_id)
    if photo is None or photo.complaint_id != complaint.id:
        raise not_found(gettext("Photo not found."))
    try:
        return uploads.read_stored(photo.storage_key), photo.media_type
    except FileNotFoundError:
        raise Problem(404, "not_found", gettext("Photo not found.")) from None
