"""The overview's closings and durations, kept current as the steps happen.

Counting each closed item once and the median/p90 durations do not add up across days, and
computed from the histories they were most of a year's overview. Each step the overview counts
(a closing, a verification, a first resolution, an issuance) leaves one narrow row in
`ops_step_facts`, written by a flush listener in the same transaction as the step's history
event, whichever service wrote it; a report's reassignment moves its rows to the new agency.
The same flush counts each row for `ops_step_days`, which the transaction's COMMIT receives
in one UPSERT (send_day_rows: the hot day rows are locked only at the end of the
transaction): per local day, scope and
log-spaced duration bucket, how many steps, with a deadline, on time. A period of whole days
then sums a few thousand day rows, and each median or 90th percentile is still exact: the
buckets' counts say which bucket holds the rank, and only that bucket's step rows in the period
are read, in order. The rules are the domains'
statistics (complaints/statistics.py, licensing/statistics.py): `rebuild_figures` derives the
same rows from the histories in SQL (the migration's backfill, the benchmark's bulk load), and
the tests check both against the from-scratch queries.
"""

from __future__ import annotations

import bisect
import functools
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from binjai_api import direct_sql
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
from binjai_api.ops.models import ReportDay, StepDay, StepFact
from binjai_api.workcalendar.service import LOCAL_TIMEZONE, local_date

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
_days = cast(sa.Table, StepDay.__table__)
_reports = cast(sa.Table, ReportDay.__table__)
# The day rows' scope for the whole city (no agency or permit type has this id).
EVERY_SCOPE = uuid.UUID(int=0)


def _bucket_bounds() -> tuple[float, ...]:
    """The duration buckets' lower bounds: whole seconds 1, 2, 3, ... growing by 10% at a time
    (190 bounds up to 20 years). Bucket b holds [BOUNDS[b-1], BOUNDS[b]); bucket 0 under 1 s."""
    bounds = [1.0]
    while bounds[-1] < 20 * 365 * 86400:
        bounds.append(float(max(bounds[-1] + 1, round(bounds[-1] * 1.1))))
    return tuple(bounds)


BUCKET_BOUNDS = _bucket_bounds()


def duration_bucket(seconds: float | None) -> int:
    """The bucket of a duration (0 for none: the closings' rows)."""
    return 0 if seconds is None else bisect.bisect_right(BUCKET_BOUNDS, seconds)


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
    _record_reports(session)
    if not events and not reassigned:
        return
    connection = session.connection()
    days = _pending(session).steps
    for event in events:
        if isinstance(event, ComplaintEvent):
            rows = _complaint_facts(session, connection, event)
        else:
            rows = _application_facts(session, connection, event)
        if rows:
            connection.execute(sa.insert(_facts), rows)
            _count_in_days(days, rows)
    for complaint in reassigned:
        moved = connection.execute(
            sa.select(_facts).where(_facts.c.domain == COMPLAINT, _facts.c.item_id == complaint.id)
        ).mappings()
        for row in moved:
            if row["agency_id"] != complaint.agency_id:
                if row["agency_id"] is not None:
                    _count_in_days(days, [row], scopes=(row["agency_id"],), sign=-1)
                if complaint.agency_id is not None:
                    _count_in_days(days, [row], scopes=(complaint.agency_id,))
        connection.execute(
            sa.update(_facts)
            .where(_facts.c.domain == COMPLAINT, _facts.c.item_id == complaint.id)
            .values(agency_id=complaint.agency_id)
        )
    _send_if_committing(session)


sa.event.listen(Session, "after_flush", record_steps)


# --- the day rows' deltas, sent once per transaction ----------------------------------------------

