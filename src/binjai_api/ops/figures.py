"""The overview's closings and durations, kept current as the steps happen.

Counting each closed item once and the median/p90 durations do not add up across days, and
computed from the histories they were most of a year's overview. Each step the overview counts
(a closing, a verification, a first resolution, an issuance) leaves one narrow row in
`ops_step_facts`, written by a flush listener in the same transaction as the step's history
event, whichever service wrote it; a report's reassignment moves its rows to the new agency.
A period's figures are then one indexed query over that table. The rules are the domains'
statistics (complaints/statistics.py, licensing/statistics.py): `rebuild_figures` derives the
same rows from the histories in SQL (the migration's backfill, the benchmark's bulk load), and
the tests check both against the from-scratch queries.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from binjai_api.complaints import statistics as complaints_stats
from binjai_api.complaints.models import Complaint, ComplaintEvent
from binjai_api.complaints.states import OPEN_STATUSES
from binjai_api.complaints.states import Action as ComplaintAction
from binjai_api.complaints.states import Status as ComplaintStatus
from binjai_api.extensions import db
from binjai_api.licensing import statistics as licensing_stats
from binjai_api.licensing.models import PermitApplication, PermitApplicationEvent, PermitType
from binjai_api.licensing.workflow import Action as ApplicationAction
from binjai_api.licensing.workflow import Status as ApplicationStatus
from binjai_api.ops.models import StepFact

COMPLAINT = "complaint"
APPLICATION = "permit_application"
CLOSING = "closing"
VERIFICATION = "verification"
RESOLUTION = "resolution"
ISSUANCE = "issuance"
PERCENTILES = (0.5, 0.9)
STEPS = (
    (COMPLAINT, CLOSING),
    (COMPLAINT, VERIFICATION),
    (COMPLAINT, RESOLUTION),
    (APPLICATION, CLOSING),
    (APPLICATION, VERIFICATION),
    (APPLICATION, ISSUANCE),
)

_facts = cast(sa.Table, StepFact.__table__)


def interpolated_percentile(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over sorted `values`: linear interpolation between the two
    nearest ranks."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


# --- the rows of one step -------------------------------------------------------------------------


def _complaint_steps(event: ComplaintEvent) -> list[str]:
    steps = []
    if event.from_status in OPEN_STATUSES and event.to_status in complaints_stats.CLOSED_STATUSES:
        steps.append(CLOSING)
    if (
        event.action in complaints_stats.VERIFICATION_ACTIONS
        and event.from_status == ComplaintStatus.SUBMITTED
    ):
        steps.append(VERIFICATION)
    if event.action == ComplaintAction.RESOLVE:
        steps.append(RESOLUTION)
    return steps


def _application_steps(event: PermitApplicationEvent) -> list[str]:
    steps = []
    if event.to_status in licensing_stats.CLOSED_STATUSES:
        steps.append(CLOSING)
    if (
        event.action in licensing_stats.VERIFICATION_ACTIONS
        and event.from_status == ApplicationStatus.SUBMITTED
    ):
        steps.append(VERIFICATION)
    if event.action == ApplicationAction.ISSUE:
        steps.append(ISSUANCE)
    return steps


def _previous_closing(
    connection: sa.Connection, domain: str, item_id: uuid.UUID, at: datetime
) -> datetime | None:
    return connection.execute(
        sa.select(sa.func.max(StepFact.ended_at)).where(
            StepFact.domain == domain,
            StepFact.step == CLOSING,
            StepFact.item_id == item_id,
            StepFact.ended_at <= at,
        )
    ).scalar()


def _current(session: Session, model: Any, item_id: uuid.UUID, names: tuple[str, ...]) -> Any:
    """An item's values as just flushed: from the session when it holds the item loaded (the
    service that wrote the event usually does), else read in the flush's transaction."""
    item = session.identity_map.get(session.identity_key(model, item_id))
    if item is not None and not (set(names) & sa.inspect(item).unloaded):
        return tuple(getattr(item, name) for name in names)
    columns = [getattr(model, name) for name in names]
    return session.connection().execute(sa.select(*columns).where(model.id == item_id)).one()


