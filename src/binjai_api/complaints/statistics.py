"""What the command center reads of complaints: overdue reports and figures over many reports.

Read-only and set-based: these queries aggregate in the database, never row by row in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from binjai_api.complaints.models import Complaint, ComplaintEvent
from binjai_api.complaints.states import OPEN_STATUSES, STATUSES, Action, Channel, Status
from binjai_api.config import API_V1_STR
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db

# The step a report's running deadline belongs to, by status (states.py: verification while it
# waits for the BCC, the agency's follow-up once dispatched or reopened).
VERIFICATION_STEP = "verification"
FOLLOW_UP_STEP = "follow_up"


def overdue_items(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OverdueItem]:
    """Open reports whose running deadline has passed, most overdue first."""
    query = (
        sa.select(
            Complaint.id,
            Complaint.tracking_number,
            Complaint.title,
            Complaint.agency_id,
            Complaint.status,
            Complaint.due_at,
        )
        .where(_is_overdue(now))
        .order_by(Complaint.due_at, Complaint.id)
    )
    items = []
    for row in db.session.execute(_scoped(query, agency_id)):
        verifying = row.status == Status.SUBMITTED
        items.append(
            OverdueItem(
                item_type=ItemType.COMPLAINT,
                item_id=row.id,
                reference=row.tracking_number,
                title=row.title,
                agency_id=row.agency_id,
                step=VERIFICATION_STEP if verifying else FOLLOW_UP_STEP,
                waiting_on=WaitingOn.BCC_OPERATOR if verifying else WaitingOn.AGENCY_OFFICER,
                due_at=row.due_at,
                link=f"{API_V1_STR}/complaints/{row.id}",
            )
        )
    return items


# --- figures for the command center's overview and wall map -------------------------------------

# Any select, kept as its own type through the scoping helpers.
_Query = TypeVar("_Query", bound="sa.Select[*tuple[Any, ...]]")

# Final outcomes: a report that leaves the open statuses for one of these is closed (states.py).
CLOSED_STATUSES = tuple(code for code, info in STATUSES.items() if not info.is_open)
# The BCC's verification ends with one of these; the agency's follow-up with a resolution.
VERIFICATION_ACTIONS = (Action.DISPATCH, Action.REJECT, Action.MARK_DUPLICATE)


@dataclass(frozen=True)
class Closings:
    closed: int  # distinct reports that reached a final outcome
    with_deadline: int  # closing steps that had a deadline running
    on_time: int  # ... and were taken at or before it


@dataclass(frozen=True)
class AreaCounts:
    kecamatan_code: str | None
    kelurahan_code: str | None
    opened: int
    open: int
    overdue: int


@dataclass(frozen=True)
class HeatmapFilters:
    start: datetime
    end: datetime
    agency_id: uuid.UUID | None = None
    status: str | None = None
    category_id: uuid.UUID | None = None
    type: str | None = None


@dataclass(frozen=True)
class HeatmapCell:
    key: tuple[Any, ...]  # (kelurahan_code, ...) or (row, column) of the grid
    count: int
    open: int
    overdue: int
    mean_lat: float | None
    mean_lon: float | None


def _scoped(query: _Query, agency_id: uuid.UUID | None) -> _Query:
    return query if agency_id is None else query.where(Complaint.agency_id == agency_id)


def _is_open() -> sa.ColumnElement[bool]:
    return Complaint.status.in_(OPEN_STATUSES)


def _is_overdue(now: datetime) -> sa.ColumnElement[bool]:
    """Open with its running deadline passed: the one rule of the list, the counts and the map."""
    return sa.and_(_is_open(), Complaint.due_at.is_not(None), Complaint.due_at < now)


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def status_counts(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> dict[str, int]:
    """Reports opened in [start, end) by their current status, every status listed."""
    query = _scoped(
        sa.select(Complaint.status, sa.func.count())
        .where(Complaint.created_at >= start, Complaint.created_at < end)
        .group_by(Complaint.status),
        agency_id,
    )
    counts = dict.fromkeys((str(code) for code in STATUSES), 0)
    for status, count in db.session.execute(query):
        counts[status] = int(count)
    return counts


def channel_counts(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> dict[str, int]:
    """Reports opened in [start, end) by how they reached the city, every channel listed."""
    query = _scoped(
        sa.select(Complaint.channel, sa.func.count())
        .where(Complaint.created_at >= start, Complaint.created_at < end)
        .group_by(Complaint.channel),
        agency_id,
    )
    counts = dict.fromkeys((str(channel) for channel in Channel), 0)
    for channel, count in db.session.execute(query):
        counts[channel] = int(count)
    return counts


def closings(*, start: datetime, end: datetime, agency_id: uuid.UUID | None = None) -> Closings:
    """Reports that left the open statuses in [start, end), and whether each closing step was
    taken within the deadline that was running (ComplaintEvent.due_at). A report reopened and
    resolved again counts once as closed, but each of its closing steps is judged."""
    query = sa.select(
        sa.func.count(sa.distinct(ComplaintEvent.complaint_id)),
        _count_where(ComplaintEvent.due_at.is_not(None)),
        _count_where(ComplaintEvent.created_at <= ComplaintEvent.due_at),
    ).where(
        ComplaintEvent.from_status.in_(OPEN_STATUSES),
        ComplaintEvent.to_status.in_(CLOSED_STATUSES),
        ComplaintEvent.created_at >= start,
        ComplaintEvent.created_at < end,
    )
    if agency_id is not None:  # the events alone answer for every agency
        query = _scoped(
            query.join(Complaint, Complaint.id == ComplaintEvent.complaint_id), agency_id
        )
    closed, with_deadline, on_time = db.session.execute(query).one()
    return Closings(int(closed), int(with_deadline), int(on_time))


def _step_spans(
    step: sa.ColumnElement[bool],
    *,
    not_after: str | None,
    start: datetime,
    end: datetime,
    agency_id: uuid.UUID | None,
) -> sa.Select[*tuple[Any, ...]]:
    """(started, ended) rows: from a report's submission to its `step` event in [start, end),
    unless a `not_after` event came earlier. The period's events are found by their
    (action, created_at) index; the check against earlier events only looks at that rarer
    action, not at every report's whole history."""
    query = (
        sa.select(Complaint.created_at.label("started"), ComplaintEvent.created_at.label("ended"))
        .select_from(ComplaintEvent)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .where(step, ComplaintEvent.created_at >= start, ComplaintEvent.created_at < end)
    )
    if not_after is not None:
        earlier = aliased(ComplaintEvent)
        query = query.where(
            ~sa.exists().where(
                earlier.complaint_id == ComplaintEvent.complaint_id,
                earlier.action == not_after,
                earlier.created_at < ComplaintEvent.created_at,
            )
        )
    return _scoped(query, agency_id)