# Every report submitted or moved, every step, adds to the same few day rows of the day (the
# city's scope and the agency's; the status, channel and area; the step's bucket), so an UPSERT
# at each flush locked them from that flush until COMMIT, and every writer in the city queued
# behind the one holding them, through all of its remaining work (its notifications, webhooks,
# audit, idempotent response). The deltas are summed in the session instead, per SAVEPOINT
# level, and sent once, just before COMMIT: the rows are then locked only for the commit itself.
# The counts stay exact and in the event's transaction (a recount equals them at every commit).
# Folding insert-only delta rows into the day rows later would spare even that lock, but the
# overview would then have to sum the unfolded rows too, and the rebuild and the backfills would
# have a second table to agree with; the lock held for one statement and a COMMIT is short.
_DELTAS = "ops_day_deltas"  # session.info: {SessionTransaction: _Deltas}
_SENT = "ops_day_deltas_sent"  # session.info: the root transaction whose deltas were sent


@dataclass
class _Deltas:
    """What a transaction (or one SAVEPOINT of it) adds to the day rows."""

    steps: dict[tuple[Any, ...], list[int]]  # ops_step_days key -> count, with deadline, on time
    reports: dict[tuple[Any, ...], int]  # ops_report_days key -> count

    def merge(self, other: _Deltas) -> None:
        for key, values in other.steps.items():
            total = self.steps.setdefault(key, [0, 0, 0])
            for index, value in enumerate(values):
                total[index] += value
        for key, count in other.reports.items():
            self.reports[key] = self.reports.get(key, 0) + count


def _owner(session: Session) -> Any:
    """The transaction a flush's deltas belong to: the innermost SAVEPOINT, else the root."""
    return session.get_nested_transaction() or session.get_transaction()


def _pending(session: Session) -> _Deltas:
    kept: dict[Any, _Deltas] = session.info.setdefault(_DELTAS, {})
    owner = _owner(session)
    deltas = kept.get(owner)
    if deltas is None:
        deltas = kept[owner] = _Deltas({}, {})
    return deltas


def _send(session: Session, deltas: _Deltas) -> None:
    """The deltas' UPSERTs: the step days, then the report days, each in key order, so that two
    writers lock the rows they share in the same order and never deadlock."""
    connection = session.connection()
    _add_to_days(connection, {key: v for key, v in deltas.steps.items() if any(v)})
    reports = {key: count for key, count in deltas.reports.items() if count}
    if reports:
        _upsert_adding(connection, _reports, _report_values(reports), ["count"])


def _send_if_committing(session: Session) -> None:
    """A flush after this transaction's deltas were sent (another before_commit listener's):
    its own deltas go at once."""
    if session.info.get(_SENT) is not None and session.info[_SENT] is _owner(session):
        deltas = session.info.get(_DELTAS, {}).pop(_owner(session), None)
        if deltas is not None:
            _send(session, deltas)


def send_day_rows(session: Session) -> None:
    """Before the root transaction's COMMIT: the last flush, then its day rows' deltas in one
    UPSERT per table (a SAVEPOINT's release only merges them into its parent)."""
    if session.get_nested_transaction() is not None:
        return
    session.flush()
    root = session.get_transaction()
    deltas = session.info.get(_DELTAS, {}).pop(root, None)
    session.info[_SENT] = root
    if deltas is not None:
        _send(session, deltas)


def _merge_released(session: Session) -> None:
    """A released SAVEPOINT's deltas become its parent's (the enclosing SAVEPOINT or the root)."""
    released = session.get_nested_transaction()
    kept: dict[Any, _Deltas] | None = session.info.get(_DELTAS)
    if released is None or not kept or released not in kept:
        return
    parent = released.parent
    while parent is not None and not parent.nested and parent.parent is not None:
        parent = parent.parent
    deltas = kept.pop(released)
    if parent is not None:
        target = kept.get(parent)
        if target is None:
            kept[parent] = deltas
        else:
            target.merge(deltas)


def _drop_ended(session: Session, transaction: Any) -> None:
    """A transaction's end: a rolled-back one's deltas go with its writes; a committed root's
    were sent."""
    kept: dict[Any, _Deltas] | None = session.info.get(_DELTAS)
    if kept:
        kept.pop(transaction, None)
    if session.info.get(_SENT) is transaction:
        del session.info[_SENT]


def drop_pending_day_rows(session: Session) -> None:
    """Forget every delta not sent yet (the day rows were just derived afresh, with them)."""
    session.info.pop(_DELTAS, None)


