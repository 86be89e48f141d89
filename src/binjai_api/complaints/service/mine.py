"""Complaints: the caller's own reports, the list the app polls after every broadcast, read as
plain rows and written in their JSON form in one pass."""

from __future__ import annotations

import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies.models import Agency
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints.models import Complaint, ComplaintCategory, ComplaintPhoto
from binjai_api.complaints.service._common import PRIVATE_API
from binjai_api.complaints.service.public import _status_label, _text_or_none, list_item
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.fastdump import Dumped, rfc3339_utc


@dataclass(frozen=True)
class MyComplaints:
    """Which of the caller's own reports a list shows, in which order (the arguments of
    `GET /complaints/mine`)."""

    user_id: uuid.UUID
    statuses: tuple[str, ...] | None = None
    updated_after: datetime | None = None
    sort: str = "-created_at"


def my_complaints(
    *,
    user_id: uuid.UUID,
    statuses: Sequence[str] | None = None,
    updated_after: datetime | None = None,
    sort: str = "-created_at",
) -> MyComplaints:
    """The caller's own reports, for the app's offline sync (`updated_after`), newest first."""
    return MyComplaints(user_id, tuple(statuses) if statuses else None, updated_after, sort)


_complaints = Complaint.__table__
_categories = ComplaintCategory.__table__
_agencies = Agency.__table__
_photos = ComplaintPhoto.__table__
# What a row of the list shows: the report's own columns with its category's and its agency's
# code and name; the sort columns are among them.
_ROW_COLUMNS = (
    _complaints.c.id,
    _complaints.c.tracking_number,
    _complaints.c.type,
    _complaints.c.category_id,
    _categories.c.code.label("category_code"),
    _categories.c.name.label("category_name"),
    _complaints.c.agency_id,
    _agencies.c.code.label("agency_code"),
    _agencies.c.name.label("agency_name"),
    _complaints.c.title,
    _complaints.c.description,
    _complaints.c.lat,
    _complaints.c.lon,
    _complaints.c.address,
    _complaints.c.kelurahan_code,
    _complaints.c.kecamatan_code,
    _complaints.c.status,
    _complaints.c.due_at,
    _complaints.c.duplicate_of_id,
    _complaints.c.resolution_note,
    _complaints.c.resolved_at,
    _complaints.c.supporter_count,
    _complaints.c.created_at,
    _complaints.c.updated_at,
    _complaints.c.privacy,
    _complaints.c.assignee_id,
)
_SORTABLE = ("created_at", "updated_at")


def _filtered(
    statement: sa.Select[Any], table: Any, has_statuses: bool, has_updated_after: bool
) -> Any:
    statement = statement.where(table.c.reporter_id == sa.bindparam("user_id"))
    if has_statuses:
        statement = statement.where(table.c.status.in_(sa.bindparam("statuses", expanding=True)))
    if has_updated_after:
        statement = statement.where(table.c.updated_at > sa.bindparam("updated_after"))
    return statement


@lru_cache(maxsize=4)
def _count_statement(has_statuses: bool, has_updated_after: bool) -> sa.Select[Any]:
    """The list's total: a subquery of the page's statement (its own alias of the table, so
    that it is not correlated with the page's rows), and alone for a page past the end, which
    has no row to carry it."""
    counted = _complaints.alias("counted")
    return _filtered(
        sa.select(sa.func.count()).select_from(counted), counted, has_statuses, has_updated_after
    )


