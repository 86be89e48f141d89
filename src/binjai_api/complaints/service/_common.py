"""Complaints helpers the service modules share: limits and sort keys, and who may see and act on
a report."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.audit import service as audit_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints.models import (
    Complaint,
    ComplaintCategory,
)
from binjai_api.complaints.states import (
    Actor,
    Privacy,
)
from binjai_api.config import API_V1_STR
from binjai_api.errors import field_errors, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language
from binjai_api.i18n import gettext

MAX_PHOTOS = 5  # per report and purpose (the reporter's, the officer's resolution photos)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
NEARBY_DEFAULT_RADIUS_M = 200
TRACKING_PREFIX = "BJI"
PUBLIC_API = f"{API_V1_STR}/public/complaints"
PRIVATE_API = f"{API_V1_STR}/complaints"
# The timeline entry of a missed deadline reported by the command center (not a transition).
ESCALATE_ACTION = "escalate"


CATEGORY_SORTABLE = {
    "code": ComplaintCategory.code,
    "name": ComplaintCategory.name,
    "updated_at": ComplaintCategory.updated_at,
}
COMPLAINT_SORTABLE = {
    "created_at": Complaint.created_at,
    "updated_at": Complaint.updated_at,
    "due_at": Complaint.due_at,
}
PUBLIC_SORTABLE = {"created_at": Complaint.created_at, "updated_at": Complaint.updated_at}


def _clean(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


# --- who may see and do what -------------------------------------------------------------------


def _is_operator(principal: Principal) -> bool:
    return principal.is_user and principal.role in (Role.OPERATOR, Role.ADMIN)


def _actor(principal: Principal, complaint: Complaint) -> str | None:
    """The role the caller plays on this report, or None when it is none of theirs."""
    if not principal.is_user:
        return None
    if _is_operator(principal):
        return Actor.OPERATOR
    if principal.role == Role.OFFICER and principal.agency_id == complaint.agency_id:
        return Actor.OFFICER
    if complaint.reporter_id is not None and complaint.reporter_id == principal.id:
        return Actor.REPORTER
    return None


def _is_staff(actor: str | None) -> bool:
    return actor in (Actor.OPERATOR, Actor.OFFICER)


def _load(complaint_id: uuid.UUID, *, lock: bool = False) -> Complaint | None:
    query = sa.select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update(of=Complaint)
    return db.session.scalar(query)


def _get_for(principal: Principal, complaint_id: uuid.UUID, *, lock: bool = False) -> Complaint:
    """The report if the caller may see it; 404 otherwise (its existence is private)."""
    complaint = _load(complaint_id, lock=lock)
    actor = _actor(principal, complaint) if complaint is not None else None
    if complaint is None or actor is None:
        raise not_found(gettext("Report not found."))
    if actor == Actor.REPORTER and complaint.privacy == Privacy.ANONYMOUS:
        # Their later actions on it too: the trail keeps their anonymity (audit.pseudonyms).
        audit_service.act_pseudonymously(principal.id)
    return complaint


# --- transitions -------------------------------------------------------------------------------


def _agency_name(agency: Any, language: str) -> str:
    if agency is None:
        return ""
    return agency.name_en if language == "en" else agency.name


def _notification_params(complaint: Complaint, **extra: str) -> dict[str, str]:
    agency = agencies_service.find_agency(complaint.agency_id)
    return {
        "tracking_number": complaint.tracking_number,
        "title": complaint.title[:80],
        # The agency's name in each reader's language.
        **in_each_language("agency", lambda language: _agency_name(agency, language)),
        **extra,
    }


def _check_agency(agency_id: uuid.UUID) -> None:
    """A category or a report goes only to an agency that exists and is active (422 otherwise)."""
    agency = agencies_service.find_agency(agency_id)
    if agency is None or not agency.is_active:
        raise field_errors({"agency_id": [gettext("No active agency with this id.")]})
