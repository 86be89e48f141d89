"""Complaints: reading reports: each reader's view, the contact reveal, and the officers' queue
(the residents' own list is in mine.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import has_app_context

from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints import questions
from binjai_api.complaints.models import Complaint, ComplaintEvent
from binjai_api.complaints.service._common import (
    COMPLAINT_SORTABLE,
    _actor,
    _get_for,
    _is_operator,
    _is_staff,
)
from binjai_api.complaints.service.photos import photo_view
from binjai_api.complaints.states import (
    REOPEN_WINDOW_DAYS,
    STATUSES,
    Actor,
    Privacy,
    Status,
    is_open,
)
from binjai_api.db import utcnow
from binjai_api.errors import Problem, forbidden
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.pagination import apply_sort
from binjai_api.privacy import mask_email, mask_tail


def get_complaint(*, principal: Principal, complaint_id: uuid.UUID) -> Complaint:
    """A report its reporter, its agency's officers or an operator may read."""
    return _get_for(principal, complaint_id)


def queue_query(
    *,
    principal: Principal,
    statuses: Sequence[str] | None = None,
    overdue: bool | None = None,
    category_id: uuid.UUID | None = None,
    agency_id: uuid.UUID | None = None,
    kecamatan_code: str | None = None,
    assigned_to_me: bool | None = None,
    updated_after: datetime | None = None,
    sort: str = "due_at",
) -> sa.Select[Complaint]:
    """The work queue: an officer's agency's reports, or every agency's for operators."""
    query = sa.select(Complaint)
    if _is_operator(principal):
        if agency_id is not None:
            query = query.where(Complaint.agency_id == agency_id)
    elif principal.role == Role.OFFICER and principal.agency_id is not None:
        query = query.where(Complaint.agency_id == principal.agency_id)
    else:
        raise forbidden()
    if statuses:
        query = query.where(Complaint.status.in_(statuses))
    now = utcnow()
    if overdue is True:
        query = query.where(Complaint.due_at.is_not(None), Complaint.due_at < now)
    elif overdue is False:
        query = query.where(sa.or_(Complaint.due_at.is_(None), Complaint.due_at >= now))
    if category_id is not None:
        query = query.where(Complaint.category_id == category_id)
    if kecamatan_code is not None:
        query = query.where(Complaint.kecamatan_code == kecamatan_code)
    if assigned_to_me is True:
        query = query.where(Complaint.assignee_id == principal.id)
    elif assigned_to_me is False:
        query = query.where(
            sa.or_(Complaint.assignee_id.is_(None), Complaint.assignee_id != principal.id)
        )
    if updated_after is not None:
        query = query.where(Complaint.updated_at > updated_after)
    if sort.lstrip("-") == "due_at":
        # Deadlines first; reports with none (closed) last, on both databases alike.
        due = Complaint.due_at.desc() if sort.startswith("-") else Complaint.due_at.asc()
        return query.order_by(due.nulls_last(), Complaint.id)
    return apply_sort(query, sort, COMPLAINT_SORTABLE, tiebreaker=Complaint.id)


# --- views shaped for each reader --------------------------------------------------------------


def _summary_view(complaint: Complaint) -> dict[str, Any]:
    """What every reader gets, the map included: a report in one line."""
    return {
        "id": complaint.id,
        "tracking_number": complaint.tracking_number,
        "type": complaint.type,
        "category_code": complaint.category.code,
        "agency_code": complaint.agency.code,
        "title": complaint.title,
        "kecamatan_code": complaint.kecamatan_code,
        "status": complaint.status,
        "is_open": is_open(complaint.status),
        "is_overdue": complaint.due_at is not None and complaint.due_at < utcnow(),
        "supporter_count": complaint.supporter_count,
        "created_at": complaint.created_at,
        "updated_at": complaint.updated_at,
    }


def _base_view(complaint: Complaint, *, public: bool) -> dict[str, Any]:
    return {
        **_summary_view(complaint),
        "category_id": complaint.category_id,
        "category_name": complaint.category.name,
        "agency_id": complaint.agency_id,
        "agency_name": complaint.agency.name,
        "description": complaint.description,
        "lat": complaint.lat,
        "lon": complaint.lon,
        "address": complaint.address,
        "kelurahan_code": complaint.kelurahan_code,
        "status_label": str(STATUSES[complaint.status].label),
        "due_at": complaint.due_at,
        "duplicate_of_id": complaint.duplicate_of_id,
        "resolution_note": complaint.resolution_note,
        "resolved_at": complaint.resolved_at,
        "photos": [photo_view(photo, public=public) for photo in complaint.photos],
    }


def public_view(complaint: Complaint) -> dict[str, Any]:
    """What anyone may see of a non-confidential report: no reporter, no contact details."""
    return _base_view(complaint, public=True)


def public_detail_view(complaint: Complaint) -> dict[str, Any]:
    """A public report with its steps: what happened when, never who or why."""
    view = public_view(complaint)
    view["answers"] = questions.answers_view(complaint.answers, staff=False)
    view["history"] = [
        {
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "created_at": event.created_at,
        }
        for event in _events(complaint.id)
    ]
    return view


def list_view(complaint: Complaint, principal: Principal) -> dict[str, Any]:
    """A row of the resident's list or the officers' queue (no identities)."""
    view = _base_view(complaint, public=False)
    view["privacy"] = complaint.privacy
    view["assignee_id"] = complaint.assignee_id if principal.role != Role.CITIZEN else None
    return view


