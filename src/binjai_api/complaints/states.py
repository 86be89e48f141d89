"""The life of a report as data: its statuses and the one table of allowed actions.

Code (service.transition), the API docs (the transitions endpoint) and Open311 (open/closed) all
read these tables. The steps follow SP4N-LAPOR!: the Command Center (BCC) verifies a report within
3 working days and dispatches it to an agency (or rejects it, marks it a duplicate); the agency
follows it up within the category's working days, or hands it on ("not our authority": transfer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import LazyString

from binjai_api.i18n import lazy_gettext
from binjai_api.notifications import kinds


class ComplaintType(StrEnum):
    COMPLAINT = "complaint"  # pengaduan
    ASPIRATION = "aspiration"  # aspirasi
    INFORMATION_REQUEST = "information_request"  # permintaan informasi


class Privacy(StrEnum):
    PUBLIC = "public"  # shown in the public feed, without the reporter's name
    ANONYMOUS = "anonymous"  # the reporter's identity hidden from the agency and the public
    CONFIDENTIAL = "confidential"  # rahasia: the whole report hidden from the public


class Source(StrEnum):
    APP = "app"
    OPEN311 = "open311"


class Channel(StrEnum):
    """How a report reached the city: the resident's app, an Open311 integrator, or staff filing
    it on a resident's behalf (assisted intake: complaints/intake.py)."""

    APP = "app"
    OPEN311 = "open311"
    WALK_IN = "walk_in"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"


ASSISTED_CHANNELS = tuple(
    channel for channel in Channel if channel not in (Channel.APP, Channel.OPEN311)
)


class Status(StrEnum):
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


@dataclass(frozen=True)
class StatusInfo:
    label: LazyString
    # Open311 maps every status onto open/closed; "open" reports run a deadline.
    is_open: bool


STATUSES: Mapping[str, StatusInfo] = {
    Status.SUBMITTED: StatusInfo(lazy_gettext("Waiting for verification"), True),
    Status.DISPATCHED: StatusInfo(lazy_gettext("Sent to the agency"), True),
    Status.IN_PROGRESS: StatusInfo(lazy_gettext("In progress"), True),
    Status.RESOLVED: StatusInfo(lazy_gettext("Resolved"), False),
    Status.CLOSED: StatusInfo(lazy_gettext("Closed"), False),
    Status.REJECTED: StatusInfo(lazy_gettext("Rejected"), False),
    Status.DUPLICATE: StatusInfo(lazy_gettext("Duplicate of another report"), False),
    Status.REOPENED: StatusInfo(lazy_gettext("Reopened"), True),
}

OPEN_STATUSES = tuple(code for code, info in STATUSES.items() if info.is_open)


class Actor(StrEnum):
    """Who may take an action: BCC operators (all agencies), officers of the report's current
    agency, or the report's own reporter."""

    OPERATOR = "operator"
    OFFICER = "officer"
    REPORTER = "reporter"


class Action(StrEnum):
    DISPATCH = "dispatch"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    TRANSFER = "transfer"
    ASSIGN = "assign"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    RATE = "rate"


class Deadline(StrEnum):
    """What an action does to `due_at`."""

    KEEP = "keep"
    FOLLOW_UP = "follow_up"  # the category's follow-up working days, counted from now
    NONE = "none"  # no deadline runs any more


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (assign)
    actors: tuple[str, ...]
    deadline: str
    note_required: bool
    notify_kind: str | None
    summary: str


_STAFF = (Actor.OPERATOR, Actor.OFFICER)
_WITH_AGENCY = (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED)

TRANSITIONS: Mapping[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.DISPATCH,
            (Status.SUBMITTED,),
            Status.DISPATCHED,
            (Actor.OPERATOR,),
            Deadline.FOLLOW_UP,
            False,
            kinds.COMPLAINT_DISPATCHED,
            "Verify and send to an agency (`agency_id`, default: the category's agency).",
        ),
        Transition(
            Action.REJECT,
            (Status.SUBMITTED,),
            Status.REJECTED,
            (Actor.OPERATOR,),
            Deadline.NONE,
            True,
            kinds.COMPLAINT_REJECTED,
            "Reject, with the reason in `note`.",
        ),
        Transition(
            Action.MARK_DUPLICATE,
            (Status.SUBMITTED, Status.DISPATCHED),
            Status.DUPLICATE,
            (Actor.OPERATOR,),
            Deadline.NONE,
            False,
            kinds.COMPLAINT_DUPLICATE,
            "Mark a duplicate of `duplicate_of_id`; its reporter then follows that report.",
        ),
        Transition(
            Action.TRANSFER,
            _WITH_AGENCY,
            Status.DISPATCHED,
            _STAFF,
            Deadline.FOLLOW_UP,
            True,
            kinds.COMPLAINT_TRANSFERRED,
            "Hand on to another agency (`agency_id`) with the reason in `note`; the deadline "
            "is recomputed.",
        ),
        Transition(
            Action.ASSIGN,
            _WITH_AGENCY,
            None,
            (Actor.OFFICER,),
            Deadline.KEEP,
            False,
            None,
            "An officer takes the report on.",
        ),
        Transition(
            Action.START,
            (Status.DISPATCHED, Status.REOPENED),
            Status.IN_PROGRESS,
            _STAFF,
            Deadline.KEEP,
            False,
            kinds.COMPLAINT_IN_PROGRESS,
            "Work has started.",
        ),
        Transition(
            Action.RESOLVE,
            _WITH_AGENCY,
            Status.RESOLVED,
            _STAFF,
            Deadline.NONE,
            True,
            kinds.COMPLAINT_RESOLVED,
            "Resolved, with the resolution in `note` (photos: the photos endpoint).",
        ),
        Transition(
            Action.CLOSE,
            (Status.RESOLVED,),
            Status.CLOSED,
            (Actor.OPERATOR,),
            Deadline.NONE,
            False,
            kinds.COMPLAINT_CLOSED,
            "Close a resolved report.",
        ),
        Transition(
            Action.REOPEN,
            (Status.RESOLVED,),
            Status.REOPENED,
            (Actor.REPORTER,),
            Deadline.FOLLOW_UP,
            True,
            kinds.COMPLAINT_REOPENED,
            "The reporter reopens within 7 days of the resolution, with the reason in `note`.",
        ),
        Transition(
            Action.RATE,
            (Status.RESOLVED,),
            Status.CLOSED,
            (Actor.REPORTER,),
            Deadline.NONE,
            False,
            None,
            "The reporter rates the resolution (`rating` 1-5, optional `note` as feedback) "
            "within 7 days, which closes the report.",
        ),
    )
}

# After this many days from the resolution, the reporter may no longer reopen or rate.
REOPEN_WINDOW_DAYS = 7
VERIFICATION_WORKING_DAYS = 3


def is_open(status: str) -> bool:
    """Whether a status counts as open (Open311 `open`) rather than closed."""
    return STATUSES[status].is_open


def transitions_table_markdown() -> str:
    """The transitions table, for the API docs."""
    lines = [
        "| action | from | to | who | note |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS.values():
        lines.append(
            f"| `{t.action}` | {', '.join(f'`{s}`' for s in t.sources)} "
            f"| {f'`{t.target}`' if t.target else '(unchanged)'} | {', '.join(t.actors)} "
            f"| {t.summary} |"
        )
    return "\n".join(lines)
