"""Complaints: the public face: the feed, nearby reports, GeoJSON and public photos."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import raiseload

from binjai_api import geo, public_cache
from binjai_api.agencies.models import Agency
from binjai_api.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintPhoto,
)
from binjai_api.complaints.service._common import (
    NEARBY_DEFAULT_RADIUS_M,
    PUBLIC_API,
    PUBLIC_SORTABLE,
)
from binjai_api.complaints.service.photos import _read_photo, photo_public_url
from binjai_api.complaints.service.views import _summary_view
from binjai_api.complaints.states import (
    OPEN_STATUSES,
    STATUSES,
    Privacy,
    is_open,
)
from binjai_api.db import utcnow
from binjai_api.errors import not_found
from binjai_api.extensions import db
from binjai_api.fastdump import Dumped, rfc3339_utc
from binjai_api.i18n import gettext, negotiated_language
from binjai_api.pagination import apply_sort, count_rows, public_count_seconds

# --- the public face ---------------------------------------------------------------------------


def _public() -> sa.Select[Complaint]:
    return sa.select(Complaint).where(Complaint.privacy != Privacy.CONFIDENTIAL)


def public_complaints_query(
    *,
    category_ids: Sequence[uuid.UUID] | None = None,
    statuses: Sequence[str] | None = None,
    kecamatan_code: str | None = None,
    kelurahan_code: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    updated_after: datetime | None = None,
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
    tracking_number: str | None = None,
    sort: str = "-created_at",
) -> sa.Select[Complaint]:
    """Non-confidential reports, newest first; bbox is (min_lon, min_lat, max_lon, max_lat)."""
    return _public_complaints_query(
        tuple(category_ids) if category_ids else None,
        tuple(statuses) if statuses else None,
        kecamatan_code,
        kelurahan_code,
        tuple(bbox) if bbox is not None else None,
        updated_after,
        submitted_from,
        submitted_to,
        tracking_number,
        sort,
    )


# A select is immutable: the same filters give the same one, built (and its cache key computed by
# SQLAlchemy) once, and the page statement built from it is kept beside it (_views_statement).
@lru_cache(maxsize=256)
def _public_complaints_query(
    category_ids: tuple[uuid.UUID, ...] | None,
    statuses: tuple[str, ...] | None,
    kecamatan_code: str | None,
    kelurahan_code: str | None,
    bbox: tuple[float, ...] | None,
    updated_after: datetime | None,
    submitted_from: datetime | None,
    submitted_to: datetime | None,
    tracking_number: str | None,
    sort: str,
) -> sa.Select[Complaint]:
    query = _public()
    if tracking_number is not None:
        query = query.where(Complaint.tracking_number == tracking_number.strip().upper())
    if category_ids:
        query = query.where(Complaint.category_id.in_(category_ids))
    if statuses:
        query = query.where(Complaint.status.in_(statuses))
    if kecamatan_code is not None:
        query = query.where(Complaint.kecamatan_code == kecamatan_code)
    if kelurahan_code is not None:
        query = query.where(Complaint.kelurahan_code == kelurahan_code)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query = query.where(
            Complaint.lat.between(min_lat, max_lat), Complaint.lon.between(min_lon, max_lon)
        )
    if updated_after is not None:
        query = query.where(Complaint.updated_at > updated_after)
    if submitted_from is not None:
        query = query.where(Complaint.created_at >= submitted_from)
    if submitted_to is not None:
        query = query.where(Complaint.created_at <= submitted_to)
    return apply_sort(query, sort, PUBLIC_SORTABLE, tiebreaker=Complaint.id)


# What a page of public views reads: the reports' own columns with their category's and agency's
# code and name (one statement), then their photos (one more).
_PUBLIC_VIEW_COLUMNS = (
    Complaint.id,
    Complaint.tracking_number,
    Complaint.type,
    Complaint.category_id,
    ComplaintCategory.code.label("category_code"),
    ComplaintCategory.name.label("category_name"),
    Complaint.agency_id,
    Agency.code.label("agency_code"),
    Agency.name.label("agency_name"),
    Complaint.title,
    Complaint.description,
    Complaint.lat,
    Complaint.lon,
    Complaint.address,
    Complaint.kelurahan_code,
    Complaint.kecamatan_code,
    Complaint.status,
    Complaint.due_at,
    Complaint.duplicate_of_id,
    Complaint.resolution_note,
    Complaint.resolved_at,
    Complaint.supporter_count,
    Complaint.created_at,
    Complaint.updated_at,
)
# Built once: its cache key too, and the page's ids are its one parameter.
_PUBLIC_PHOTOS_OF = (
    sa.select(
        ComplaintPhoto.id,
        ComplaintPhoto.complaint_id,
        ComplaintPhoto.purpose,
        ComplaintPhoto.media_type,
        ComplaintPhoto.created_at,
    )
    .where(ComplaintPhoto.complaint_id.in_(sa.bindparam("complaint_ids", expanding=True)))
    .order_by(ComplaintPhoto.created_at)
)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _time_or_none(value: datetime | None) -> str | None:
    return None if value is None else rfc3339_utc(value)


def list_item(row: Any, *, status_label: str, photos: list[Any], now: datetime) -> Dumped:
    """A report's row as a list shows it (the feed; my complaints add their own fields after
    these), in the JSON form and order its schema documents."""
    status = row.status
    due_at = row.due_at
    return Dumped(
        id=str(row.id),
        tracking_number=row.tracking_number,
        type=row.type,
        category_id=str(row.category_id),
        category_code=row.category_code,
        category_name=row.category_name,
        agency_id=str(row.agency_id),
        agency_code=row.agency_code,
        agency_name=row.agency_name,
        title=row.title,
        description=row.description,
        lat=row.lat,
        lon=row.lon,
        address=row.address,
        kelurahan_code=row.kelurahan_code,
        kecamatan_code=row.kecamatan_code,
        status=status,
        status_label=status_label,
        is_open=is_open(status),
        due_at=_time_or_none(due_at),
        is_overdue=due_at is not None and due_at < now,
        duplicate_of_id=_text_or_none(row.duplicate_of_id),
        resolution_note=row.resolution_note,
        resolved_at=_time_or_none(row.resolved_at),
        supporter_count=row.supporter_count,
        photos=photos,
        created_at=rfc3339_utc(row.created_at),
        updated_at=rfc3339_utc(row.updated_at),
    )


@lru_cache(maxsize=256)
def _views_statement(query: sa.Select[Complaint]) -> sa.Executable:
    """A page of `query` with what each public view shows (the page's bounds its parameters)."""
    return (
        query.with_only_columns(*_PUBLIC_VIEW_COLUMNS)
        .join_from(Complaint, ComplaintCategory, Complaint.category_id == ComplaintCategory.id)
        .join_from(Complaint, Agency, Complaint.agency_id == Agency.id)
        .offset(sa.bindparam("page_offset", type_=sa.Integer))
        .limit(sa.bindparam("page_limit", type_=sa.Integer))
    )


# Each status's label in each language, translated once per process.
_STATUS_LABELS: dict[tuple[str, str], str] = {}


def _status_label(status: str) -> str:
    key = (negotiated_language(), status)
    label = _STATUS_LABELS.get(key)
    if label is None:
        label = _STATUS_LABELS[key] = str(STATUSES[status].label)
    return label


def public_views_page(query: sa.Select[Complaint], *, offset: int, limit: int) -> list[Dumped]:
    """A page of `query`'s reports as `public_view` shows them, in the JSON form
    PublicComplaintSchema documents, read as plain rows and written in one pass (two
    statements, whatever the page size)."""
    page = _views_statement(query)
    rows = db.session.execute(page, {"page_offset": offset, "page_limit": limit}).all()
    if not rows:
        return []
    photos: dict[uuid.UUID, list[dict[str, Any]]] = {row.id: [] for row in rows}
    for photo in db.session.execute(_PUBLIC_PHOTOS_OF, {"complaint_ids": list(photos)}):
        complaint_id, photo_id = str(photo.complaint_id), str(photo.id)
        photos[photo.complaint_id].append(
            {
                "id": photo_id,
                "purpose": photo.purpose,
                "media_type": photo.media_type,
                "url": f"{PUBLIC_API}/{complaint_id}/photos/{photo_id}",
                "created_at": rfc3339_utc(photo.created_at),
            }
        )
    now = utcnow()
    # `is_overdue` turns at the first deadline still ahead: a kept page lives until then.
    public_cache.valid_until(
        min((row.due_at for row in rows if row.due_at and row.due_at >= now), default=None)
    )
    return [
        list_item(row, status_label=_status_label(row.status), photos=photos[row.id], now=now)
        for row in rows
    ]


def find_public_complaint(complaint_id: uuid.UUID) -> Complaint | None:
    """A non-confidential report by id, or None."""
    return db.session.scalar(_public().where(Complaint.id == complaint_id))


def public_complaints(*, limit: int, offset: int = 0, **filters: Any) -> list[Complaint]:
    """At most `limit` non-confidential reports matching the feed's filters, newest first, after
    the first `offset`."""
    query = public_complaints_query(**filters).offset(offset).limit(limit)
    return list(db.session.scalars(query))


def public_complaints_by_tracking_numbers(tracking_numbers: Sequence[str]) -> list[Complaint]:
    """The non-confidential reports among these tracking numbers, newest first."""
    wanted = {number.strip().upper() for number in tracking_numbers if number.strip()}
    if not wanted:
        return []
    query = _public().where(Complaint.tracking_number.in_(wanted))
    return list(db.session.scalars(query.order_by(Complaint.created_at.desc(), Complaint.id)))


def public_photo_path(complaint: Complaint) -> str | None:
    """The public download path of a report's first photo, if it has one."""
    return photo_public_url(complaint.photos[0]) if complaint.photos else None


def get_public_complaint(complaint_id: uuid.UUID) -> Complaint:
    """A non-confidential report (404 otherwise)."""
    complaint = find_public_complaint(complaint_id)
    if complaint is None:
        raise not_found(gettext("Report not found."))
    return complaint


def nearby_query(
    *,
    lat: float,
    lon: float,
    radius_m: int = NEARBY_DEFAULT_RADIUS_M,
    category_id: uuid.UUID | None = None,
) -> sa.Select[Complaint]:
    """Open, non-confidential reports within `radius_m` of a point, nearest first."""
    box = geo.box_around(lat, lon, radius_m)
    # An equirectangular distance: exact enough over a few hundred meters, and plain arithmetic
    # that both databases evaluate in SQL, to sort by (the lat/lon index narrows first).
    dy = (Complaint.lat - lat) * geo.METERS_PER_DEGREE_LAT
    dx = (Complaint.lon - lon) * geo.meters_per_degree_lon(lat)
    squared = dx * dx + dy * dy
    query = _public().where(
        Complaint.status.in_(OPEN_STATUSES),
        Complaint.lat.between(box.min_lat, box.max_lat),
        Complaint.lon.between(box.min_lon, box.max_lon),
        squared <= radius_m * radius_m,
    )
    if category_id is not None:
        query = query.where(Complaint.category_id == category_id)
    return query.order_by(squared, Complaint.id)


def public_geojson(*, page: int, page_size: int, **filters: Any) -> tuple[dict[str, Any], int]:
    """A page of the public feed as an RFC 7946 FeatureCollection (points in [lon, lat]), and
    the total for the pagination header. Reports without coordinates are left out."""
    query = public_complaints_query(**filters).where(
        Complaint.lat.is_not(None), Complaint.lon.is_not(None)
    )
    total = count_rows(query, shared_for_seconds=public_count_seconds())
    # A map point shows no photo: do not load them (half the cost of a page of 500).
    page_query = query.options(raiseload(Complaint.photos))
    rows = db.session.scalars(page_query.offset((page - 1) * page_size).limit(page_size)).all()
    now = utcnow()
    public_cache.valid_until(
        min((c.due_at for c in rows if c.due_at is not None and c.due_at >= now), default=None)
    )
    features = [
        {
            "type": "Feature",
            "id": complaint.id,
            "geometry": {"type": "Point", "coordinates": [complaint.lon, complaint.lat]},
            # Only what a map shows: the full report is one request away.
            "properties": _summary_view(complaint),
        }
        for complaint in rows
    ]
    return {"type": "FeatureCollection", "features": features}, total


def read_public_photo(*, complaint_id: uuid.UUID, photo_id: uuid.UUID) -> tuple[bytes, str]:
    """A photo of a non-confidential report: (content, media type)."""
    complaint = get_public_complaint(complaint_id)
    return _read_photo(complaint, photo_id)
