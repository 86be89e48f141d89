"""What the command center reads of licensing: overdue applications and figures over many
applications.

Read-only and set-based: these queries aggregate in the database, never row by row in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from binjai_api.config import API_V1_STR
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db
from binjai_api.licensing.models import PermitApplication, PermitApplicationEvent, PermitType
from binjai_api.licensing.workflow import STATUSES, Action, Actor, Status


def _overdue(now: datetime) -> sa.ColumnElement[bool]:
    """The current step (whoever's) is past its deadline."""
    return sa.and_(
        PermitApplication.action_due_at.is_not(None), PermitApplication.action_due_at < now
    )


def _who_must_act(
    status: str, issuing: uuid.UUID, technical: uuid.UUID | None
) -> tuple[WaitingOn, str, uuid.UUID | None] | None:
    """(who, step, agency) of an application's late step: the technical agency during technical
    review, otherwise the issuing agency (which also decides what happens when an applicant
    misses a deadline); None for a status without a step."""
    rule = STATUSES.get(cast(Status, status))  # a plain str: StrEnum keys match it
    if rule is None or rule.step is None or rule.waiting_on is None:
        return None
    agency = technical if rule.waiting_on == Actor.TECHNICAL_AGENCY else issuing
    who = WaitingOn.APPLICANT if rule.waiting_on == Actor.APPLICANT else WaitingOn.AGENCY_OFFICER
    return who, str(rule.step), agency


def overdue_items(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OverdueItem]:
    """Applications whose current step (an officer's, or the applicant's corrections or payment)
    is past its deadline, most overdue first, under the agency that must act."""
    query = (
        sa.select(
            PermitApplication.id,
            PermitApplication.number,
            PermitApplication.status,
            PermitApplication.action_due_at,
            PermitType.name,
            PermitType.name_en,
            PermitType.issuing_agency_id,
            PermitType.technical_agency_id,
        )
        .join(PermitType, PermitType.id == PermitApplication.permit_type_id)
        .where(_overdue(now))
        .order_by(PermitApplication.action_due_at, PermitApplication.id)
    )
    items = []
    for row in db.session.execute(query):
        late = _who_must_act(row.status, row.issuing_agency_id, row.technical_agency_id)
        if late is None or (agency_id is not None and late[2] != agency_id):
            continue
        who, step, responsible = late
        items.append(
            OverdueItem(
                item_type=ItemType.PERMIT_APPLICATION,
                item_id=row.id,
                reference=row.number,
                title=row.name,
                title_en=row.name_en,
                agency_id=responsible,
                step=step,
                waiting_on=who,
                due_at=row.action_due_at,
                link=f"{API_V1_STR}/permit-applications/{row.id}",
            )
        )
    return items


# --- figures for the command center's overview ---------------------------------------------------

# Any select, kept as its own type through the scoping helpers.
_Query = TypeVar("_Query", bound="sa.Select[*tuple[Any, ...]]")

# An application is "opened" when submitted; drafts are the applicant's own business.
COUNTED_STATUSES = tuple(str(status) for status in Status if status is not Status.DRAFT)
CLOSED_STATUSES = (Status.ISSUED, Status.REJECTED, Status.WITHDRAWN)
# Outcomes the city decides; a withdrawal is the applicant's and is not judged against the SLA.
DECIDED_STATUSES = (Status.ISSUED, Status.REJECTED)
VERIFICATION_ACTIONS = (Action.VERIFY, Action.REQUEST_CORRECTION, Action.REJECT)


@dataclass(frozen=True)
class Closings:
    closed: int  # distinct applications issued, rejected or withdrawn
    with_deadline: int  # issued or rejected with a service deadline (sla_due_at)
    on_time: int  # ... at or before it


def _scoped(query: _Query, agency_id: uuid.UUID | None) -> _Query:
    """An application belongs to its permit type's issuing agency and its technical agency."""
    if agency_id is None:
        return query
    return query.where(
        PermitApplication.permit_type_id.in_(
            sa.select(PermitType.id).where(
                sa.or_(
                    PermitType.issuing_agency_id == agency_id,
                    PermitType.technical_agency_id == agency_id,
                )
            )
        )
    )


def status_counts(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> dict[str, int]:
    """Applications submitted in [start, end) by their current status, every status listed."""
    query = _scoped(
        sa.select(PermitApplication.status, sa.func.count())
        .where(PermitApplication.submitted_at >= start, PermitApplication.submitted_at < end)
        .group_by(PermitApplication.status),
        agency_id,
    )
    counts = dict.fromkeys(COUNTED_STATUSES, 0)
    for status, count in db.session.execute(query):
        counts[status] = int(count)
    return counts


def closings(*, start: datetime, end: datetime, agency_id: uuid.UUID | None = None) -> Closings:
    """Applications issued, rejected or withdrawn in [start, end), and how many of the issued
    and rejected ones were decided at or before their service deadline."""
    decided = PermitApplicationEvent.to_status.in_(DECIDED_STATUSES)
    with_deadline = sa.and_(decided, PermitApplication.sla_due_at.is_not(None))
    on_time = sa.and_(
        with_deadline, PermitApplicationEvent.created_at <= PermitApplication.sla_due_at
    )
    query = _scoped(
        sa.select(
            sa.func.count(sa.distinct(PermitApplicationEvent.application_id)),
            sa.func.coalesce(sa.func.sum(sa.case((with_deadline, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0),
        )
        .join(PermitApplication, PermitApplication.id == PermitApplicationEvent.application_id)
        .where(
            PermitApplicationEvent.to_status.in_(CLOSED_STATUSES),
            PermitApplicationEvent.created_at >= start,
            PermitApplicationEvent.created_at < end,
        ),
        agency_id,
    )
    closed, deadline_count, on_time_count = db.session.execute(query).one()
    return Closings(int(closed), int(deadline_count), int(on_time_count))


def _step_spans(
    step: sa.ColumnElement[bool],
    *,
    not_after: str | None,
    start: datetime,
    end: datetime,
    agency_id: uuid.UUID | None,
) -> sa.Select[*tuple[Any, ...]]:
    """(started, ended) rows: from submission to the `step` event in [start, end), unless a
    `not_after` event came earlier (checked against that rarer action only)."""
    query = (
        sa.select(
            PermitApplication.submitted_at.label("started"),
            PermitApplicationEvent.created_at.label("ended"),
        )
        .select_from(PermitApplicationEvent)
        .join(PermitApplication, PermitApplication.id == PermitApplicationEvent.application_id)
        .where(
            step,
            PermitApplicationEvent.created_at >= start,
            PermitApplicationEvent.created_at < end,
            PermitApplication.submitted_at.is_not(None),
        )
    )
    if not_after is not None:
        earlier = aliased(PermitApplicationEvent)
        query = query.where(
            ~sa.exists().where(
                earlier.application_id == PermitApplicationEvent.application_id,
                earlier.action == not_after,
                earlier.created_at < PermitApplicationEvent.created_at,
            )
        )
    return _scoped(query, agency_id)


def time_to_verify_spans(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """Submission to the first verification step (verified, corrections requested or
    rejected, from `submitted`), as (started, ended) rows of applications first verified in
    [start, end). An application returns to `submitted` only by a resubmission, so a step
    with no resubmission before it is the first."""
    step = sa.and_(
        PermitApplicationEvent.action.in_(VERIFICATION_ACTIONS),
        PermitApplicationEvent.from_status == Status.SUBMITTED,
    )
    return _step_spans(step, not_after=Action.RESUBMIT, start=start, end=end, agency_id=agency_id)


def time_to_issue_spans(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """Submission to issuance (once per application), as (started, ended) rows of permits
    issued in [start, end)."""
    step = PermitApplicationEvent.action == Action.ISSUE
    return _step_spans(step, not_after=None, start=start, end=end, agency_id=agency_id)


def overdue_counts(
    *, now: datetime, agency_id: uuid.UUID | None = None
) -> dict[uuid.UUID | None, int]:
    """How many applications overdue_items would list, per agency that must act: grouped in
    the database by status and permit type's agencies, then attributed by the same rule."""
    query = (
        sa.select(
            PermitApplication.status,
            PermitType.issuing_agency_id,
            PermitType.technical_agency_id,
            sa.func.count(),
        )
        .join(PermitType, PermitType.id == PermitApplication.permit_type_id)
        .where(_overdue(now))
        .group_by(
            PermitApplication.status,
            PermitType.issuing_agency_id,
            PermitType.technical_agency_id,
        )
    )
    counts: dict[uuid.UUID | None, int] = {}
    for status, issuing, technical, count in db.session.execute(query):
        late = _who_must_act(status, issuing, technical)
        if late is None or (agency_id is not None and late[2] != agency_id):
            continue
        counts[late[2]] = counts.get(late[2], 0) + int(count)
    return counts


# --- the public performance page (quality/performance.py) ----------------------------------------


@dataclass(frozen=True)
class Issuances:
    issued: int  # permits issued in the period
    with_deadline: int  # ... whose application had a service deadline (sla_due_at)
    on_time: int  # ... issued at or before it


def issuances(*, start: datetime, end: datetime, agency_id: uuid.UUID | None = None) -> Issuances:
    """Permits issued in [start, end), and how many within their service level (SLA)."""
    with_deadline = PermitApplication.sla_due_at.is_not(None)
    on_time = sa.and_(
        with_deadline, PermitApplicationEvent.created_at <= PermitApplication.sla_due_at
    )
    query = _scoped(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((with_deadline, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0),
        )
        .select_from(PermitApplicationEvent)
        .join(PermitApplication, PermitApplication.id == PermitApplicationEvent.application_id)
        .where(
            PermitApplicationEvent.action == Action.ISSUE,
            PermitApplicationEvent.created_at >= start,
            PermitApplicationEvent.created_at < end,
        ),
        agency_id,
    )
    issued, deadline_count, on_time_count = db.session.execute(query).one()
    return Issuances(int(issued), int(deadline_count), int(on_time_count))