sa.event.listen(Session, "before_commit", send_day_rows)
sa.event.listen(Session, "after_commit", _merge_released)
sa.event.listen(Session, "after_transaction_end", _drop_ended)


# --- the day rows (ops_step_days) -----------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _count_in_days(
    days: dict[tuple[Any, ...], list[int]],
    rows: Iterable[Any],
    *,
    scopes: tuple[uuid.UUID, ...] | None = None,
    sign: int = 1,
) -> None:
    """Add step rows (mappings of ops_step_facts' columns) to `days`, keyed as ops_step_days:
    each in the whole city's scope and its own (a report's agency, an application's permit
    type), or in `scopes` only."""
    for row in rows:
        if scopes is None:
            own = row["agency_id"] if row["domain"] == COMPLAINT else row["permit_type_id"]
            counted: tuple[uuid.UUID, ...] = (EVERY_SCOPE,) if own is None else (EVERY_SCOPE, own)
        else:
            counted = scopes
        day = local_date(_utc(row["ended_at"]))
        bucket = duration_bucket(row["seconds"])
        for scope in counted:
            total = days.setdefault((row["domain"], row["step"], scope, day, bucket), [0, 0, 0])
            total[0] += sign
            total[1] += sign if row["has_deadline"] else 0
            total[2] += sign if row["on_time"] else 0


def _day_values(days: dict[tuple[Any, ...], list[int]]) -> list[dict[str, Any]]:
    # In key order: concurrent writers lock the rows they share in the same order.
    ordered = sorted(days.items(), key=lambda item: (*item[0][:2], str(item[0][2]), *item[0][3:]))
    return [
        {
            "domain": domain,
            "step": step,
            "scope_id": scope,
            "day": day,
            "bucket": bucket,
            "count": count,
            "with_deadline": with_deadline,
            "on_time": on_time,
        }
        for (domain, step, scope, day, bucket), (count, with_deadline, on_time) in ordered
    ]


def _upsert_adding(
    connection: sa.Connection, table: sa.Table, values: list[dict[str, Any]], sums: list[str]
) -> None:
    """One INSERT .. ON CONFLICT of `values` into `table`, adding the `sums` columns to the rows
    already there, in the caller's transaction (rows in the order given, which the caller sorts
    so that writers lock rows in the same order)."""
    columns = tuple(values[0])
    statement = _upsert_statement(connection.dialect.name, table, columns, tuple(sums))
    if connection.dialect.name == "postgresql":
        direct_sql.execute(
            connection, statement, {name: [row[name] for row in values] for name in columns}
        )
    else:
        direct_sql.execute(connection, statement, values)


@functools.lru_cache(maxsize=16)
def _upsert_statement(
    dialect: str, table: sa.Table, columns: tuple[str, ...], sums: tuple[str, ...]
) -> sa.Insert:
    """The upsert, built once per table and compiled once: SQLAlchemy never caches the compiled
    form of a multi-row VALUES, so the form with each row's VALUES was compiled afresh at every
    call (~10% of a complaint POST's CPU). PostgreSQL: the rows as one array per column,
    unnested in the order given (one execution); SQLite: the one-row upsert executed with every
    row's values (executemany, in the order given)."""
    key = [column.name for column in table.primary_key.columns]
    if dialect == "postgresql":
        rows = (
            sa.func.unnest(
                *(
                    sa.bindparam(name, type_=postgresql.ARRAY(table.c[name].type))
                    for name in columns
                )
            )
            .table_valued(*columns)
            .render_derived()
        )
        unnested = postgresql.insert(table).from_select(
            list(columns), sa.select(*(rows.c[name] for name in columns))
        )
        return unnested.on_conflict_do_update(
            index_elements=key,
            set_={name: table.c[name] + unnested.excluded[name] for name in sums},
        )
    one_row = sqlite.insert(table)
    return one_row.on_conflict_do_update(
        index_elements=key,
        set_={name: table.c[name] + one_row.excluded[name] for name in sums},
    )