def time_to_verify_spans(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """Submission to the BCC's verification (dispatch, reject or duplicate), as (started, ended)
    rows of reports verified in [start, end). A report leaves `submitted` once (states.py), so
    its verification is the one such event from that status."""
    step = sa.and_(
        ComplaintEvent.action.in_(VERIFICATION_ACTIONS),
        ComplaintEvent.from_status == Status.SUBMITTED,
    )
    return _step_spans(step, not_after=None, start=start, end=end, agency_id=agency_id)


def time_to_resolve_spans(
    *, start: datetime, end: datetime, agency_id: uuid.UUID | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """Submission to the first resolution, as (started, ended) rows of reports first resolved
    in [start, end). Only a resolved report can be reopened, so a resolution with no reopening
    before it is the first."""
    step = ComplaintEvent.action == Action.RESOLVE
    return _step_spans(step, not_after=Action.REOPEN, start=start, end=end, agency_id=agency_id)


def counts_by_area(
    *, start: datetime, end: datetime, now: datetime, agency_id: uuid.UUID | None = None
) -> list[AreaCounts]:
    """Per kelurahan (None: not given): reports opened in [start, end), open now, overdue now."""
    opened = sa.and_(Complaint.created_at >= start, Complaint.created_at < end)
    query = _scoped(
        sa.select(
            Complaint.kecamatan_code,
            Complaint.kelurahan_code,
            _count_where(opened),
            _count_where(_is_open()),
            _count_where(_is_overdue(now)),
        )
        .where(sa.or_(opened, _is_open()))
        .group_by(Complaint.kecamatan_code, Complaint.kelurahan_code),
        agency_id,
    )
    return [
        AreaCounts(kecamatan, kelurahan, int(o), int(op), int(od))
        for kecamatan, kelurahan, o, op, od in db.session.execute(query)
    ]


def _heatmap_query(
    filters: HeatmapFilters, now: datetime, *keys: Any
) -> sa.Select[*tuple[Any, ...]]:
    query = sa.select(
        *keys,
        sa.func.count(),
        _count_where(_is_open()),
        _count_where(_is_overdue(now)),
        sa.func.avg(Complaint.lat),
        sa.func.avg(Complaint.lon),
    ).where(Complaint.created_at >= filters.start, Complaint.created_at < filters.end)
    if filters.status is not None:
        query = query.where(Complaint.status == filters.status)
    if filters.category_id is not None:
        query = query.where(Complaint.category_id == filters.category_id)
    if filters.type is not None:
        query = query.where(Complaint.type == filters.type)
    return _scoped(query.group_by(*keys), filters.agency_id)


def _cells(query: sa.Select[*tuple[Any, ...]], width: int) -> list[HeatmapCell]:
    cells = []
    for row in db.session.execute(query):
        key, (count, open_, overdue, lat, lon) = tuple(row[:width]), row[width:]
        cells.append(
            HeatmapCell(
                key=key,
                count=int(count),
                open=int(open_),
                overdue=int(overdue),
                mean_lat=float(lat) if lat is not None else None,
                mean_lon=float(lon) if lon is not None else None,
            )
        )
    return cells


def heatmap_by_kelurahan(*, filters: HeatmapFilters, now: datetime) -> list[HeatmapCell]:
    """Reports per (kelurahan_code, kecamatan_code), with the mean position of those located
    (AVG skips reports without coordinates)."""
    query = _heatmap_query(filters, now, Complaint.kelurahan_code, Complaint.kecamatan_code)
    return _cells(query, 2)


def heatmap_grid(
    *, filters: HeatmapFilters, now: datetime, step_lat: float, step_lon: float
) -> list[HeatmapCell]:
    """Located reports per square cell: (row, column) = floor(lat / step_lat),
    floor(lon / step_lon), grouped in the database."""
    row = sa.func.floor(Complaint.lat / step_lat).label("cell_row")
    column = sa.func.floor(Complaint.lon / step_lon).label("cell_column")
    query = _heatmap_query(filters, now, row, column).where(
        Complaint.lat.is_not(None), Complaint.lon.is_not(None)
    )
    return [
        HeatmapCell(
            key=(int(cell.key[0]), int(cell.key[1])),
            count=cell.count,
            open=cell.open,
            overdue=cell.overdue,
            mean_lat=cell.mean_lat,
            mean_lon=cell.mean_lon,
        )
        for cell in _cells(query, 2)
    ]


def overdue_counts(
    *, now: datetime, agency_id: uuid.UUID | None = None
) -> dict[uuid.UUID | None, int]:
    """How many reports overdue_items would list, per agency, counted in the database."""
    query = _scoped(
        sa.select(Complaint.agency_id, sa.func.count())
        .where(_is_overdue(now))
        .group_by(Complaint.agency_id),
        agency_id,
    )
    return {agency: int(count) for agency, count in db.session.execute(query)}


@dataclass(frozen=True)
class OpenCounts:
    agency_id: uuid.UUID | None
    kecamatan_code: str | None
    kelurahan_code: str | None
    open: int  # open now
    overdue: int  # overdue now


def open_counts(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OpenCounts]:
    """The open reports per (agency, kecamatan, kelurahan), and how many are overdue (the rule
    of overdue_items): counts_by_area's open and overdue figures and overdue_counts in one pass
    over the open reports only."""
    query = _scoped(
        sa.select(
            Complaint.agency_id,
            Complaint.kecamatan_code,
            Complaint.kelurahan_code,
            sa.func.count(),
            _count_where(_is_overdue(now)),
        )
        .where(_is_open())
        .group_by(Complaint.agency_id, Complaint.kecamatan_code, Complaint.kelurahan_code),
        agency_id,
    )
    return [
        OpenCounts(agency, kecamatan, kelurahan, int(open_), int(overdue))
        for agency, kecamatan, kelurahan, open_, overdue in db.session.execute(query)
    ]


# --- the public performance page (quality/performance.py) ----------------------------------------

# The agency's follow-up (SP4N-LAPOR!'s "tindak lanjut"): work started on the report, or the
# report resolved.
FOLLOW_UP_ACTIONS = (Action.START, Action.RESOLVE)


@dataclass(frozen=True)
class FollowUps:
    received: int  # reports submitted in the period
    judged: int  # ... sent to an agency, and either followed up or past the follow-up deadline
    on_time: int  # ... followed up at or before the deadline that was running


def _in_kecamatan(query: _Query, kecamatan_code: str | None) -> _Query:
    if kecamatan_code is None:
        return query
    return query.where(Complaint.kecamatan_code == kecamatan_code)


def follow_ups(
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    agency_id: uuid.UUID | None = None,
    kecamatan_code: str | None = None,
) -> FollowUps:
    """Reports submitted in [start, end) and the share followed up within the deadline, LAPOR's
    way: of those sent to an agency, the ones followed up (work started or resolved) at or
    before the deadline running then. A report whose deadline has not passed and
    that has no follow-up yet is not judged."""
    followed = aliased(ComplaintEvent)
    on_time = aliased(ComplaintEvent)
    dispatched = aliased(ComplaintEvent)
    was_dispatched = sa.exists().where(
        dispatched.complaint_id == Complaint.id, dispatched.action == Action.DISPATCH
    )
    was_followed = sa.exists().where(
        followed.complaint_id == Complaint.id, followed.action.in_(FOLLOW_UP_ACTIONS)
    )
    was_on_time = sa.exists().where(
        on_time.complaint_id == Complaint.id,
        on_time.action.in_(FOLLOW_UP_ACTIONS),
        on_time.due_at.is_not(None),
        on_time.created_at <= on_time.due_at,
    )
    still_running = sa.and_(
        _is_open(), Complaint.due_at.is_not(None), Complaint.due_at >= now, ~was_followed
    )
    judged = sa.and_(was_dispatched, ~still_running)
    query = sa.select(
        sa.func.count(), _count_where(judged), _count_where(sa.and_(judged, was_on_time))
    ).where(Complaint.created_at >= start, Complaint.created_at < end)
    query = _in_kecamatan(_scoped(query, agency_id), kecamatan_code)
    received, judged_count, on_time_count = db.session.execute(query).one()
    return FollowUps(int(received), int(judged_count), int(on_time_count))


def resolve_spans(
    *,
    start: datetime,
    end: datetime,
    agency_id: uuid.UUID | None = None,
    kecamatan_code: str | None = None,
) -> sa.Select[*tuple[Any, ...]]:
    """time_to_resolve_spans, narrowed to one kecamatan if given."""
    query = time_to_resolve_spans(start=start, end=end, agency_id=agency_id)
    return _in_kecamatan(query, kecamatan_code)