def detail_view(complaint: Complaint, principal: Principal) -> dict[str, Any]:
    """The full report with its timeline, shaped for the caller: the reporter's identity only to
    staff and never when the report is anonymous."""
    actor = _actor(principal, complaint)
    staff = _is_staff(actor)
    hide_reporter = complaint.privacy == Privacy.ANONYMOUS and actor != Actor.REPORTER
    view = list_view(complaint, principal)
    # Staff see phone numbers and emails masked: they reveal them with a reason when they need
    # to call back (reveal_contact), and the trail records it.
    reporter = _reporter_details(complaint) if staff and not hide_reporter else None
    show_contact = not hide_reporter and (staff or actor == Actor.REPORTER)
    contact = _contact_details(complaint) if show_contact else None
    view["reporter"] = _masked(reporter)
    view["contact"] = _masked(contact) if staff else contact
    view["contact_masked"] = staff and (reporter is not None or contact is not None)
    if staff and (reporter is not None or contact is not None):
        shown = (["reporter.full_name"] if reporter is not None else []) + (
            ["contact_name"] if contact is not None else []
        )
        audit_service.record_access(
            object_type=Complaint.__tablename__, object_ids=[complaint.id], fields=shown
        )
    view["source"] = complaint.source
    view["channel"] = complaint.channel
    # Private answers: the staff's and their author's, never the public's.
    view["answers"] = questions.answers_view(
        complaint.answers, staff=staff or actor == Actor.REPORTER
    )
    view["rating"] = complaint.rating
    view["rating_feedback"] = complaint.rating_feedback
    view["reopen_until"] = (
        complaint.resolved_at + timedelta(days=REOPEN_WINDOW_DAYS)
        if complaint.status == Status.RESOLVED and complaint.resolved_at
        else None
    )
    view["history"] = [
        {
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "actor_role": event.actor_role,
            # Who acted: staff only, and never the anonymous reporter.
            "actor_id": (
                event.actor_id
                if staff and not (hide_reporter and event.actor_role == Actor.REPORTER)
                else None
            ),
            "from_agency_id": event.from_agency_id,
            "to_agency_id": event.to_agency_id,
            "note": event.note,
            "created_at": event.created_at,
        }
        for event in _history(complaint)
    ]
    return view


def _reporter_details(complaint: Complaint) -> dict[str, Any] | None:
    if complaint.reporter_id is None:
        return None
    user = auth_service.get_user(complaint.reporter_id)
    return {"id": user.id, "full_name": user.full_name, "phone": user.phone, "email": user.email}


def _contact_details(complaint: Complaint) -> dict[str, Any] | None:
    """The contact an integrator passed on with the report, if any."""
    if not (complaint.contact_name or complaint.contact_email or complaint.contact_phone):
        return None
    return {
        "name": complaint.contact_name,
        "email": complaint.contact_email,
        "phone": complaint.contact_phone,
    }


def _masked(details: dict[str, Any] | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {
        **details,
        "phone": mask_tail(details["phone"]),
        "email": mask_email(details["email"]),
    }


def reveal_contact(*, principal: Principal, complaint_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """Show the reporter's phone and email unmasked to the officer handling the report or an
    operator, recording who, when and why in the audit trail (UU 27/2022: need to know)."""
    complaint = _get_for(principal, complaint_id)
    actor = _actor(principal, complaint)
    if actor == Actor.OFFICER and complaint.assignee_id != principal.id:
        raise Problem(
            403,
            "not_handling_officer",
            gettext("Only the officer handling this report, or an operator, may see the contact."),
        )
    if actor not in (Actor.OPERATOR, Actor.OFFICER):
        raise forbidden(gettext("Only staff reveal a reporter's contact details."))
    if complaint.privacy == Privacy.ANONYMOUS:
        raise Problem(
            403,
            "anonymous_report",
            gettext("The reporter chose to stay anonymous: their contact is never revealed."),
        )
    reporter, contact = _reporter_details(complaint), _contact_details(complaint)
    fields = (
        ["reporter.full_name", "reporter.phone", "reporter.email"] if reporter is not None else []
    ) + (["contact_name", "contact_email", "contact_phone"] if contact is not None else [])
    revealed_at = utcnow()
    audit_service.record_access(
        object_type=Complaint.__tablename__,
        object_ids=[complaint.id],
        fields=fields,
        action=audit_service.REVEAL_ACTION,
        reason=reason.strip(),
    )
    return {
        "complaint_id": complaint.id,
        "reporter": reporter,
        "contact": contact,
        "reason": reason.strip(),
        "revealed_at": revealed_at,
    }


# Key of `Session.info`: (report id, its history) as just written in this session by
# remember_events, until any other history entry is made in it.
_WRITTEN_HISTORY = "binjai.complaint_history_written"


def remember_events(complaint: Complaint, events: Sequence[ComplaintEvent]) -> None:
    """The report's whole history is `events`, just written: its detail view shows them instead
    of reading them back (a submission answers without a SELECT after its INSERTs)."""
    db.session.info[_WRITTEN_HISTORY] = (complaint.id, list(events))


@sa.event.listens_for(ComplaintEvent, "init")
def _forget_written_history(*_args: Any) -> None:
    """A new history entry of any report: what remember_events knew may be incomplete now."""
    if has_app_context():
        db.session.info.pop(_WRITTEN_HISTORY, None)


def _history(complaint: Complaint) -> Sequence[ComplaintEvent]:
    written = db.session.info.get(_WRITTEN_HISTORY) if has_app_context() else None
    if written is not None and written[0] == complaint.id:
        return sorted(written[1], key=lambda event: event.created_at)
    return _events(complaint.id)


def _events(complaint_id: uuid.UUID) -> Sequence[ComplaintEvent]:
    return db.session.scalars(
        sa.select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(ComplaintEvent.created_at)
    ).all()
