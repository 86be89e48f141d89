"""Complaints, aspirations and information requests: submission, the public feed, the officers'
queue, the one transitions table at work, comments, photos and "saya juga" support.

Object-level rules live here: a resident sees only their own reports (anything else is 404), an
officer only their agency's, BCC operators all of them; an anonymous reporter's identity never
leaves towards the agency or the public, and public functions never carry any reporter identity.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, lazyload, raiseload, selectinload
from werkzeug.datastructures import FileStorage

from binjai_api import geo, uploads
from binjai_api.agencies import service as agencies_service
from binjai_api.area_alerts import service as area_alerts_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints import questions, reply_templates
from binjai_api.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintComment,
    ComplaintEvent,
    ComplaintPhoto,
    ComplaintReplyTemplate,
    ComplaintSupporter,
)
from binjai_api.complaints.states import (
    OPEN_STATUSES,
    REOPEN_WINDOW_DAYS,
    STATUSES,
    TRANSITIONS,
    VERIFICATION_WORKING_DAYS,
    Action,
    Actor,
    ComplaintType,
    Deadline,
    Privacy,
    Source,
    Status,
    is_open,
)
from binjai_api.config import API_V1_STR
from binjai_api.db import for_update, utcnow
from binjai_api.errors import Problem, conflict, field_errors, forbidden, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.numbering import next_in_series
from binjai_api.pagination import apply_sort, count_rows, public_count_seconds
from binjai_api.privacy import mask_email, mask_tail
from binjai_api.quality import service as quality_service
from binjai_api.regions import service as regions_service
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.workcalendar import service as workcalendar

MAX_PHOTOS = 5  # per report and purpose (the reporter's, the officer's resolution photos)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
NEARBY_DEFAULT_RADIUS_M = 200
TRACKING_PREFIX = "BJI"
PUBLIC_API = f"{API_V1_STR}/public/complaints"
PRIVATE_API = f"{API_V1_STR}/complaints"
# The timeline entry of a missed deadline reported by the command center (not a transition).
ESCALATE_ACTION = "escalate"


CATEGORY_SORTABLE = {
    "code": ComplaintCategory.code,
    "name": ComplaintCategory.name,
    "updated_at": ComplaintCategory.updated_at,
}
COMPLAINT_SORTABLE = {
    "created_at": Complaint.created_at,
    "updated_at": Complaint.updated_at,
    "due_at": Complaint.due_at,
}
PUBLIC_SORTABLE = {"created_at": Complaint.created_at, "updated_at": Complaint.updated_at}


# --- categories --------------------------------------------------------------------------------


def categories_query(
    *,
    include_inactive: bool = False,
    agency_id: uuid.UUID | None = None,
    updated_after: datetime | None = None,
    sort: str = "code",
) -> sa.Select[ComplaintCategory]:
    """The category catalog; the app syncs it with `updated_after`."""
    query = sa.select(ComplaintCategory)
    if not include_inactive:
        query = query.where(ComplaintCategory.is_active.is_(True))
    if agency_id is not None:
        query = query.where(ComplaintCategory.agency_id == agency_id)
    if updated_after is not None:
        query = query.where(ComplaintCategory.updated_at > updated_after)
    return apply_sort(query, sort, CATEGORY_SORTABLE, tiebreaker=ComplaintCategory.id)


def find_category(category_id: uuid.UUID, *, lock: bool = False) -> ComplaintCategory | None:
    """A category by id, or None; `lock`: held until the transaction ends (db.for_update)."""
    return db.session.get(
        ComplaintCategory,
        category_id,
        options=[joinedload(ComplaintCategory.agency)],
        **for_update(lock, ComplaintCategory),
    )


def get_category(category_id: uuid.UUID, *, lock: bool = False) -> ComplaintCategory:
    """A category by id (404 when unknown)."""
    category = find_category(category_id, lock=lock)
    if category is None:
        raise not_found(gettext("Category not found."))
    return category


def _check_category_code_free(code: str, exclude: uuid.UUID | None = None) -> None:
    query = sa.select(ComplaintCategory.id).where(ComplaintCategory.code == code)
    if exclude is not None:
        query = query.where(ComplaintCategory.id != exclude)
    if db.session.scalar(query) is not None:
        raise conflict("category_code_taken", gettext("A category with this code already exists."))


def create_category(
    *,
    code: str,
    name: str,
    name_en: str,
    description: str | None,
    agency_id: uuid.UUID,
    follow_up_days: int,
) -> ComplaintCategory:
    """Add a category to the catalog (and to Open311's service list)."""
    _check_category_code_free(code)
    _check_agency(agency_id)
    category = ComplaintCategory(
        code=code,
        name=name.strip(),
        name_en=name_en.strip(),
        description=description,
        agency_id=agency_id,
        follow_up_days=follow_up_days,
    )
    db.session.add(category)
    db.session.commit()
    return category


def update_category(*, category_id: uuid.UUID, changes: Mapping[str, Any]) -> ComplaintCategory:
    """Change a category. Reports already filed keep their agency and deadline; a new
    `follow_up_days` applies from the next dispatch or transfer."""
    category = get_category(category_id)
    if "code" in changes:
        _check_category_code_free(changes["code"], exclude=category.id)
    if "agency_id" in changes:
        _check_agency(changes["agency_id"])
    for field, value in changes.items():
        setattr(category, field, value)
    db.session.commit()
    return category


def active_categories() -> list[ComplaintCategory]:
    """The categories a report may be filed under, by code."""
    return list(db.session.scalars(categories_query()))


def find_category_by_code(code: str) -> ComplaintCategory | None:
    """A category by its code (as Open311's `service_code`), or None."""
    return db.session.scalar(sa.select(ComplaintCategory).where(ComplaintCategory.code == code))


def category_ids_by_codes(codes: Sequence[str]) -> list[uuid.UUID]:
    """The ids of the categories with these codes (unknown codes are skipped), in one query."""
    return list(
        db.session.scalars(sa.select(ComplaintCategory.id).where(ComplaintCategory.code.in_(codes)))
    )


def seed_categories() -> int:
    """Load the demo categories (seed/complaint_categories.json); returns how many were added."""
    text = resources.files("binjai_api").joinpath("seed/complaint_categories.json").read_text()
    agencies = {
        agency.code: agency.id
        for agency in db.session.scalars(agencies_service.agencies_query(include_inactive=True))
    }
    added = 0
    for entry in json.loads(text)["categories"]:
        exists = db.session.scalar(
            sa.select(ComplaintCategory).where(ComplaintCategory.code == entry["code"])
        )
        if exists is not None:
            if exists.is_demo and not exists.questions and entry.get("questions"):
                exists.questions = entry["questions"]  # demo forms, added after the category
                exists.notice, exists.notice_en = entry.get("notice"), entry.get("notice_en")
            continue
        agency_id = agencies.get(entry["agency_code"])
        if agency_id is None:
            continue
        db.session.add(
            ComplaintCategory(
                code=entry["code"],
                name=entry["name"],
                name_en=entry["name_en"],
                description=entry.get("description"),
                agency_id=agency_id,
                follow_up_days=entry.get("follow_up_days", 5),
                questions=entry.get("questions", []),
                notice=entry.get("notice"),
                notice_en=entry.get("notice_en"),
                is_demo=True,
            )
        )
        added += 1
    db.session.commit()
    return added


# --- submission --------------------------------------------------------------------------------


def area_bbox() -> tuple[float, float, float, float]:
    """The box a location must fall in to be inside Binjai: (min_lon, min_lat, max_lon, max_lat)."""
    raw = str(current_app.config["COMPLAINT_AREA_BBOX"])
    min_lon, min_lat, max_lon, max_lat = (float(part) for part in raw.split(","))
    return min_lon, min_lat, max_lon, max_lat


def _next_tracking_number(now: datetime) -> str:
    """The next number of the (local) year, e.g. BJI-2026-000123."""
    year = workcalendar.local_date(now).year
    return f"{TRACKING_PREFIX}-{year}-{next_in_series(f'complaint:{year}'):06d}"


def _clean(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


def _check_submission(
    *,
    type: str,
    privacy: str,
    source: str,
    category: ComplaintCategory | None,
    title: str,
    description: str,
    lat: float | None,
    lon: float | None,
    address: str | None,
    kelurahan_code: str | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if type not in set(ComplaintType):
        errors["type"] = [gettext("Unknown report type.")]
    if privacy not in set(Privacy):
        errors["privacy"] = [gettext("Unknown privacy level.")]
    if source not in set(Source):
        errors["source"] = [gettext("Unknown source.")]
    if category is None or not category.is_active:
        errors["category_id"] = [gettext("Unknown category.")]
    if not title.strip() or len(title) > 150:
        errors["title"] = [gettext("Give a title of 1 to 150 characters.")]
    if not description.strip() or len(description) > 4000:
        errors["description"] = [gettext("Give a description of 1 to 4,000 characters.")]
    if (lat is None) != (lon is None):
        errors["lat" if lat is None else "lon"] = [gettext("Give both lat and lon.")]
    elif lat is not None and lon is not None:
        min_lon, min_lat, max_lon, max_lat = area_bbox()
        if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
            errors["lat"] = [gettext("The location is outside Kota Binjai.")]
    elif not (address and address.strip()):
        errors["address"] = [gettext("Give the location on the map (lat/lon) or an address.")]
    if kelurahan_code is not None and regions_service.find_kelurahan(kelurahan_code) is None:
        errors["kelurahan_code"] = [gettext("Unknown kelurahan code.")]
    return errors


def submit_complaint(
    *,
    reporter_id: uuid.UUID | None,
    api_client_id: uuid.UUID | None = None,
    source: str = "app",
    contact: Mapping[str, str | None] | None = None,
    type: str,
    category_id: uuid.UUID,
    title: str,
    description: str,
    lat: float | None,
    lon: float | None,
    address: str | None,
    kelurahan_code: str | None,
    privacy: str,
    answers: Mapping[str, Any] | None = None,
    channel: str | None = None,
    filed_by_id: uuid.UUID | None = None,
    filed_by_role: str | None = None,
) -> Complaint:
    """File a report: a tracking number, status `submitted`, the verification deadline.
    `filed_by_*`: the staff member filing it on the resident's behalf (complaints/intake.py)."""
    category = find_category(category_id)
    # The category's stop and questions first: an emergency message beats every other error.
    stored_answers, answer_errors = (
        questions.check_answers(category, answers) if category is not None else (None, {})
    )
    errors = _check_submission(
        type=type,
        privacy=privacy,
        source=source,
        category=category,
        title=title,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        kelurahan_code=kelurahan_code,
    )
    errors.update(answer_errors)
    if errors:
        raise field_errors(errors)
    assert category is not None
    kelurahan = regions_service.find_kelurahan(kelurahan_code) if kelurahan_code else None
    contact = contact or {}
    now = utcnow()
    complaint = Complaint(
        tracking_number=_next_tracking_number(now),
        # Its category, agency and (no) photos as already loaded: the answer reads them.
        category=category,
        agency=category.agency,
        photos=[],
        type=type,
        category_id=category.id,
        agency_id=category.agency_id,
        title=title.strip(),
        description=description.strip(),
        lat=lat,
        lon=lon,
        address=_clean(address, 300),
        kelurahan_code=kelurahan.code if kelurahan else None,
        kecamatan_code=kelurahan.kecamatan_code if kelurahan else None,
        privacy=privacy,
        status=Status.SUBMITTED,
        source=source,
        channel=channel or source,
        answers=stored_answers,
        reporter_id=reporter_id,
        api_client_id=api_client_id,
        contact_name=_clean(contact.get("name"), 120),
        contact_email=_clean(contact.get("email"), 254),
        contact_phone=_clean(contact.get("phone"), 20),
        due_at=workcalendar.add_working_days(now, VERIFICATION_WORKING_DAYS),
        created_at=now,
        updated_at=now,
    )
    if privacy == Privacy.ANONYMOUS and reporter_id is not None:
        # The trail records the reporter's submission under a keyed pseudonym, never the account.
        audit_service.act_pseudonymously(reporter_id)
    db.session.add(complaint)
    db.session.flush()
    db.session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action="submit",
            from_status=None,
            to_status=Status.SUBMITTED,
            actor_id=filed_by_id or reporter_id,
            actor_role=filed_by_role or Actor.REPORTER,
            to_agency_id=category.agency_id,
            created_at=now,
        )
    )
    if reporter_id is not None:
        notifications_service.notify(
            recipients=[reporter_id],
            kind=kinds.COMPLAINT_RECEIVED,
            params=_notification_params(complaint),
            link=notifications_service.Link("complaints", str(complaint.id)),
        )
    webhooks_service.emit(WebhookEventType.COMPLAINT_CREATED, complaint)
    area_alerts_service.record_report_event(
        complaint_id=complaint.id, event="filed", public=complaint.privacy != Privacy.CONFIDENTIAL
    )
    db.session.commit()
    return complaint


# --- who may see and do what -------------------------------------------------------------------


def _is_operator(principal: Principal) -> bool:
    return principal.is_user and principal.role in (Role.OPERATOR, Role.ADMIN)


def _actor(principal: Principal, complaint: Complaint) -> str | None:
    """The role the caller plays on this report, or None when it is none of theirs."""
    if not principal.is_user:
        return None
    if _is_operator(principal):
        return Actor.OPERATOR
    if principal.role == Role.OFFICER and principal.agency_id == complaint.agency_id:
        return Actor.OFFICER
    if complaint.reporter_id is not None and complaint.reporter_id == principal.id:
        return Actor.REPORTER
    return None


def _is_staff(actor: str | None) -> bool:
    return actor in (Actor.OPERATOR, Actor.OFFICER)


def _load(complaint_id: uuid.UUID, *, lock: bool = False) -> Complaint | None:
    query = sa.select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update(of=Complaint)
    return db.session.scalar(query)


def _get_for(principal: Principal, complaint_id: uuid.UUID, *, lock: bool = False) -> Complaint:
    """The report if the caller may see it; 404 otherwise (its existence is private)."""
    complaint = _load(complaint_id, lock=lock)
    actor = _actor(principal, complaint) if complaint is not None else None
    if complaint is None or actor is None:
        raise not_found(gettext("Report not found."))
    if actor == Actor.REPORTER and complaint.privacy == Privacy.ANONYMOUS:
        # Their later actions on it too: the trail keeps their anonymity (audit.pseudonyms).
        audit_service.act_pseudonymously(principal.id)
    return complaint


def get_complaint(*, principal: Principal, complaint_id: uuid.UUID) -> Complaint:
    """A report its reporter, its agency's officers or an operator may read."""
    return _get_for(principal, complaint_id)


def my_complaints_query(
    *,
    user_id: uuid.UUID,
    statuses: Sequence[str] | None = None,
    updated_after: datetime | None = None,
    sort: str = "-created_at",
) -> sa.Select[Complaint]:
    """The caller's own reports, for the app's offline sync."""
    query = sa.select(Complaint).where(Complaint.reporter_id == user_id)
    if statuses:
        query = query.where(Complaint.status.in_(statuses))
    if updated_after is not None:
        query = query.where(Complaint.updated_at > updated_after)
    return apply_sort(query, sort, COMPLAINT_SORTABLE, tiebreaker=Complaint.id)


def queue_query(
    *,
    principal: Principal,
    statuses: Sequence[str] | None = None,
    overdue: bool | None = None,
    category_id: uuid.UUID | None = None,
    agency_id: uuid.UUID | None = None,
    kecamatan_code: str | None = None,
    assigned_to_me: bool | None = None,
    updated_after: datetime | None = None,
    sort: str = "due_at",
) -> sa.Select[Complaint]:
    """The work queue: an officer's agency's reports, or every agency's for operators."""
    query = sa.select(Complaint)
    if _is_operator(principal):
        if agency_id is not None:
            query = query.where(Complaint.agency_id == agency_id)
    elif principal.role == Role.OFFICER and principal.agency_id is not None:
        query = query.where(Complaint.agency_id == principal.agency_id)
    else:
        raise forbidden()
    if statuses:
        query = query.where(Complaint.status.in_(statuses))
    now = utcnow()
    if overdue is True:
        query = query.where(Complaint.due_at.is_not(None), Complaint.due_at < now)
    elif overdue is False:
        query = query.where(sa.or_(Complaint.due_at.is_(None), Complaint.due_at >= now))
    if category_id is not None:
        query = query.where(Complaint.category_id == category_id)
    if kecamatan_code is not None:
        query = query.where(Complaint.kecamatan_code == kecamatan_code)
    if assigned_to_me is True:
        query = query.where(Complaint.assignee_id == principal.id)
    elif assigned_to_me is False:
        query = query.where(
            sa.or_(Complaint.assignee_id.is_(None), Complaint.assignee_id != principal.id)
        )
    if updated_after is not None:
        query = query.where(Complaint.updated_at > updated_after)
    if sort.lstrip("-") == "due_at":
        # Deadlines first; reports with none (closed) last, on both databases alike.
        due = Complaint.due_at.desc() if sort.startswith("-") else Complaint.due_at.asc()
        return query.order_by(due.nulls_last(), Complaint.id)
    return apply_sort(query, sort, COMPLAINT_SORTABLE, tiebreaker=Complaint.id)


# --- the public face ---------------------------------------------------------------------------


# What a page of the feed shows beside each report, in two statements whatever the page size:
# its category and agency joined to the page, its photos in one more (not the category's agency).
_PUBLIC_VIEW_LOADS = (
    joinedload(Complaint.category).options(lazyload(ComplaintCategory.agency)),
    joinedload(Complaint.agency),
    selectinload(Complaint.photos),
)


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


def public_feed_query(**filters: Any) -> sa.Select[Complaint]:
    """The public feed's page query: `public_complaints_query` with what each item shows."""
    return public_complaints_query(**filters).options(*_PUBLIC_VIEW_LOADS)


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


def photo_public_url(photo: ComplaintPhoto) -> str:
    """The public download path of a photo of a non-confidential report."""
    return f"{PUBLIC_API}/{photo.complaint_id}/photos/{photo.id}"


def photo_private_url(photo: ComplaintPhoto) -> str:
    return f"{PRIVATE_API}/{photo.complaint_id}/photos/{photo.id}"


def read_public_photo(*, complaint_id: uuid.UUID, photo_id: uuid.UUID) -> tuple[bytes, str]:
    """A photo of a non-confidential report: (content, media type)."""
    complaint = get_public_complaint(complaint_id)
    return _read_photo(complaint, photo_id)


# --- views shaped for each reader --------------------------------------------------------------


def _summary_view(complaint: Complaint) -> dict[str, Any]:
    """What every reader gets, the map included: a report in one line."""
    return {
        "id": complaint.id,
        "tracking_number": complaint.tracking_number,
        "type": complaint.type,
        "category_code": complaint.category.code,
        "agency_code": complaint.agency.code,
        "title": complaint.title,
        "kecamatan_code": complaint.kecamatan_code,
        "status": complaint.status,
        "is_open": is_open(complaint.status),
        "is_overdue": complaint.due_at is not None and complaint.due_at < utcnow(),
        "supporter_count": complaint.supporter_count,
        "created_at": complaint.created_at,
        "updated_at": complaint.updated_at,
    }


def _base_view(complaint: Complaint, *, public: bool) -> dict[str, Any]:
    return {
        **_summary_view(complaint),
        "category_id": complaint.category_id,
        "category_name": complaint.category.name,
        "agency_id": complaint.agency_id,
        "agency_name": complaint.agency.name,
        "description": complaint.description,
        "lat": complaint.lat,
        "lon": complaint.lon,
        "address": complaint.address,
        "kelurahan_code": complaint.kelurahan_code,
        "status_label": str(STATUSES[complaint.status].label),
        "due_at": complaint.due_at,
        "duplicate_of_id": complaint.duplicate_of_id,
        "resolution_note": complaint.resolution_note,
        "resolved_at": complaint.resolved_at,
        "photos": [photo_view(photo, public=public) for photo in complaint.photos],
    }


def public_view(complaint: Complaint) -> dict[str, Any]:
    """What anyone may see of a non-confidential report: no reporter, no contact details."""
    return _base_view(complaint, public=True)


def public_detail_view(complaint: Complaint) -> dict[str, Any]:
    """A public report with its steps: what happened when, never who or why."""
    view = public_view(complaint)
    view["answers"] = questions.answers_view(complaint.answers, staff=False)
    view["history"] = [
        {
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "created_at": event.created_at,
        }
        for event in _events(complaint.id)
    ]
    return view


def list_view(complaint: Complaint, principal: Principal) -> dict[str, Any]:
    """A row of the resident's list or the officers' queue (no identities)."""
    view = _base_view(complaint, public=False)
    view["privacy"] = complaint.privacy
    view["assignee_id"] = complaint.assignee_id if principal.role != Role.CITIZEN else None
    return view


def detail_view(complaint: Complaint, principal: Principal) -> dict[str, Any]:
    """The full report with its timeline, shaped for the caller: the reporter's identity only to
    staff and never when the report is anonymous."""
    actor = _actor(principal, complaint)
    staff = _is_staff(actor)
    hide_reporter = complaint.privacy == Privacy.ANONYMOUS and actor != Actor.REPORTER
    view = list_view(complaint, principal)
    # Staff see phone numbers and emails masked: they reveal them with a reason when they need
    # to call back (reveal_contact), and the trail records it.
    reporter = _reporter_details(complaint) if staff and not hide_reporter else None
    show_contact = not hide_reporter and (staff or actor == Actor.REPORTER)
    contact = _contact_details(complaint) if show_contact else None
    view["reporter"] = _masked(reporter)
    view["contact"] = _masked(contact) if staff else contact
    view["contact_masked"] = staff and (reporter is not None or contact is not None)
    if staff and (reporter is not None or contact is not None):
        shown = (["reporter.full_name"] if reporter is not None else []) + (
            ["contact_name"] if contact is not None else []
        )
        audit_service.record_access(
            object_type=Complaint.__tablename__, object_ids=[complaint.id], fields=shown
        )
    view["source"] = complaint.source
    view["channel"] = complaint.channel
    # Private answers: the staff's and their author's, never the public's.
    view["answers"] = questions.answers_view(
        complaint.answers, staff=staff or actor == Actor.REPORTER
    )
    view["rating"] = complaint.rating
    view["rating_feedback"] = complaint.rating_feedback
    view["reopen_until"] = (
        complaint.resolved_at + timedelta(days=REOPEN_WINDOW_DAYS)
        if complaint.status == Status.RESOLVED and complaint.resolved_at
        else None
    )
    view["history"] = [
        {
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "actor_role": event.actor_role,
            # Who acted: staff only, and never the anonymous reporter.
            "actor_id": (
                event.actor_id
                if staff and not (hide_reporter and event.actor_role == Actor.REPORTER)
                else None
            ),
            "from_agency_id": event.from_agency_id,
            "to_agency_id": event.to_agency_id,
            "note": event.note,
            "created_at": event.created_at,
        }
        for event in _events(complaint.id)
    ]
    return view


def _reporter_details(complaint: Complaint) -> dict[str, Any] | None:
    if complaint.reporter_id is None:
        return None
    user = auth_service.get_user(complaint.reporter_id)
    return {"id": user.id, "full_name": user.full_name, "phone": user.phone, "email": user.email}


def _contact_details(complaint: Complaint) -> dict[str, Any] | None:
    """The contact an integrator passed on with the report, if any."""
    if not (complaint.contact_name or complaint.contact_email or complaint.contact_phone):
        return None
    return {
        "name": complaint.contact_name,
        "email": complaint.contact_email,
        "phone": complaint.contact_phone,
    }


def _masked(details: dict[str, Any] | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {
        **details,
        "phone": mask_tail(details["phone"]),
        "email": mask_email(details["email"]),
    }


def reveal_contact(*, principal: Principal, complaint_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """Show the reporter's phone and email unmasked to the officer handling the report or an
    operator, recording who, when and why in the audit trail (UU 27/2022: need to know)."""
    complaint = _get_for(principal, complaint_id)
    actor = _actor(principal, complaint)
    if actor == Actor.OFFICER and complaint.assignee_id != principal.id:
        raise Problem(
            403,
            "not_handling_officer",
            gettext("Only the officer handling this report, or an operator, may see the contact."),
        )
    if actor not in (Actor.OPERATOR, Actor.OFFICER):
        raise forbidden(gettext("Only staff reveal a reporter's contact details."))
    if complaint.privacy == Privacy.ANONYMOUS:
        raise Problem(
            403,
            "anonymous_report",
            gettext("The reporter chose to stay anonymous: their contact is never revealed."),
        )
    reporter, contact = _reporter_details(complaint), _contact_details(complaint)
    fields = (
        ["reporter.full_name", "reporter.phone", "reporter.email"] if reporter is not None else []
    ) + (["contact_name", "contact_email", "contact_phone"] if contact is not None else [])
    revealed_at = utcnow()
    audit_service.record_access(
        object_type=Complaint.__tablename__,
        object_ids=[complaint.id],
        fields=fields,
        action=audit_service.REVEAL_ACTION,
        reason=reason.strip(),
    )
    return {
        "complaint_id": complaint.id,
        "reporter": reporter,
        "contact": contact,
        "reason": reason.strip(),
        "revealed_at": revealed_at,
    }


def _events(complaint_id: uuid.UUID) -> Sequence[ComplaintEvent]:
    return db.session.scalars(
        sa.select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(ComplaintEvent.created_at)
    ).all()


# --- transitions -------------------------------------------------------------------------------


def _agency_name(agency: Any, language: str) -> str:
    if agency is None:
        return ""
    return agency.name_en if language == "en" else agency.name


def _notification_params(complaint: Complaint, **extra: str) -> dict[str, str]:
    agency = agencies_service.find_agency(complaint.agency_id)
    return {
        "tracking_number": complaint.tracking_number,
        "title": complaint.title[:80],
        # The agency's name in each reader's language.
        **in_each_language("agency", lambda language: _agency_name(agency, language)),
        **extra,
    }


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


# --- "is it fixed?" (asked by quality/fix_checks.py) --------------------------------------------


@dataclass(frozen=True)
class ResolvedReport:
    id: uuid.UUID
    resolved_at: datetime
    agency_id: uuid.UUID | None


def resolved_reports(*, resolved_from: datetime, resolved_before: datetime) -> list[ResolvedReport]:
    """Reports still resolved (neither closed nor reopened since) whose resolution fell in
    [resolved_from, resolved_before)."""
    rows = db.session.execute(
        sa.select(Complaint.id, Complaint.resolved_at, Complaint.agency_id)
        .where(
            Complaint.status == Status.RESOLVED,
            Complaint.resolved_at >= resolved_from,
            Complaint.resolved_at < resolved_before,
        )
        .order_by(Complaint.resolved_at, Complaint.id)
    )
    return [ResolvedReport(row.id, row.resolved_at, row.agency_id) for row in rows]


def is_follower(*, complaint_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the account is the report's reporter or one of its supporters."""
    complaint = _load(complaint_id)
    return complaint is not None and user_id in _followers(complaint)


def ask_if_fixed(*, complaint_id: uuid.UUID, answer_until: datetime) -> int:
    """Ask the reporter and the supporters whether the resolved problem is really fixed, in the
    caller's transaction. Returns how many were asked."""
    complaint = _load(complaint_id)
    if complaint is None or complaint.resolved_at is None:
        return 0
    recipients = _followers(complaint)
    if not recipients:
        return 0
    resolved_on, last_day = workcalendar.local_date(complaint.resolved_at), workcalendar.local_date(
        answer_until
    )
    notifications_service.notify(
        recipients=recipients,
        kind=kinds.COMPLAINT_FIX_CHECK,
        params={
            **_notification_params(complaint),
            **in_each_language("resolved_on", lambda language: long_date(resolved_on, language)),
            **in_each_language("until", lambda language: long_date(last_day, language)),
        },
        link=notifications_service.Link("complaints", str(complaint.id)),
    )
    return len(recipients)


def settle_fix_check(
    *,
    complaint_id: uuid.UUID,
    resolved_at: datetime,
    user_id: uuid.UUID,
    fixed: bool,
    reason: str | None,
) -> Complaint:
    """The answer to "is it fixed?", in the caller's transaction: "yes" closes the report, "no"
    reopens it with the reason, like the reporter's own reopening (a new follow-up deadline, the
    agency told), past the 7-day window: the question opens its own. Refused (409) when the
    report has moved on since the question (closed, rated or reopened meanwhile)."""
    complaint = _load(complaint_id, lock=True)
    if (
        complaint is None
        or complaint.status != Status.RESOLVED
        or complaint.resolved_at != resolved_at
    ):
        raise conflict(
            "invalid_transition",
            gettext("This report is no longer waiting for an answer to “is it fixed?”."),
        )
    now = utcnow()
    recipients = _followers(complaint)
    from_status, due = complaint.status, complaint.due_at
    note = None if fixed else _clean(reason, 2000)
    rule = TRANSITIONS[Action.CLOSE if fixed else Action.REOPEN]
    if fixed:
        complaint.status, complaint.closed_at, complaint.due_at = Status.CLOSED, now, None
        _invite_to_survey(complaint, now)
    else:
        complaint.status, complaint.resolved_at = Status.REOPENED, None
        complaint.due_at = workcalendar.add_working_days(now, complaint.category.follow_up_days)
    complaint.updated_at = now
    db.session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action=rule.action,
            from_status=from_status,
            to_status=complaint.status,
            actor_id=user_id,
            actor_role=Actor.REPORTER if user_id == complaint.reporter_id else "supporter",
            from_agency_id=complaint.agency_id,
            to_agency_id=complaint.agency_id,
            note=note,
            due_at=due,
            created_at=now,
        )
    )
    assert rule.notify_kind is not None
    _notify(complaint, rule.notify_kind, note=note, exclude=user_id, recipients=recipients)
    _publish_status_change(complaint, from_status)
    return complaint


def _check_agency(agency_id: uuid.UUID) -> None:
    """A category or a report goes only to an agency that exists and is active (422 otherwise)."""
    agency = agencies_service.find_agency(agency_id)
    if agency is None or not agency.is_active:
        raise field_errors({"agency_id": [gettext("No active agency with this id.")]})


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


# --- support ("saya juga") ---------------------------------------------------------------------


def support_complaint(*, principal: Principal, complaint_id: uuid.UUID) -> tuple[Complaint, bool]:
    """Say "saya juga" (me too) on an open public report; returns (report, newly supported)."""
    complaint = find_public_complaint(complaint_id)
    if complaint is None:
        raise not_found(gettext("Report not found."))
    if complaint.reporter_id == principal.id:
        raise conflict("own_report", gettext("You cannot support your own report."))
    if not is_open(complaint.status):
        raise conflict("report_closed", gettext("Only open reports can be supported."))
    added = _add_supporter(complaint, principal.id)
    db.session.commit()
    return complaint, added


def withdraw_support(*, principal: Principal, complaint_id: uuid.UUID) -> None:
    """Take back a "saya juga"."""
    row = db.session.get(ComplaintSupporter, (complaint_id, principal.id))
    if row is None:
        raise not_found(gettext("You do not support this report."))
    db.session.delete(row)
    _count_supporters(complaint_id, -1)
    db.session.commit()


# --- comments ----------------------------------------------------------------------------------


def comments_query(
    *, principal: Principal, complaint_id: uuid.UUID, updated_after: datetime | None = None
) -> sa.Select[ComplaintComment]:
    """A report's thread, oldest first; internal notes only for staff."""
    complaint = _get_for(principal, complaint_id)
    query = sa.select(ComplaintComment).where(ComplaintComment.complaint_id == complaint.id)
    if not _is_staff(_actor(principal, complaint)):
        query = query.where(ComplaintComment.is_internal.is_(False))
    if updated_after is not None:
        query = query.where(ComplaintComment.updated_at > updated_after)
    return query.order_by(ComplaintComment.created_at, ComplaintComment.id)


def add_comment(
    *,
    principal: Principal,
    complaint_id: uuid.UUID,
    body: str | None = None,
    internal: bool = False,
    template_id: uuid.UUID | None = None,
    template_overrides: Mapping[str, str] | None = None,
) -> ComplaintComment:
    """Post to a report's thread: the reporter and staff publicly, staff also internal notes.
    Staff may answer with a reply template (`template_id`); a `body` beside it follows the
    template's text."""
    complaint = _get_for(principal, complaint_id, lock=True)
    actor = _actor(principal, complaint)
    assert actor is not None
    if internal and not _is_staff(actor):
        raise forbidden(gettext("Only staff write internal notes."))
    body = (body or "").strip()
    reply = None
    if template_id is not None:
        template = _reply_template(
            reply_templates.COMMENT_ACTION,
            complaint,
            actor,
            template_id,
            template_overrides,
            automatic=False,
        )
        assert template is not None
        reply = _render_reply(template, complaint, principal, actor, template_overrides, body)
        body = reply.text
    if not body:
        raise field_errors({"body": [gettext("Write a message.")]})
    now = utcnow()
    comment = ComplaintComment(
        complaint_id=complaint.id,
        author_id=principal.id,
        author_role=actor,
        body=body,
        is_internal=internal,
        created_at=now,
        updated_at=now,
    )
    db.session.add(comment)
    if not internal:
        complaint.updated_at = now  # the reporter's app syncs the thread with the report
        if _is_staff(actor) and complaint.reporter_id is not None:
            notifications_service.notify(
                recipients=[complaint.reporter_id],
                kind=kinds.COMPLAINT_RESPONSE if reply is None else kinds.COMPLAINT_REPLY,
                params=_notification_params(complaint, **(_reply_params(reply) or {})),
                link=notifications_service.Link("complaints", str(complaint.id)),
            )
    db.session.commit()
    return comment


def comment_view(comment: ComplaintComment, principal: Principal) -> dict[str, Any]:
    """A message of the thread; authors are shown by role only."""
    return {
        "id": comment.id,
        "body": comment.body,
        "is_internal": comment.is_internal,
        "author_role": comment.author_role,
        "is_mine": comment.author_id == principal.id,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


# --- photos ------------------------------------------------------------------------------------


def add_photo(
    *, principal: Principal, complaint_id: uuid.UUID, file: FileStorage | None
) -> ComplaintPhoto:
    """Attach a photo: the reporter's of the problem while the report is open, staff's of the
    fix while it is with the agency or just resolved. Nothing is stored when a check fails."""
    complaint = _get_for(principal, complaint_id, lock=True)
    actor = _actor(principal, complaint)
    if actor == Actor.REPORTER:
        purpose, allowed = "report", OPEN_STATUSES
    else:
        purpose = "resolution"
        allowed = (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED, Status.RESOLVED)
    if complaint.status not in allowed:
        raise conflict(
            "invalid_transition", gettext("Photos cannot be added to a report in this status.")
        )
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ComplaintPhoto)
        .where(ComplaintPhoto.complaint_id == complaint.id, ComplaintPhoto.purpose == purpose)
    )
    if (count or 0) >= MAX_PHOTOS:
        raise conflict(
            "photo_limit_reached",
            gettext("A report takes at most %(count)s photos.", count=MAX_PHOTOS),
        )
    checked = uploads.check_upload(file, accepted=uploads.IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)
    key = uploads.store(checked.content)
    try:
        photo = ComplaintPhoto(
            complaint_id=complaint.id,
            purpose=purpose,
            storage_key=key,
            media_type=checked.media_type,
            size_bytes=checked.size,
            sha256=checked.sha256,
            uploaded_by_id=principal.id,
        )
        db.session.add(photo)
        complaint.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        uploads.delete_stored(key)
        raise
    return photo


def photo_view(photo: ComplaintPhoto, *, public: bool = False) -> dict[str, Any]:
    """A photo's entry: its download path, public or for those who may see the report."""
    return {
        "id": photo.id,
        "purpose": photo.purpose,
        "media_type": photo.media_type,
        "url": photo_public_url(photo) if public else photo_private_url(photo),
        "created_at": photo.created_at,
    }


def read_photo(
    *, principal: Principal, complaint_id: uuid.UUID, photo_id: uuid.UUID
) -> tuple[bytes, str]:
    """A photo of a report the caller may see: (content, media type)."""
    return _read_photo(_get_for(principal, complaint_id), photo_id)


def _read_photo(complaint: Complaint, photo_id: uuid.UUID) -> tuple[bytes, str]:
    photo = db.session.get(ComplaintPhoto, photo_id)
    if photo is None or photo.complaint_id != complaint.id:
        raise not_found(gettext("Photo not found."))
    try:
        return uploads.read_stored(photo.storage_key), photo.media_type
    except FileNotFoundError:
        raise Problem(404, "not_found", gettext("Photo not found.")) from None