def _add_to_days(connection: sa.Connection, days: dict[tuple[Any, ...], list[int]]) -> None:
    """One UPSERT adding `days` to ops_step_days."""
    if days:
        _upsert_adding(connection, _days, _day_values(days), ["count", "with_deadline", "on_time"])


def rebuild_days(connection: sa.Connection) -> None:
    """ops_step_days summed afresh from every step row (the migration's backfill does the same
    over the rows as they stood then)."""
    connection.execute(sa.delete(_days))
    days: dict[tuple[Any, ...], list[int]] = {}
    rows = connection.execute(sa.select(_facts).execution_options(yield_per=10_000))
    for chunk in rows.mappings().partitions():
        _count_in_days(days, chunk)
    values = _day_values(days)
    for first in range(0, len(values), 5_000):
        connection.execute(sa.insert(_days), values[first : first + 5_000])


# --- reports opened per day (ops_report_days) -----------------------------------------------------

# What a report's, and an application's, day rows depend on.
REPORT_COLUMNS = (
    "created_at",
    "status",
    "channel",
    "kecamatan_code",
    "kelurahan_code",
    "agency_id",
)
APPLICATION_COLUMNS = ("submitted_at", "status", "permit_type_id")
APPLICATION_STATUS = "app_status"  # the dimension of applications by current status
_TRACKED: dict[type, tuple[str, ...]] = {
    Complaint: REPORT_COLUMNS,
    PermitApplication: APPLICATION_COLUMNS,
}
_GONE = "ops_report_days_gone"
_FORMER = "ops_report_days_former"


def area_key(kecamatan_code: str | None, kelurahan_code: str | None) -> str:
    """A report's area as ops_report_days keys it ('' where not given)."""
    return f"{kecamatan_code or ''}:{kelurahan_code or ''}"


def _count_report(counts: dict[tuple[Any, ...], int], values: Sequence[Any], sign: int) -> None:
    created_at, status, channel, kecamatan, kelurahan, agency_id = values
    day = local_date(_utc(created_at))
    keys = (("status", status), ("channel", channel), ("area", area_key(kecamatan, kelurahan)))
    for scope in (EVERY_SCOPE,) if agency_id is None else (EVERY_SCOPE, agency_id):
        for dimension, key in keys:
            entry = (scope, day, dimension, str(key))
            counts[entry] = counts.get(entry, 0) + sign


def _count_application(
    counts: dict[tuple[Any, ...], int], values: Sequence[Any], sign: int
) -> None:
    """An application counts on the day it was submitted (drafts do not), by current status,
    in the whole city's scope and its permit type's."""
    submitted_at, status, permit_type_id = values
    if submitted_at is None:
        return
    day = local_date(_utc(submitted_at))
    for scope in (EVERY_SCOPE,) if permit_type_id is None else (EVERY_SCOPE, permit_type_id):
        entry = (scope, day, APPLICATION_STATUS, str(status))
        counts[entry] = counts.get(entry, 0) + sign


def _count_item(
    counts: dict[tuple[Any, ...], int], obj: Any, values: Sequence[Any], sign: int
) -> None:
    if isinstance(obj, Complaint):
        _count_report(counts, values, sign)
    else:
        _count_application(counts, values, sign)


def _values(obj: Any) -> list[Any]:
    return [getattr(obj, name) for name in _TRACKED[type(obj)]]


def _moved_items(session: Session) -> list[Any]:
    return [
        obj
        for obj in session.dirty
        if type(obj) in _TRACKED
        and any(sa.inspect(obj).attrs[name].history.has_changes() for name in _TRACKED[type(obj)])
    ]