def _complaint_facts(
    session: Session, connection: sa.Connection, event: ComplaintEvent
) -> list[dict[str, Any]]:
    steps = _complaint_steps(event)
    if not steps:
        return []
    started, agency_id = _current(
        session, Complaint, event.complaint_id, ("created_at", "agency_id")
    )
    at = event.created_at
    rows = []
    for step in steps:
        row: dict[str, Any] = {
            "event_id": event.id,
            "step": step,
            "domain": COMPLAINT,
            "item_id": event.complaint_id,
            "agency_id": agency_id,
            "permit_type_id": None,
            "ended_at": at,
            "seconds": None,
            "has_deadline": False,
            "on_time": False,
            "previous_closing_at": None,
        }
        if step == CLOSING:
            row["has_deadline"] = event.due_at is not None
            row["on_time"] = event.due_at is not None and at <= event.due_at
            row["previous_closing_at"] = _previous_closing(
                connection, COMPLAINT, event.complaint_id, at
            )
        elif step == RESOLUTION and _reopened_before(connection, event.complaint_id, at):
            continue  # not the first resolution: no duration
        else:
            row["seconds"] = (at - started).total_seconds()
        rows.append(row)
    return rows


def _reopened_before(connection: sa.Connection, complaint_id: uuid.UUID, at: datetime) -> bool:
    query = sa.select(sa.literal(1)).where(
        ComplaintEvent.complaint_id == complaint_id,
        ComplaintEvent.action == ComplaintAction.REOPEN,
        ComplaintEvent.created_at < at,
    )
    return connection.execute(query.limit(1)).first() is not None


def _resubmitted_before(connection: sa.Connection, application_id: uuid.UUID, at: datetime) -> bool:
    query = sa.select(sa.literal(1)).where(
        PermitApplicationEvent.application_id == application_id,
        PermitApplicationEvent.action == ApplicationAction.RESUBMIT,
        PermitApplicationEvent.created_at < at,
    )
    return connection.execute(query.limit(1)).first() is not None


def _application_facts(
    session: Session, connection: sa.Connection, event: PermitApplicationEvent
) -> list[dict[str, Any]]:
    steps = _application_steps(event)
    if not steps:
        return []
    permit_type_id, submitted_at, sla_due_at = _current(
        session,
        PermitApplication,
        event.application_id,
        ("permit_type_id", "submitted_at", "sla_due_at"),
    )
    at = event.created_at
    rows = []
    for step in steps:
        row: dict[str, Any] = {
            "event_id": event.id,
            "step": step,
            "domain": APPLICATION,
            "item_id": event.application_id,
            "agency_id": None,
            "permit_type_id": permit_type_id,
            "ended_at": at,
            "seconds": None,
            "has_deadline": False,
            "on_time": False,
            "previous_closing_at": None,
        }
        if step == CLOSING:
            decided = event.to_status in licensing_stats.DECIDED_STATUSES
            row["has_deadline"] = decided and sla_due_at is not None
            row["on_time"] = sla_due_at is not None and decided and at <= sla_due_at
            row["previous_closing_at"] = _previous_closing(
                connection, APPLICATION, event.application_id, at
            )
        elif submitted_at is None:
            continue  # never submitted: no duration to measure
        elif step == VERIFICATION and _resubmitted_before(connection, event.application_id, at):
            continue  # not the first verification
        else:
            row["seconds"] = (at - submitted_at).total_seconds()
        rows.append(row)
    return rows


