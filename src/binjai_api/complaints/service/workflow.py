"""Complaints: status transitions, their notifications, webhooks, escalations, reply templates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa

from binjai_api.area_alerts import service as area_alerts_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.service import Principal
from binjai_api.complaints import reply_templates
from binjai_api.complaints.models import (
    Complaint,
    ComplaintEvent,
    ComplaintReplyTemplate,
    ComplaintSupporter,
)
from binjai_api.complaints.service._common import (
    ESCALATE_ACTION,
    _actor,
    _check_agency,
    _clean,
    _get_for,
    _is_staff,
    _load,
    _notification_params,
)
from binjai_api.complaints.states import (
    OPEN_STATUSES,
    REOPEN_WINDOW_DAYS,
    TRANSITIONS,
    Action,
    Deadline,
    Privacy,
    Status,
)
from binjai_api.db import utcnow
from binjai_api.errors import conflict, field_errors, forbidden
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.quality import service as quality_service
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.workcalendar import service as workcalendar


def _followers(complaint: Complaint) -> list[uuid.UUID]:
    """Who hears about a report's changes: its reporter and its supporters (the reporters of its
    duplicates among them)."""
    supporters = db.session.scalars(
        sa.select(ComplaintSupporter.user_id).where(ComplaintSupporter.complaint_id == complaint.id)
    ).all()
    reporter = [complaint.reporter_id] if complaint.reporter_id else []
    return list(dict.fromkeys([*reporter, *supporters]))


def _notify(
    complaint: Complaint,
    kind: str,
    *,
    note: str | None,
    exclude: uuid.UUID | None,
    recipients: Iterable[uuid.UUID],
    extra: Mapping[str, str] | None = None,
) -> None:
    targets = [user_id for user_id in recipients if user_id != exclude]
    if not targets:
        return
    params = _notification_params(complaint, note=(note or "-")[:200], **(extra or {}))
    about = complaint
    if kind == kinds.COMPLAINT_DUPLICATE and complaint.duplicate_of_id:
        original = _load(complaint.duplicate_of_id)
        params["original"] = original.tracking_number if original else "-"
        # "You now follow that report": the notification opens the report followed.
        about = original or complaint
    notifications_service.notify(
        recipients=targets,
        kind=kind,
        params=params,
        link=notifications_service.Link("complaints", str(about.id)),
    )


def _publish_status_change(complaint: Complaint, from_status: str | None) -> None:
    """complaint.status_changed to integrators' webhooks, when the status did change."""
    if from_status != complaint.status:
        webhooks_service.emit(
            WebhookEventType.COMPLAINT_STATUS_CHANGED, complaint, previous_status=from_status
        )


