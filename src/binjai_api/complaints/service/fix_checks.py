"""Complaints: "is it fixed?": the resolved reports whose followers are asked, and their answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from binjai_api.complaints.models import (
    Complaint,
    ComplaintEvent,
)
from binjai_api.complaints.service._common import _clean, _load, _notification_params
from binjai_api.complaints.service.workflow import (
    _followers,
    _invite_to_survey,
    _notify,
    _publish_status_change,
)
from binjai_api.complaints.states import (
    TRANSITIONS,
    Action,
    Actor,
    Status,
)
from binjai_api.db import utcnow
from binjai_api.errors import conflict
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.workcalendar import service as workcalendar

# --- "is it fixed?" (asked by quality/fix_checks.py) --------------------------------------------


@dataclass(frozen=True)
class ResolvedReport:
    id: uuid.UUID
    resolved_at: datetime
    agency_id: uuid.UUID | None


def resolved_reports(*, resolved_from: datetime, resolved_before: datetime) -> list[ResolvedReport]:
    """Reports still resolved (neither closed nor reopened since) whose resolution fell in
    [resolved_from, resolved_before)."""
    rows = db.session.execute(
        sa.select(Complaint.id, Complaint.resolved_at, Complaint.agency_id)
        .where(
            Complaint.status == Status.RESOLVED,
            Complaint.resolved_at >= resolved_from,
            Complaint.resolved_at < resolved_before,
        )
        .order_by(Complaint.resolved_at, Complaint.id)
    )
    return [ResolvedReport(row.id, row.resolved_at, row.agency_id) for row in rows]


def is_follower(*, complaint_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the account is the report's reporter or one of its supporters."""
    complaint = _load(complaint_id)
    return complaint is not None and user_id in _followers(complaint)


def ask_if_fixed(*, complaint_id: uuid.UUID, answer_until: datetime) -> int:
    """Ask the reporter and the supporters whether the resolved problem is really fixed, in the
    caller's transaction. Returns how many were asked."""
    complaint = _load(complaint_id)
    if complaint is None or complaint.resolved_at is None:
        return 0
    recipients = _followers(complaint)
    if not recipients:
        return 0
    resolved_on, last_day = (
        workcalendar.local_date(complaint.resolved_at),
        workcalendar.local_date(answer_until),
    )
    notifications_service.notify(
        recipients=recipients,
        kind=kinds.COMPLAINT_FIX_CHECK,
        params={
            **_notification_params(complaint),
            **in_each_language("resolved_on", lambda language: long_date(resolved_on, language)),
            **in_each_language("until", lambda language: long_date(last_day, language)),
        },
        link=notifications_service.Link("complaints", str(complaint.id)),
    )
    return len(recipients)


def settle_fix_check(
    *,
    complaint_id: uuid.UUID,
    resolved_at: datetime,
    user_id: uuid.UUID,
    fixed: bool,
    reason: str | None,
) -> Complaint:
    """The answer to "is it fixed?", in the caller's transaction: "yes" closes the report, "no"
    reopens it with the reason, like the reporter's own reopening (a new follow-up deadline, the
    agency told), past the 7-day window: the question opens its own. Refused (409) when the
    report has moved on since the question (closed, rated or reopened meanwhile)."""
    complaint = _load(complaint_id, lock=True)
    if (
        complaint is None
        or complaint.status != Status.RESOLVED
        or complaint.resolved_at != resolved_at
    ):
        raise conflict(
            "invalid_transition",
            gettext("This report is no longer waiting for an answer to “is it fixed?”."),
        )
    now = utcnow()
    recipients = _followers(complaint)
    from_status, due = complaint.status, complaint.due_at
    note = None if fixed else _clean(reason, 2000)
    rule = TRANSITIONS[Action.CLOSE if fixed else Action.REOPEN]
    if fixed:
        complaint.status, complaint.closed_at, complaint.due_at = Status.CLOSED, now, None
        _invite_to_survey(complaint, now)
    else:
        complaint.status, complaint.resolved_at = Status.REOPENED, None
        complaint.due_at = workcalendar.add_working_days(now, complaint.category.follow_up_days)
    complaint.updated_at = now
    db.session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action=rule.action,
            from_status=from_status,
            to_status=complaint.status,
            actor_id=user_id,
            actor_role=Actor.REPORTER if user_id == complaint.reporter_id else "supporter",
            from_agency_id=complaint.agency_id,
            to_agency_id=complaint.agency_id,
            note=note,
            due_at=due,
            created_at=now,
        )
    )
    assert rule.notify_kind is not None
    _notify(complaint, rule.notify_kind, note=note, exclude=user_id, recipients=recipients)
    _publish_status_change(complaint, from_status)
    return complaint