def record_steps(session: Session, _flush_context: Any) -> None:
    """After each flush, in its transaction: the step rows of the history events just written,
    and a reassigned report's rows moved to its new agency."""
    events = sorted(
        (obj for obj in session.new if isinstance(obj, ComplaintEvent | PermitApplicationEvent)),
        key=lambda event: (event.created_at, str(event.id)),
    )
    reassigned = [
        obj
        for obj in session.dirty
        if isinstance(obj, Complaint) and sa.inspect(obj).attrs.agency_id.history.has_changes()
    ]
    if not events and not reassigned:
        return
    connection = session.connection()
    for event in events:
        if isinstance(event, ComplaintEvent):
            rows = _complaint_facts(session, connection, event)
        else:
            rows = _application_facts(session, connection, event)
        if rows:
            connection.execute(sa.insert(_facts), rows)
    for complaint in reassigned:
        connection.execute(
            sa.update(_facts)
            .where(_facts.c.domain == COMPLAINT, _facts.c.item_id == complaint.id)
            .values(agency_id=complaint.agency_id)
        )


sa.event.listen(Session, "after_flush", record_steps)


# --- rebuilding from the histories ----------------------------------------------------------------


def _seconds_between(started: Any, ended: Any) -> Any:
    if db.engine.dialect.name == "postgresql":
        return sa.cast(sa.extract("epoch", ended - started), sa.Float)

    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds, then the microseconds, exactly.
    def whole(moment: Any) -> Any:
        return sa.cast(sa.func.strftime("%s", moment), sa.Integer)

    def micro(moment: Any) -> Any:
        return sa.cast(sa.func.substr(moment, 21, 6), sa.Integer)

    return (whole(ended) - whole(started)) + (micro(ended) - micro(started)) / 1000000.0


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.case((condition, sa.true()), else_=sa.false())


def rebuild_figures() -> None:
    """Every step row derived afresh from the histories, in the caller's transaction (after rows
    were written straight into the tables, past the services)."""
    session = db.session
    session.execute(sa.delete(_facts))
    columns = [c.name for c in _facts.columns]
    e, c = ComplaintEvent, Complaint
    no_reopen_before = ~sa.exists().where(
        (other := aliased(ComplaintEvent)).complaint_id == e.complaint_id,
        other.action == ComplaintAction.REOPEN,
        other.created_at < e.created_at,
    )

    def complaint_rows(step: str, where: Any, closing: bool) -> Any:
        return (
            sa.select(
                e.id,
                sa.literal(step),
                sa.literal(COMPLAINT),
                e.complaint_id,
                c.agency_id,
                sa.null(),
                e.created_at,
                sa.null() if closing else _seconds_between(c.created_at, e.created_at),
                _flag(e.due_at.is_not(None)) if closing else sa.false(),
                _flag(sa.and_(e.due_at.is_not(None), e.created_at <= e.due_at))
                if closing
                else sa.false(),
                sa.func.lag(e.created_at).over(
                    partition_by=e.complaint_id, order_by=(e.created_at, e.id)
                )
                if closing
                else sa.null(),
            )
            .join(c, c.id == e.complaint_id)
            .where(where)
        )

    a, p = PermitApplicationEvent, PermitApplication
    no_resubmit_before = ~sa.exists().where(
        (earlier := aliased(PermitApplicationEvent)).application_id == a.application_id,
        earlier.action == ApplicationAction.RESUBMIT,
        earlier.created_at < a.created_at,
    )
    decided = a.to_status.in_(licensing_stats.DECIDED_STATUSES)
    with_deadline = sa.and_(decided, p.sla_due_at.is_not(None))

    def application_rows(step: str, where: Any, closing: bool) -> Any:
        return (
            sa.select(
                a.id,
                sa.literal(step),
                sa.literal(APPLICATION),
                a.application_id,
                sa.null(),
                p.permit_type_id,
                a.created_at,
                sa.null() if closing else _seconds_between(p.submitted_at, a.created_at),
                _flag(with_deadline) if closing else sa.false(),
                _flag(sa.and_(with_deadline, a.created_at <= p.sla_due_at))
                if closing
                else sa.false(),
                sa.func.lag(a.created_at).over(
                    partition_by=a.application_id, order_by=(a.created_at, a.id)
                )
                if closing
                else sa.null(),
            )
            .join(p, p.id == a.application_id)
            .where(where)
        )

    selects = [
        complaint_rows(
            CLOSING,
            sa.and_(
                e.from_status.in_(OPEN_STATUSES),
                e.to_status.in_(complaints_stats.CLOSED_STATUSES),
            ),
            True,
        ),
        complaint_rows(
            VERIFICATION,
            sa.and_(
                e.action.in_(complaints_stats.VERIFICATION_ACTIONS),
                e.from_status == ComplaintStatus.SUBMITTED,
            ),
            False,
        ),
        complaint_rows(
            RESOLUTION, sa.and_(e.action == ComplaintAction.RESOLVE, no_reopen_before), False
        ),
        application_rows(CLOSING, a.to_status.in_(licensing_stats.CLOSED_STATUSES), True),
        application_rows(
            VERIFICATION,
            sa.and_(
                a.action.in_(licensing_stats.VERIFICATION_ACTIONS),
                a.from_status == ApplicationStatus.SUBMITTED,
                p.submitted_at.is_not(None),
                no_resubmit_before,
            ),
            False,
        ),
        application_rows(
            ISSUANCE,
            sa.and_(a.action == ApplicationAction.ISSUE, p.submitted_at.is_not(None)),
            False,
        ),
    ]
    for select in selects:
        session.execute(sa.insert(_facts).from_select(columns, select))


