"""The licensing state machine, as data: statuses, who acts in each, and every allowed transition.

The service reads these tables to decide what may happen next, and the API docs render them, so
the rules live in one place. The steps follow the national licensing flow (domain brief:
registration, completeness check and verification, technical review or field inspection, payment
of the retribusi, approval, signing and issuance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from binjai_api.notifications import kinds

if TYPE_CHECKING:
    from binjai_api.licensing.models import PermitApplication


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CORRECTION_REQUESTED = "correction_requested"
    TECHNICAL_REVIEW = "technical_review"
    TECHNICAL_CORRECTION_REQUESTED = "technical_correction_requested"
    AWAITING_DECISION = "awaiting_decision"
    AWAITING_PAYMENT = "awaiting_payment"
    APPROVED = "approved"
    ISSUED = "issued"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"


class Actor(StrEnum):
    """Who takes a step: the applicant, an officer of the permit type's issuing or technical
    agency, or the payment gateway (through the signed callback only)."""

    APPLICANT = "applicant"
    ISSUING_AGENCY = "issuing_agency"
    TECHNICAL_AGENCY = "technical_agency"
    PAYMENT_GATEWAY = "payment_gateway"


class Step(StrEnum):
    """Steps with a deadline in working days, set per permit type."""

    VERIFICATION = "verification"  # completeness check and verification (issuing agency)
    TECHNICAL_REVIEW = "technical_review"  # technical review or field inspection
    DECISION = "decision"  # approval or rejection (issuing agency)
    ISSUANCE = "issuance"  # signing and issuance (issuing agency)
    APPLICANT_CORRECTION = "applicant_correction"  # the applicant's default time to correct
    PAYMENT = "payment"  # the applicant's time to pay the levy


OFFICER_STEPS = (Step.VERIFICATION, Step.TECHNICAL_REVIEW, Step.DECISION, Step.ISSUANCE)


class Clock(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"  # an officer step is under way
    PAUSED = "paused"  # waiting on the applicant (corrections, payment): the SLA clock stops
    STOPPED = "stopped"  # finished


@dataclass(frozen=True)
class StatusRule:
    waiting_on: Actor | None
    step: Step | None
    clock: Clock


STATUSES: dict[Status, StatusRule] = {
    Status.DRAFT: StatusRule(Actor.APPLICANT, None, Clock.NOT_STARTED),
    Status.SUBMITTED: StatusRule(Actor.ISSUING_AGENCY, Step.VERIFICATION, Clock.RUNNING),
    Status.CORRECTION_REQUESTED: StatusRule(
        Actor.APPLICANT, Step.APPLICANT_CORRECTION, Clock.PAUSED
    ),
    Status.TECHNICAL_REVIEW: StatusRule(
        Actor.TECHNICAL_AGENCY, Step.TECHNICAL_REVIEW, Clock.RUNNING
    ),
    Status.TECHNICAL_CORRECTION_REQUESTED: StatusRule(
        Actor.APPLICANT, Step.APPLICANT_CORRECTION, Clock.PAUSED
    ),
    Status.AWAITING_DECISION: StatusRule(Actor.ISSUING_AGENCY, Step.DECISION, Clock.RUNNING),
    Status.AWAITING_PAYMENT: StatusRule(Actor.APPLICANT, Step.PAYMENT, Clock.PAUSED),
    Status.APPROVED: StatusRule(Actor.ISSUING_AGENCY, Step.ISSUANCE, Clock.RUNNING),
    Status.ISSUED: StatusRule(None, None, Clock.STOPPED),
    Status.REJECTED: StatusRule(None, None, Clock.STOPPED),
    Status.WITHDRAWN: StatusRule(None, None, Clock.STOPPED),
    Status.REVOKED: StatusRule(None, None, Clock.STOPPED),
}


class Action(StrEnum):
    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    VERIFY = "verify"
    REQUEST_CORRECTION = "request_correction"
    RECORD_REVIEW = "record_review"
    APPROVE = "approve"
    REJECT = "reject"
    CONFIRM_PAYMENT = "confirm_payment"
    ISSUE = "issue"
    REVOKE = "revoke"


# Actions a person may ask for through POST .../transitions (payment comes from the gateway).
USER_ACTIONS = tuple(action for action in Action if action is not Action.CONFIRM_PAYMENT)


class Condition(StrEnum):
    HAS_TECHNICAL_AGENCY = "has_technical_agency"
    NO_TECHNICAL_AGENCY = "no_technical_agency"
    HAS_LEVY = "has_levy"
    NO_LEVY = "no_levy"


CONDITIONS: dict[Condition, Callable[[PermitApplication], bool]] = {
    Condition.HAS_TECHNICAL_AGENCY: lambda a: a.permit_type.technical_agency_id is not None,
    Condition.NO_TECHNICAL_AGENCY: lambda a: a.permit_type.technical_agency_id is None,
    Condition.HAS_LEVY: lambda a: bool(a.permit_type.levy_idr),
    Condition.NO_LEVY: lambda a: not a.permit_type.levy_idr,
}


@dataclass(frozen=True)
class Transition:
    action: Action
    from_status: Status
    to_status: Status
    actor: Actor
    notification: str
    when: Condition | None = None
    note_required: bool = False
    # A resubmission returns to the step that asked for corrections: its deadline is extended by
    # the pause instead of starting afresh.
    resumes_step: bool = False


_BEFORE_DECISION = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.CORRECTION_REQUESTED,
    Status.TECHNICAL_REVIEW,
    Status.TECHNICAL_CORRECTION_REQUESTED,
    Status.AWAITING_DECISION,
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, Actor.APPLICANT, kinds.PERMIT_SUBMITTED
    ),
    Transition(
        Action.RESUBMIT,
        Status.CORRECTION_REQUESTED,
        Status.SUBMITTED,
        Actor.APPLICANT,
        kinds.PERMIT_RESUBMITTED,
        resumes_step=True,
    ),
    Transition(
        Action.RESUBMIT,
        Status.TECHNICAL_CORRECTION_REQUESTED,
        Status.TECHNICAL_REVIEW,
        Actor.APPLICANT,
        kinds.PERMIT_RESUBMITTED,
        resumes_step=True,
    ),
    Transition(
        Action.VERIFY,
        Status.SUBMITTED,
        Status.TECHNICAL_REVIEW,
        Actor.ISSUING_AGENCY,
        kinds.PERMIT_VERIFIED,
        when=Condition.HAS_TECHNICAL_AGENCY,
    ),
    Transition(
        Action.VERIFY,
        Status.SUBMITTED,
        Status.AWAITING_DECISION,
        Actor.ISSUING_AGENCY,
        kinds.PERMIT_VERIFIED,
        when=Condition.NO_TECHNICAL_AGENCY,
    ),
    Transition(
        Action.REQUEST_CORRECTION,
        Status.SUBMITTED,
        Status.CORRECTION_REQUESTED,
        Actor.ISSUING_AGENCY,
        kinds.PERMIT_CORRECTION_REQUESTED,
        note_required=True,
    ),
    Transition(
        Action.REQUEST_CORRECTION,
        Status.TECHNICAL_REVIEW,
        Status.TECHNICAL_CORRECTION_REQUESTED,
        Actor.TECHNICAL_AGENCY,
        kinds.PERMIT_CORRECTION_REQUESTED,
        note_required=True,
    ),
    Transition(
        Action.RECORD_REVIEW,
        Status.TECHNICAL_REVIEW,
        Status.AWAITING_DECISION,
        Actor.TECHNICAL_AGENCY,
        kinds.PERMIT_REVIEWED,
        note_required=True,
    ),
    Transition(
        Action.APPROVE,
        Status.AWAITING_DECISION,
        Status.AWAITING_PAYMENT,
        Actor.ISSUING_AGENCY,
        kinds.PERMIT_BILL_ISSUED,
        when=Condition.HAS_LEVY,
    ),
    Transition(
        Action.APPROVE,
        Status.AWAITING_DECISION,
        Status.APPROVED,
        Actor.ISSUING_AGENCY,
        kinds.PERMIT_APPROVED,
        when=Condition.NO_LEVY,
    ),
    Transition(
        Action.CONFIRM_PAYMENT,
        Status.AWAITING_PAYMENT,
        Status.APPROVED,
        Actor.PAYMENT_GATEWAY,
        kinds.PERMIT_PAYMENT_RECEIVED,
    ),
    Transition(
        Action.ISSUE, Status.APPROVED, Status.ISSUED, Actor.ISSUING_AGENCY, kinds.PERMIT_ISSUED
    ),
    *(
        Transition(
            Action.REJECT,
            status,
            Status.REJECTED,
            Actor.ISSUING_AGENCY,
            kinds.PERMIT_REJECTED,
            note_required=True,
        )
        # Also while the applicant owes corrections (a missed correction deadline).
        for status in (
            Status.SUBMITTED,
            Status.CORRECTION_REQUESTED,
            Status.TECHNICAL_CORRECTION_REQUESTED,
            Status.AWAITING_DECISION,
        )
    ),
    *(
        Transition(
            Action.WITHDRAW, status, Status.WITHDRAWN, Actor.APPLICANT, kinds.PERMIT_WITHDRAWN
        )
        for status in _BEFORE_DECISION
    ),
    Transition(
        Action.REVOKE,
        Status.ISSUED,
        Status.REVOKED,
        Actor.ISSUING_AGENCY,
        kinds.PERMIT_REVOKED,
        note_required=True,
    ),
)


def find_transition(application: PermitApplication, action: Action) -> Transition | None:
    """The transition `action` takes from the application's status, given its permit type."""
    for transition in TRANSITIONS:
        if transition.action != action or transition.from_status != application.status:
            continue
        if transition.when is None or CONDITIONS[transition.when](application):
            return transition
    return None


def allowed_actions(application: PermitApplication) -> list[Transition]:
    """Every transition open from the application's status, given its permit type."""
    return [
        transition
        for transition in TRANSITIONS
        if transition.from_status == application.status
        and (transition.when is None or CONDITIONS[transition.when](application))
    ]


def statuses_waiting_on(actor: Actor) -> tuple[Status, ...]:
    """The statuses in which `actor` must act next."""
    return tuple(status for status, rule in STATUSES.items() if rule.waiting_on == actor)


def markdown_table() -> str:
    """The statuses and the transitions as Markdown tables, for the API docs."""
    lines = [
        "| status | waiting on | deadline step | clock |",
        "|---|---|---|---|",
        *(
            f"| `{status}` | {rule.waiting_on or ''} | {rule.step or ''} | {rule.clock} |"
            for status, rule in STATUSES.items()
        ),
        "",
        "| action | from | to | by | when | reason required |",
        "|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        lines.append(
            f"| `{t.action}` | `{t.from_status}` | `{t.to_status}` | {t.actor} "
            f"| {t.when or ''} | {'yes' if t.note_required else ''} |"
        )
    return "\n".join(lines)