def _count_supporters(complaint_id: uuid.UUID, change: int) -> None:
    """Move the counter in SQL, so that concurrent supporters never lose an increment."""
    db.session.execute(
        sa.update(Complaint)
        .where(Complaint.id == complaint_id)
        .values(supporter_count=Complaint.supporter_count + change, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _add_supporter(complaint: Complaint, user_id: uuid.UUID) -> bool:
    """Record a supporter once; the counter moves in the same statement's transaction."""
    if user_id == complaint.reporter_id:
        return False
    exists = db.session.get(ComplaintSupporter, (complaint.id, user_id))
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ComplaintSupporter(complaint_id=complaint.id, user_id=user_id))
    except sa.exc.IntegrityError:  # the same person, at the same instant, on another device
        return False
    _count_supporters(complaint.id, +1)
    db.session.refresh(complaint)
    return True


def transition(
    *,
    principal: Principal,
    complaint_id: uuid.UUID,
    action: str,
    note: str | None = None,
    agency_id: uuid.UUID | None = None,
    duplicate_of_id: uuid.UUID | None = None,
    rating: int | None = None,
    template_id: uuid.UUID | None = None,
    template_overrides: Mapping[str, str] | None = None,
) -> Complaint:
    """Apply one action of the transitions table, with its history entry and notifications.
    A reply template (named, or the action's automatic one when staff write no note) gives the
    note the resident reads in the timeline and the push (complaints/reply_templates.py)."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise field_errors({"action": [gettext("Unknown action.")]})
    complaint = _get_for(principal, complaint_id, lock=True)
    actor = _actor(principal, complaint)
    if actor not in rule.actors:
        raise forbidden(gettext("You may not take this action on this report."))
    if complaint.status not in rule.sources:
        raise conflict(
            "invalid_transition",
            gettext(
                "A report in status %(status)s cannot take the action %(action)s.",
                status=complaint.status,
                action=action,
            ),
        )
    note = _clean(note, 2000)
    template = _reply_template(
        action, complaint, actor, template_id, template_overrides, automatic=not note
    )
    if rule.note_required and not note and template is None:
        raise field_errors({"note": [gettext("Give a reason or note for this action.")]})
    now = utcnow()
    from_status, from_agency, from_due = complaint.status, complaint.agency_id, complaint.due_at
    recipients = _followers(complaint)

    if action == Action.DISPATCH:
        target_agency = agency_id or complaint.category.agency_id
        _check_agency(target_agency)
        complaint.agency_id = target_agency
        complaint.dispatched_at = now
    elif action == Action.TRANSFER:
        if agency_id is None:
            raise field_errors({"agency_id": [gettext("Choose the agency to transfer to.")]})
        if agency_id == complaint.agency_id:
            raise field_errors({"agency_id": [gettext("The report is already with this agency.")]})
        _check_agency(agency_id)
        complaint.agency_id = agency_id
        complaint.assignee_id = None
    elif action == Action.MARK_DUPLICATE:
        original = _check_original(complaint, duplicate_of_id)
        complaint.duplicate_of_id = original.id
        if complaint.reporter_id is not None:
            _add_supporter(original, complaint.reporter_id)
    elif action == Action.ASSIGN:
        complaint.assignee_id = principal.id
    elif action == Action.RESOLVE:
        complaint.resolution_note = note
        complaint.resolved_at = now
    elif action in (Action.REOPEN, Action.RATE):
        _check_within_window(complaint, now)
        if action == Action.RATE:
            if rating is None or not 1 <= rating <= 5:
                raise field_errors({"rating": [gettext("Give a rating from 1 to 5.")]})
            complaint.rating, complaint.rating_feedback = rating, note and note[:1000]
            complaint.rated_at = now
        else:
            complaint.resolved_at = None
    if rule.target is not None:
        complaint.status = rule.target
    if complaint.status == Status.CLOSED:
        complaint.closed_at = now
        _invite_to_survey(complaint, now)

    if rule.deadline == Deadline.FOLLOW_UP:
        complaint.due_at = workcalendar.add_working_days(now, complaint.category.follow_up_days)
    elif rule.deadline == Deadline.NONE:
        complaint.due_at = None
    reply = None
    if template is not None:  # rendered now: `{deadline}` is the deadline this action set
        assert actor is not None
        reply = _render_reply(template, complaint, principal, actor, template_overrides, note)
        note = reply.text
        if action == Action.RESOLVE:
            complaint.resolution_note = note
    complaint.updated_at = now
    db.session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action=action,
            from_status=from_status,
            to_status=complaint.status,
            actor_id=principal.id,
            actor_role=actor,
            from_agency_id=from_agency,
            to_agency_id=complaint.agency_id,
            note=note,
            due_at=from_due,
            created_at=now,
        )
    )
    if rule.notify_kind is not None:
        _notify(
            complaint,
            rule.notify_kind if reply is None else kinds.COMPLAINT_REPLY,
            note=note,
            exclude=principal.id,
            recipients=recipients,
            extra=_reply_params(reply),
        )
    _publish_status_change(complaint, from_status)
    if complaint.status == Status.RESOLVED and from_status != Status.RESOLVED:
        area_alerts_service.record_report_event(
            complaint_id=complaint.id,
            event="resolved",
            public=complaint.privacy != Privacy.CONFIDENTIAL,
        )
    db.session.commit()
    return complaint


def _reply_template(
    action: str,
    complaint: Complaint,
    actor: str | None,
    template_id: uuid.UUID | None,
    overrides: Mapping[str, str] | None,
    *,
    automatic: bool,
) -> ComplaintReplyTemplate | None:
    """The reply template this action uses, if any: templates are the staff's."""
    if not _is_staff(actor):
        if template_id is not None:
            raise forbidden(gettext("Reply templates are for staff."))
        return None
    if errors := reply_templates.override_errors(overrides):
        raise field_errors(errors)
    return reply_templates.choose(
        action=action, complaint=complaint, template_id=template_id, automatic=automatic
    )


def _render_reply(
    template: ComplaintReplyTemplate,
    complaint: Complaint,
    principal: Principal,
    actor: str,
    overrides: Mapping[str, str] | None,
    note: str | None,
) -> reply_templates.Reply:
    """The template in the resident's language (the timeline's text) and in every language (the
    push's)."""
    reader = auth_service.get_user(complaint.reporter_id) if complaint.reporter_id else None
    return reply_templates.render(
        template,
        complaint=complaint,
        principal=principal,
        actor=actor,
        reader_language=reader.language if reader else None,
        overrides=overrides,
        note=note,
    )


def _reply_params(reply: reply_templates.Reply | None) -> dict[str, str] | None:
    """The push of a templated reply carries its text in each reader's language."""
    if reply is None:
        return None
    return {f"reply@{language}": text[:500] for language, text in reply.texts.items()}


def record_escalation(*, complaint_id: uuid.UUID, deadline: datetime, at: datetime) -> bool:
    """Write "escalated" in a report's timeline, in the caller's transaction (the command
    center's escalation job). The report is locked and checked first: if it was acted on since
    the job read it (its deadline changed or it closed), nothing is written and False returned."""
    complaint = db.session.scalar(
        sa.select(Complaint).where(Complaint.id == complaint_id).with_for_update()
    )
    if complaint is None or complaint.status not in OPEN_STATUSES or complaint.due_at != deadline:
        return False
    complaint.updated_at = at  # the app's sync (`updated_after`) picks up the new entry
    db.session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action=ESCALATE_ACTION,
            from_status=complaint.status,
            to_status=complaint.status,
            actor_id=None,  # the system, not a person
            actor_role=None,
            from_agency_id=complaint.agency_id,
            to_agency_id=complaint.agency_id,
            due_at=deadline,
            created_at=at,
        )
    )
    return True