def capture_reports(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Before each flush, what it cannot tell afterwards: the reports it deletes, and the former
    values of moved reports that the session never loaded (read while the rows still hold
    them)."""
    gone: dict[tuple[Any, ...], int] = {}
    for obj in session.deleted:
        if type(obj) in _TRACKED:
            _count_item(gone, obj, _values(obj), -1)
    unknown: dict[type, list[uuid.UUID]] = {}
    for obj in _moved_items(session):
        histories = (sa.inspect(obj).attrs[name].history for name in _TRACKED[type(obj)])
        if any(history.has_changes() and not history.deleted for history in histories):
            unknown.setdefault(type(obj), []).append(obj.id)
    former: dict[tuple[type, uuid.UUID], tuple[Any, ...]] = {}
    for model, ids in unknown.items():
        key = getattr(model, "id")  # noqa: B009 (a mapped class, typed as a plain type here)
        columns = [getattr(model, name) for name in _TRACKED[model]]
        query = sa.select(key, *columns).where(key.in_(ids))
        for row in session.connection().execute(query):
            former[(model, row[0])] = tuple(row[1:])
    session.info[_GONE] = gone
    session.info[_FORMER] = former


def _record_reports(session: Session) -> None:
    """After each flush: the day rows' deltas of the reports it inserted, moved (status,
    agency, area ...) or deleted, sent before the transaction's COMMIT (send_day_rows)."""
    counts: dict[tuple[Any, ...], int] = session.info.pop(_GONE, None) or {}
    former = session.info.pop(_FORMER, None) or {}
    for obj in session.new:
        if type(obj) in _TRACKED:
            _count_item(counts, obj, _values(obj), +1)
    for obj in _moved_items(session):
        state = sa.inspect(obj)
        before = []
        for index, name in enumerate(_TRACKED[type(obj)]):
            history = state.attrs[name].history
            if history.deleted:
                before.append(history.deleted[0])
            elif history.has_changes():
                before.append(former[(type(obj), obj.id)][index])
            else:
                before.append(getattr(obj, name))
        after = _values(obj)
        if before != after:
            _count_item(counts, obj, before, -1)
            _count_item(counts, obj, after, +1)
    if counts:
        pending = _pending(session).reports
        for key, count in counts.items():
            pending[key] = pending.get(key, 0) + count
        _send_if_committing(session)


sa.event.listen(Session, "before_flush", capture_reports)


def count_inserted(session: Session, item: Any) -> None:
    """The day rows' deltas of a report or application its service inserted with a Core
    statement (no flush, so `_record_reports` never sees it), sent before the COMMIT as
    those of a flushed one."""
    counts: dict[tuple[Any, ...], int] = {}
    _count_item(counts, item, _values(item), +1)
    pending = _pending(session).reports
    for key, count in counts.items():
        pending[key] = pending.get(key, 0) + count
    _send_if_committing(session)


def _report_values(counts: dict[tuple[Any, ...], int]) -> list[dict[str, Any]]:
    # In key order: concurrent writers lock the rows they share in the same order.
    ordered = sorted(counts.items(), key=lambda item: (str(item[0][0]), *item[0][1:]))
    return [
        {"scope_id": scope, "day": day, "dimension": dimension, "key": key, "count": count}
        for (scope, day, dimension, key), count in ordered
    ]


def rebuild_report_days(connection: sa.Connection) -> None:
    """ops_report_days counted afresh from every report (after rows were written straight into
    the tables; the migration's backfill does the same)."""
    connection.execute(sa.delete(_reports))
    counts: dict[tuple[Any, ...], int] = {}
    for model, count in ((Complaint, _count_report), (PermitApplication, _count_application)):
        columns = [getattr(model, name) for name in _TRACKED[model]]
        rows = connection.execute(sa.select(*columns).execution_options(yield_per=10_000))
        for chunk in rows.partitions():
            for row in chunk:
                count(counts, row, +1)
    values = _report_values(counts)
    for first in range(0, len(values), 5_000):
        connection.execute(sa.insert(_reports), values[first : first + 5_000])


@dataclass(frozen=True)
class OpenedReports:
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_area: dict[tuple[str | None, str | None], int]
    applications_by_status: dict[str, int]


