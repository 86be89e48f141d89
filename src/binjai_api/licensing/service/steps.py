"""Licensing: applying one workflow step: its event row, the SLA clocks, notifications, webhooks
and escalations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import conflict
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date, number
from binjai_api.i18n import gettext
from binjai_api.licensing.models import (
    Permit,
    PermitApplication,
    PermitApplicationEvent,
    PermitBill,
    PermitType,
)
from binjai_api.licensing.service._common import ESCALATE_ACTION, SYSTEM_ACTOR, _record
from binjai_api.licensing.workflow import (
    OFFICER_STEPS,
    STATUSES,
    Action,
    Clock,
    Status,
    Step,
    Transition,
    find_transition,
)
from binjai_api.notifications import service as notifications_service
from binjai_api.quality import service as quality_service
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.workcalendar import service as workcalendar

# --- the workflow ------------------------------------------------------------------------------


def _transition_or_conflict(application: PermitApplication, action: Action) -> Transition:
    transition = find_transition(application, action)
    if transition is None:
        raise conflict(
            "invalid_transition",
            gettext(
                "An application that is %(status)s cannot be %(action)s.",
                status=application.status,
                action=action,
            ),
        )
    return transition


def record_escalation(
    *, application_id: uuid.UUID, step: str, deadline: datetime, at: datetime
) -> bool:
    """Write "escalated" in an application's timeline, in the caller's transaction (the command
    center's escalation job). The application is locked and checked first: if its step or
    deadline changed since the job read it, nothing is written and False returned."""
    application = db.session.scalar(
        sa.select(PermitApplication)
        .where(PermitApplication.id == application_id)
        .with_for_update(of=PermitApplication)
    )
    if application is None or application.action_due_at != deadline:
        return False
    rule = STATUSES.get(Status(application.status))
    if rule is None or rule.step is None or str(rule.step) != step:
        return False
    application.updated_at = at  # the app's sync (`updated_after`) picks up the new entry
    db.session.add(
        PermitApplicationEvent(
            application_id=application.id,
            action=ESCALATE_ACTION,
            from_status=application.status,
            to_status=application.status,
            actor_id=None,
            actor_kind=SYSTEM_ACTOR,
            details={"step": step, "deadline": deadline.isoformat().replace("+00:00", "Z")},
            created_at=at,
        )
    )
    return True


def _step_days(permit_type: PermitType, step: Step) -> int:
    return int(permit_type.step_deadlines.get(step, 0))


def _sla_days(permit_type: PermitType) -> int:
    steps = [
        step
        for step in OFFICER_STEPS
        if step != Step.TECHNICAL_REVIEW or permit_type.technical_agency_id is not None
    ]
    return sum(_step_days(permit_type, step) for step in steps)


def _run_clock(
    application: PermitApplication,
    transition: Transition,
    now: datetime,
    *,
    applicant_days: int | None,
) -> None:
    """Deadlines in working days (workcalendar): a new officer step gets its own deadline; a
    resubmission resumes the step that asked, extended by the working days spent waiting on the
    applicant; a pause (corrections, an unpaid bill) stops the clock and gives the applicant a
    deadline instead."""
    permit_type = application.permit_type
    old = STATUSES[transition.from_status]
    new = STATUSES[transition.to_status]
    if new.clock == Clock.RUNNING:
        assert new.step is not None
        paused_at = application.paused_at if old.clock == Clock.PAUSED else None
        if paused_at and transition.resumes_step and application.step_due_at is not None:
            application.step_due_at = workcalendar.extend_by_pause(
                application.step_due_at, paused_at, now
            )
        else:
            application.step_due_at = workcalendar.add_working_days(
                now, _step_days(permit_type, new.step)
            )
        if application.sla_due_at is None:
            application.sla_due_at = workcalendar.add_working_days(now, _sla_days(permit_type))
        elif paused_at:
            application.sla_due_at = workcalendar.extend_by_pause(
                application.sla_due_at, paused_at, now
            )
        application.paused_at = None
        application.action_due_at = application.step_due_at
    elif new.clock == Clock.PAUSED:
        assert new.step is not None
        application.paused_at = now
        days = applicant_days if applicant_days is not None else _step_days(permit_type, new.step)
        application.action_due_at = workcalendar.add_working_days(now, days)
    else:
        application.action_due_at = None
        application.step_due_at = None


def _notification_params(
    application: PermitApplication,
    *,
    reason: str | None = None,
    bill: PermitBill | None = None,
    permit: Permit | None = None,
) -> dict[str, str]:
    """The texts' parameters; names, dates and amounts written in each reader's language."""
    permit_type = application.permit_type
    due = application.action_due_at
    due_day = workcalendar.local_date(due) if due else None
    return {
        "number": application.number,
        **in_each_language(
            "permit_type",
            lambda language: permit_type.name_en if language == "en" else permit_type.name,
        ),
        "reason": reason or "",
        **in_each_language(
            "due_date", lambda language: long_date(due_day, language) if due_day else ""
        ),
        **in_each_language(
            "amount", lambda language: number(bill.amount_idr, language) if bill else ""
        ),
        "payment_code": bill.payment_code if bill else "",
        "permit_number": permit.permit_number if permit else "",
    }


def _notification_link(
    application: PermitApplication, permit: Permit | None
) -> notifications_service.Link:
    """What the notification opens: the permit once there is one, else the application."""
    if permit is not None:
        return notifications_service.Link("permits", str(permit.id))
    return notifications_service.Link("permit-applications", str(application.id))


def _apply(
    application: PermitApplication,
    transition: Transition,
    *,
    principal: Principal | None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    applicant_days: int | None = None,
    bill: PermitBill | None = None,
    permit: Permit | None = None,
    now: datetime | None = None,
) -> None:
    """Move the application along one transition: status, clock, audit row and the applicant's
    notification, in the caller's transaction."""
    now = now or utcnow()
    from_status = application.status
    _run_clock(application, transition, now, applicant_days=applicant_days)
    application.status = transition.to_status
    application.updated_at = now
    application.status_reason = note if transition.note_required else None
    if transition.action == Action.SUBMIT:
        application.submitted_at = now
    if transition.action in (Action.APPROVE, Action.REJECT):
        application.decided_at = now
    _record(
        application,
        action=str(transition.action),
        from_status=from_status,
        actor=transition.actor,
        principal=principal,
        note=note,
        details=details,
    )
    notifications_service.notify(
        recipients=[application.applicant_id],
        kind=transition.notification,
        params=_notification_params(application, reason=note, bill=bill, permit=permit),
        link=_notification_link(application, permit),
    )
    _publish(application, from_status, permit)
    if transition.to_status in (Status.ISSUED, Status.REJECTED):
        _invite_to_survey(application, now)


def _publish(application: PermitApplication, from_status: str, permit: Permit | None) -> None:
    """The step's events to integrators' webhooks: the status change, and an issued or revoked
    permit."""
    webhooks_service.emit(
        WebhookEventType.PERMIT_APPLICATION_STATUS_CHANGED,
        application,
        previous_status=from_status,
    )
    if permit is not None and application.status == Status.ISSUED:
        webhooks_service.emit(WebhookEventType.PERMIT_ISSUED, permit)
    elif permit is not None and application.status == Status.REVOKED:
        webhooks_service.emit(WebhookEventType.PERMIT_REVOKED, permit)


def _invite_to_survey(application: PermitApplication, decided_at: datetime) -> None:
    """The service ended (issued or refused; a withdrawal is not rated): the SKM survey of the
    permit type, to the applicant."""
    permit_type = application.permit_type
    quality_service.invite(
        user_id=application.applicant_id,
        service_kind="permit",
        service_id=application.id,
        agency_id=permit_type.issuing_agency_id,
        service_key=permit_type.code,
        service_name=permit_type.name,
        service_name_en=permit_type.name_en,
        reference=application.number,
        ended_at=decided_at,
    )