@lru_cache(maxsize=16)
def _page_statement(
    has_statuses: bool, has_updated_after: bool, sort: str
) -> tuple[sa.Select[Any], Callable[[Any], Any]]:
    """One statement for a page: its reports with what each row shows and the total of the
    list (an uncorrelated subquery, evaluated once: a window count made SQLite keep and sort
    every row of the list, not only the page's), each report once per photo (LEFT JOIN, in
    the photos' order). Built once per shape of the filters: the user, the statuses, the time
    and the page's bounds are its parameters. With it, the maker of its rows as named tuples,
    whose attributes read in a fraction of the time of a SQLAlchemy Row's."""
    name = sort.lstrip("-")
    if name not in _SORTABLE:
        raise ValueError(f"my reports are not sorted by {sort!r}")
    descending = sort.startswith("-")
    inner_column = _complaints.c[name]
    total = _count_statement(has_statuses, has_updated_after).scalar_subquery()
    page = (
        _filtered(
            sa.select(*_ROW_COLUMNS, total.label("total"))
            .join_from(_complaints, _categories, _complaints.c.category_id == _categories.c.id)
            .join_from(_complaints, _agencies, _complaints.c.agency_id == _agencies.c.id),
            _complaints,
            has_statuses,
            has_updated_after,
        )
        .order_by(inner_column.desc() if descending else inner_column.asc(), _complaints.c.id)
        .offset(sa.bindparam("page_offset", type_=sa.Integer))
        .limit(sa.bindparam("page_limit", type_=sa.Integer))
        .subquery("page")
    )
    outer_column = page.c[name]
    statement = (
        sa.select(
            page,
            _photos.c.id.label("photo_id"),
            _photos.c.purpose.label("photo_purpose"),
            _photos.c.media_type.label("photo_media_type"),
            _photos.c.created_at.label("photo_created_at"),
        )
        .outerjoin(_photos, _photos.c.complaint_id == page.c.id)
        .order_by(
            outer_column.desc() if descending else outer_column.asc(),
            page.c.id,
            _photos.c.created_at,
        )
    )
    row_type = namedtuple("MyComplaintRow", statement.selected_columns.keys())  # type: ignore[misc]
    return statement, row_type._make


def _parameters(mine: MyComplaints) -> dict[str, Any]:
    parameters: dict[str, Any] = {"user_id": mine.user_id}
    if mine.statuses:
        parameters["statuses"] = list(mine.statuses)
    if mine.updated_after is not None:
        parameters["updated_after"] = mine.updated_after
    return parameters


class MyComplaintsPage:
    """A page of the caller's reports: its total, one row per report (what a polled list's ETag
    is made of), and their views, written on demand (not for a 304)."""

    def __init__(self, total: int, rows: list[Any], photos: dict[Any, list[dict[str, Any]]]):
        self.total = total
        self.rows = rows
        self._photos = photos

    def views(self, principal: Principal) -> list[Dumped]:
        """The rows as `list_view` shows them to `principal`, in the JSON form
        ComplaintListItemSchema documents."""
        staff = principal.role != Role.CITIZEN
        photos = self._photos
        now = utcnow()
        labels: dict[str, str] = {}  # each status's label, looked up once per page
        views = []
        for row in self.rows:
            status = row.status
            label = labels.get(status)
            if label is None:
                label = labels[status] = _status_label(status)
            item = list_item(row, status_label=label, photos=photos.get(row.id, []), now=now)
            item["privacy"] = row.privacy
            item["assignee_id"] = _text_or_none(row.assignee_id) if staff else None
            views.append(item)
        return views


def my_complaints_page(mine: MyComplaints, *, offset: int, limit: int) -> MyComplaintsPage:
    """A page of the caller's reports and their exact total, in one statement (two for a page
    past the end)."""
    has_statuses, has_updated_after = bool(mine.statuses), mine.updated_after is not None
    parameters = _parameters(mine)
    statement, make_row = _page_statement(has_statuses, has_updated_after, mine.sort)
    result = db.session.execute(
        statement, {**parameters, "page_offset": offset, "page_limit": limit}
    )
    rows: list[Any] = []
    photos: dict[Any, list[dict[str, Any]]] = {}
    last_id = None
    for values in result:
        row = make_row(values)
        complaint_id = row.id
        if complaint_id != last_id:
            rows.append(row)
            last_id = complaint_id
        photo_id = row.photo_id
        if photo_id is not None:
            photo_key = str(photo_id)
            photos.setdefault(complaint_id, []).append(
                {
                    "id": photo_key,
                    "purpose": row.photo_purpose,
                    "media_type": row.photo_media_type,
                    "url": f"{PRIVATE_API}/{complaint_id}/photos/{photo_key}",
                    "created_at": rfc3339_utc(row.photo_created_at),
                }
            )
    if rows:
        total = rows[0].total
    elif offset == 0:
        total = 0
    else:
        count = _count_statement(has_statuses, has_updated_after)
        total = db.session.execute(count, parameters).scalar_one()
    return MyComplaintsPage(int(total), rows, photos)