def opened_reports(first: date, last: date, agency_id: uuid.UUID | None) -> OpenedReports:
    """Reports opened on local days first..last in the scope, by current status, by channel and
    by area (kecamatan, kelurahan), and applications submitted then by current status: ranges
    of the day rows' key."""
    r = _reports.c
    if agency_id is None:
        scope: sa.ColumnElement[bool] = r.scope_id == EVERY_SCOPE
    else:  # a report is its agency's, an application its permit type's agencies'
        scope = sa.or_(
            r.scope_id == agency_id,
            sa.and_(r.dimension == APPLICATION_STATUS, r.scope_id.in_(_permit_types_of(agency_id))),
        )
    query = (
        sa.select(r.dimension, r.key, sa.func.sum(r.count))
        .where(scope, r.day >= first, r.day <= last)
        .group_by(r.dimension, r.key)
    )
    found: dict[str, dict[str, int]] = {
        "status": {},
        "channel": {},
        "area": {},
        APPLICATION_STATUS: {},
    }
    for dimension, key, count in db.session.execute(query):
        if count:
            found.setdefault(dimension, {})[key] = int(count)
    areas = {}
    for key, count in found["area"].items():
        kecamatan, _, kelurahan = key.partition(":")
        areas[(kecamatan or None, kelurahan or None)] = count
    return OpenedReports(found["status"], found["channel"], areas, found[APPLICATION_STATUS])


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
    session.flush()
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
    rebuild_days(session.connection())
    rebuild_report_days(session.connection())
    drop_pending_day_rows(session())  # counted in the rows just derived


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
    """Every (domain, step)'s figures over [start, end) in the caller's scope: from the day rows
    when the period is whole local days (the overview's), else from the step rows."""
    first, after = local_date(start), local_date(end)
    if (
        first < after
        and start == datetime.combine(first, time(0), tzinfo=LOCAL_TIMEZONE)
        and end == datetime.combine(after, time(0), tzinfo=LOCAL_TIMEZONE)
    ):
        found = _figures_from_days(
            first, after - timedelta(days=1), start=start, end=end, agency_id=agency_id
        )
        if found is not None:
            return found
    return step_figures_from_rows(start=start, end=end, agency_id=agency_id)


def _figures_from_days(
    first: date, last: date, *, start: datetime, end: datetime, agency_id: uuid.UUID | None
) -> dict[tuple[str, str], StepFigures] | None:
    """The figures of local days first..last, i.e. [start, end): the day rows' sums per bucket
    (one query); the closings not an item's first in the period (one query over those rare
    rows); and each percentile exactly, as percentile_cont gives it: the buckets' counts say
    which bucket holds each rank needed and where in it, and the step rows of that bucket's
    range in the period, in order, give the value (one short query per bucket). None if the
    day rows disagree with the step rows (then the caller reads the step rows)."""
    d = _days.c
    if agency_id is None:
        scope: sa.ColumnElement[bool] = d.scope_id == EVERY_SCOPE
    else:
        scope = sa.or_(
            sa.and_(d.domain == COMPLAINT, d.scope_id == agency_id),
            sa.and_(d.domain == APPLICATION, d.scope_id.in_(_permit_types_of(agency_id))),
        )
    sums = db.session.execute(
        sa.select(
            d.domain,
            d.step,
            d.bucket,
            sa.func.sum(d.count),
            sa.func.sum(d.with_deadline),
            sa.func.sum(d.on_time),
        )
        .where(scope, d.day >= first, d.day <= last)
        .group_by(d.domain, d.step, d.bucket)
    )
    buckets: dict[tuple[str, str], list[tuple[int, int]]] = {key: [] for key in STEPS}
    totals: dict[tuple[str, str], list[int]] = {key: [0, 0, 0] for key in STEPS}
    for domain, step, bucket, count, with_deadline, on_time in sums:
        if (domain, step) not in totals or not count:
            continue
        buckets[(domain, step)].append((int(bucket), int(count)))
        total = totals[(domain, step)]
        total[0] += int(count)
        total[1] += int(with_deadline)
        total[2] += int(on_time)
    f = StepFact
    later_closings = dict(
        db.session.execute(
            sa.select(f.domain, sa.func.count())
            .where(
                f.step == CLOSING,
                f.domain.in_((COMPLAINT, APPLICATION)),
                f.previous_closing_at.is_not(None),
                f.previous_closing_at >= start,
                f.ended_at >= start,
                f.ended_at < end,
                *([] if agency_id is None else [_rows_in_scope(agency_id)]),
            )
            .group_by(f.domain)
        ).all()
    )
    found = {}
    for domain, step in STEPS:
        count, with_deadline, on_time = totals[(domain, step)]
        if step == CLOSING:
            items = count - int(later_closings.get(domain, 0))
            median = p90 = None
        else:
            items, with_deadline, on_time = count, 0, 0
            cuts = _percentiles_in_buckets(
                domain, step, sorted(buckets[(domain, step)]), count, start, end, agency_id
            )
            if cuts is None:
                return None
            median, p90 = (round(v, 1) if v is not None else None for v in cuts)
        found[(domain, step)] = StepFigures(count, items, with_deadline, on_time, median, p90)
    return found