def _invite_to_survey(complaint: Complaint, closed_at: datetime) -> None:
    """A closed report ended the service for its reporter: the SKM survey of its category, once
    per report (quality/service.py), never for an anonymous reporter without an account."""
    if complaint.reporter_id is None:
        return
    category = complaint.category
    quality_service.invite(
        user_id=complaint.reporter_id,
        service_kind="complaint",
        service_id=complaint.id,
        agency_id=complaint.agency_id,
        service_key=category.code,
        service_name=category.name,
        service_name_en=category.name_en,
        reference=complaint.tracking_number,
        ended_at=closed_at,
    )


def _check_original(complaint: Complaint, duplicate_of_id: uuid.UUID | None) -> Complaint:
    if duplicate_of_id is None:
        raise field_errors({"duplicate_of_id": [gettext("Choose the original report.")]})
    original = _load(duplicate_of_id)
    if (
        original is None
        or original.id == complaint.id
        or original.status in (Status.DUPLICATE, Status.REJECTED)
    ):
        raise field_errors(
            {"duplicate_of_id": [gettext("Choose another report that is not a duplicate.")]}
        )
    return original


def _check_within_window(complaint: Complaint, now: datetime) -> None:
    resolved_at = complaint.resolved_at
    if resolved_at is None or now > resolved_at + timedelta(days=REOPEN_WINDOW_DAYS):
        raise conflict(
            "reopen_window_passed",
            gettext("Reports can be reopened or rated only within 7 days of their resolution."),
        )