# --- a period's figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepFigures:
    count: int  # rows (closings: closing steps)
    items: int  # distinct items (closings: each closed item once)
    with_deadline: int
    on_time: int
    median: float | None  # seconds (duration steps)
    p90: float | None


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def step_figures(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> dict[tuple[str, str], StepFigures]:
    """Every (domain, step)'s figures over [start, end) in the caller's scope: one range of the
    (domain, step, ended_at) index each, which on PostgreSQL covers every column read (the
    percentiles computed there; SQLite's sorted here)."""
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        # A year's durations are about 200,000 values per step: sorted in memory, not on disk.
        db.session.execute(sa.text("SET LOCAL work_mem = '32MB'"))
    first_in_period = sa.or_(
        StepFact.previous_closing_at.is_(None), StepFact.previous_closing_at < start
    )
    found = {}
    for domain, step in STEPS:
        where = [
            StepFact.domain == domain,
            StepFact.step == step,
            StepFact.ended_at >= start,
            StepFact.ended_at < end,
        ]
        if agency_id is not None:
            where.append(_in_scope(domain, agency_id))
        if step == CLOSING:
            count, items, with_deadline, on_time = db.session.execute(
                sa.select(
                    sa.func.count(),
                    _count_where(first_in_period),
                    _count_where(StepFact.has_deadline.is_(True)),
                    _count_where(StepFact.on_time.is_(True)),
                ).where(*where)
            ).one()
            cuts: Sequence[Any] = (None, None)
        elif postgres:
            count, *cuts = db.session.execute(
                sa.select(
                    sa.func.count(),
                    *(
                        sa.func.percentile_cont(p).within_group(StepFact.seconds)
                        for p in PERCENTILES
                    ),
                ).where(*where)
            ).one()
            items, with_deadline, on_time = count, 0, 0
        else:
            seconds = sorted(
                value
                for value in db.session.scalars(sa.select(StepFact.seconds).where(*where))
                if value is not None
            )
            cuts = [interpolated_percentile(seconds, p) for p in PERCENTILES]
            count = items = len(seconds)
            with_deadline = on_time = 0
        median, p90 = (round(float(v), 1) if v is not None else None for v in cuts)
        found[(domain, step)] = StepFigures(
            int(count), int(items), int(with_deadline), int(on_time), median, p90
        )
    return found


def _in_scope(domain: str, agency_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """A report is its agency's; an application its permit type's issuing and technical
    agencies'."""
    if domain == COMPLAINT:
        return StepFact.agency_id == agency_id
    permit_types = sa.select(PermitType.id).where(
        sa.or_(
            PermitType.issuing_agency_id == agency_id,
            PermitType.technical_agency_id == agency_id,
        )
    )
    return StepFact.permit_type_id.in_(permit_types)