def _percentiles_in_buckets(
    domain: str,
    step: str,
    buckets: list[tuple[int, int]],
    count: int,
    start: datetime,
    end: datetime,
    agency_id: uuid.UUID | None,
) -> list[float | None] | None:
    """PERCENTILES of a step's durations in [start, end), exactly (interpolated_percentile's
    rule), from its buckets' counts and the step rows of the buckets holding the ranks."""
    if not count:
        return [None for _ in PERCENTILES]
    positions = [p * (count - 1) for p in PERCENTILES]
    ranks = sorted({bound(pos) for pos in positions for bound in (math.floor, math.ceil)})
    wanted: dict[int, list[int]] = {}  # bucket -> ranks within it
    starts: dict[int, int] = {}  # bucket -> rank of its first value
    offset, index = 0, 0
    for bucket, size in buckets:
        starts[bucket] = offset
        while index < len(ranks) and ranks[index] < offset + size:
            wanted.setdefault(bucket, []).append(ranks[index] - offset)
            index += 1
        offset += size
    if index < len(ranks):
        return None
    values: dict[int, float] = {}
    f = StepFact
    for bucket, within in wanted.items():
        where = [f.domain == domain, f.step == step, f.ended_at >= start, f.ended_at < end]
        if bucket > 0:
            where.append(f.seconds >= BUCKET_BOUNDS[bucket - 1])
        if bucket < len(BUCKET_BOUNDS):
            where.append(f.seconds < BUCKET_BOUNDS[bucket])
        if agency_id is not None:
            where.append(_in_scope(domain, agency_id))
        lowest, highest = min(within), max(within)
        got = db.session.scalars(
            sa.select(f.seconds)
            .where(*where)
            .order_by(f.seconds)
            .offset(lowest)
            .limit(highest - lowest + 1)
        ).all()
        if len(got) != highest - lowest + 1:
            return None
        for rank in within:
            value = got[rank - lowest]
            if value is None:
                return None
            values[starts[bucket] + rank] = float(value)
    cuts: list[float | None] = []
    for position in positions:
        lower, upper = values[math.floor(position)], values[math.ceil(position)]
        cuts.append(lower + (upper - lower) * (position - math.floor(position)))
    return cuts


def step_figures_from_rows(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> dict[tuple[str, str], StepFigures]:
    """step_figures over any [start, end), from the step rows: one range of the
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


def _permit_types_of(agency_id: uuid.UUID) -> sa.Select[uuid.UUID]:
    return sa.select(PermitType.id).where(
        sa.or_(
            PermitType.issuing_agency_id == agency_id,
            PermitType.technical_agency_id == agency_id,
        )
    )


def _in_scope(domain: str, agency_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """A report is its agency's; an application its permit type's issuing and technical
    agencies'."""
    if domain == COMPLAINT:
        return StepFact.agency_id == agency_id
    return StepFact.permit_type_id.in_(_permit_types_of(agency_id))


def _rows_in_scope(agency_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """_in_scope for step rows of either domain."""
    return sa.or_(
        sa.and_(StepFact.domain == COMPLAINT, _in_scope(COMPLAINT, agency_id)),
        sa.and_(StepFact.domain == APPLICATION, _in_scope(APPLICATION, agency_id)),
    )
