"""Area alerts: following a kelurahan or kecamatan, and telling its followers of public reports
filed or resolved there.

A report's own transaction only writes an event row (record_report_event); the outbox worker's
periodic job fans it out (fan_out_pending): each follower gets an item, pushed at once through
notifications' `notify()` while under AREA_ALERTS_DAILY_LIMIT for the local day, otherwise held
for the next morning's digest (send_digests). Confidential reports are never recorded; anonymous
ones say only what the public feed shows (tracking number, category, title, area).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from binjai_api.area_alerts.models import AreaAlertEvent, AreaAlertItem, AreaSubscription
from binjai_api.db import utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar import service as workcalendar

MAX_AREAS_PER_RESIDENT = 20
MAX_CATEGORIES = 30
FAN_OUT_BATCH = 50
DIGEST_LISTED_REPORTS = 5
# One fan-out or digest run at a time across workers (PostgreSQL transaction advisory lock), so
# that the daily cap is counted by one writer; SQLite writes one transaction at a time anyway.
_JOB_LOCK_ID = 0x4152454141  # "AREAA"
EVENT_KINDS = {"filed": kinds.AREA_REPORT_FILED, "resolved": kinds.AREA_REPORT_RESOLVED}


# --- following areas ---------------------------------------------------------------------------


def subscriptions_query(*, user_id: uuid.UUID) -> sa.Select[AreaSubscription]:
    """The areas a resident follows, oldest first."""
    return (
        sa.select(AreaSubscription)
        .where(AreaSubscription.user_id == user_id)
        .order_by(AreaSubscription.created_at, AreaSubscription.id)
    )


def _check_area(area_type: str, area_code: str) -> None:
    finder = (
        regions_service.find_kelurahan
        if area_type == "kelurahan"
        else regions_service.find_kecamatan
    )
    if finder(area_code) is None:
        raise field_errors({"area_code": [gettext("No such area in Kota Binjai.")]})


def _check_categories(category_codes: Sequence[str]) -> list[str]:
    from binjai_api.complaints import service as complaints_service  # complaints calls us

    codes = sorted(set(category_codes))
    unknown = [code for code in codes if complaints_service.find_category_by_code(code) is None]
    if unknown:
        raise field_errors(
            {
                "category_codes": [
                    gettext("Unknown categories: %(codes)s.", codes=", ".join(unknown))
                ]
            }
        )
    return codes


def _serialise_account(user_id: uuid.UUID) -> None:
    """One follow at a time per account, so that two at once cannot pass the limit together."""
    # PostgreSQL: a transaction-level advisory lock keyed by the account (a different key space
    # from the job's); SQLite writes one transaction at a time anyway.
    if db.session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(user_id.bytes[:8], "big", signed=True)
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(1, key % 2_000_000_000)))


def follow_area(
    *, user_id: uuid.UUID, area_type: str, area_code: str, category_codes: Sequence[str] = ()
) -> AreaSubscription:
    """Follow a kelurahan or kecamatan (409 `already_following`, 409 `too_many_areas`)."""
    _check_area(area_type, area_code)
    codes = _check_categories(category_codes)
    _serialise_account(user_id)
    existing = db.session.scalars(subscriptions_query(user_id=user_id)).all()
    if any(s.area_type == area_type and s.area_code == area_code for s in existing):
        db.session.rollback()
        raise conflict("already_following", gettext("You already follow this area."))
    if len(existing) >= MAX_AREAS_PER_RESIDENT:
        db.session.rollback()
        raise conflict(
            "too_many_areas",
            gettext("You can follow at most %(max)s areas.", max=MAX_AREAS_PER_RESIDENT),
        )
    subscription = AreaSubscription(
        user_id=user_id, area_type=area_type, area_code=area_code, category_codes=codes
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


def unfollow_area(*, user_id: uuid.UUID, subscription_id: uuid.UUID) -> None:
    """Stop following an area; another resident's subscription is answered as not found."""
    subscription = db.session.get(AreaSubscription, subscription_id)
    if subscription is None or subscription.user_id != user_id:
        raise not_found(gettext("Area subscription not found."))
    db.session.delete(subscription)
    db.session.commit()


# --- events, in the report's transaction -------------------------------------------------------


# One Core INSERT (the row is not audited): no ORM flush of its own. Built once, so that its
# cache key is worked out once, not at every report.
_INSERT_EVENT = sa.insert(cast(sa.Table, AreaAlertEvent.__table__))


def report_event_row(
    *, complaint_id: uuid.UUID, event: str, public: bool, at: datetime
) -> dict[str, Any] | None:
    """The row queueing a report's event (filed or resolved) for its area's followers, or None:
    a confidential report is not in the public feed and tells nobody."""
    if not public:
        return None
    return {
        "id": uuid.uuid4(),
        "complaint_id": complaint_id,
        "event": event,
        "created_at": at,
        "fanned_out_at": None,
    }


def record_report_event(*, complaint_id: uuid.UUID, event: str, public: bool) -> None:
    """A report was filed or resolved: queue it for its area's followers, in the caller's
    transaction (report_event_row)."""
    row = report_event_row(complaint_id=complaint_id, event=event, public=public, at=utcnow())
    if row is not None:
        db.session.connection().execute(_INSERT_EVENT, row)


# --- the worker's job ----------------------------------------------------------------------------


@dataclass
class AreaAlertReport:
    events: int = 0
    pushed: int = 0
    held: int = 0
    digests: int = 0

    def summary(self) -> str:
        return (
            f"{self.events} reports fanned out, {self.pushed} alerts pushed, {self.held} held "
            f"for digests, {self.digests} digests sent"
        )


def _take_job_lock() -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    taken = db.session.scalar(
        sa.text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _JOB_LOCK_ID}
    )
    return bool(taken)


def run_area_alerts() -> AreaAlertReport:
    """One round of the worker's job: fan out the reports waiting, then yesterday's digests."""
    report = AreaAlertReport()
    fan_out_pending(report)
    send_digests(report)
    return report


def _followers(complaint: Any) -> list[uuid.UUID]:
    """Who follows the report's kelurahan or kecamatan, for its category; never its reporter."""
    areas = []
    if complaint.kelurahan_code:
        areas.append(
            sa.and_(
                AreaSubscription.area_type == "kelurahan",
                AreaSubscription.area_code == complaint.kelurahan_code,
            )
        )
    if complaint.kecamatan_code:
        areas.append(
            sa.and_(
                AreaSubscription.area_type == "kecamatan",
                AreaSubscription.area_code == complaint.kecamatan_code,
            )
        )
    if not areas:
        return []
    rows = db.session.execute(
        sa.select(AreaSubscription.user_id, AreaSubscription.category_codes).where(sa.or_(*areas))
    )
    category = complaint.category.code
    followers = {
        row.user_id for row in rows if not row.category_codes or category in row.category_codes
    }
    followers.discard(complaint.reporter_id)
    return sorted(followers)


def _area_name(complaint: Any) -> str:
    if complaint.kelurahan_code:
        kelurahan = regions_service.find_kelurahan(complaint.kelurahan_code)
        if kelurahan is not None:
            return kelurahan.name
    kecamatan = regions_service.find_kecamatan(complaint.kecamatan_code or "")
    return kecamatan.name if kecamatan is not None else "Kota Binjai"


def _pushed_today(user_ids: list[uuid.UUID], day: date) -> dict[uuid.UUID, int]:
    rows = db.session.execute(
        sa.select(AreaAlertItem.user_id, sa.func.count())
        .where(
            AreaAlertItem.user_id.in_(user_ids),
            AreaAlertItem.day == day,
            AreaAlertItem.immediate.is_(True),
        )
        .group_by(AreaAlertItem.user_id)
    )
    return {row[0]: int(row[1]) for row in rows}


def _fan_out_one(event: AreaAlertEvent, report: AreaAlertReport) -> None:
    from binjai_api.complaints import service as complaints_service  # complaints calls us

    now = utcnow()
    event.fanned_out_at = now
    complaint = complaints_service.find_public_complaint(event.complaint_id)
    if complaint is None:  # made confidential since, or gone
        return
    followers = _followers(complaint)
    if not followers:
        return
    day = workcalendar.local_date(now)
    limit = current_app.config["AREA_ALERTS_DAILY_LIMIT"]
    already = set(
        db.session.scalars(
            sa.select(AreaAlertItem.user_id).where(
                AreaAlertItem.user_id.in_(followers),
                AreaAlertItem.complaint_id == complaint.id,
                AreaAlertItem.event == event.event,
            )
        )
    )
    pushed = _pushed_today(followers, day)
    immediate = [u for u in followers if u not in already and pushed.get(u, 0) < limit]
    held = [u for u in followers if u not in already and pushed.get(u, 0) >= limit]
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "complaint_id": complaint.id,
            "event": event.event,
            "day": day,
            "immediate": user_id in immediate,
            "digested_at": None,
            "created_at": now,
        }
        for user_id in immediate + held
    ]
    if rows:
        db.session.execute(sa.insert(cast(sa.Table, AreaAlertItem.__table__)), rows)
    if immediate:
        category = complaint.category
        notifications_service.notify(
            recipients=immediate,
            kind=EVENT_KINDS[event.event],
            params={
                "area": _area_name(complaint),
                "tracking_number": complaint.tracking_number,
                "title": complaint.title,
                "category": category.name,
                "category@id": category.name,
                "category@en": category.name_en or category.name,
            },
            link=notifications_service.Link("complaints", str(complaint.id)),
        )
    report.pushed += len(immediate)
    report.held += len(held)


def fan_out_pending(report: AreaAlertReport | None = None) -> AreaAlertReport:
    """Tell the followers of each report event waiting, a batch at a time, each event in its
    own transaction (a crash repeats at most the event it was on, and its unique items keep
    anyone from hearing it twice)."""
    report = report or AreaAlertReport()
    while True:
        if not _take_job_lock():
            db.session.rollback()
            return report
        event = db.session.scalars(
            sa.select(AreaAlertEvent)
            .where(AreaAlertEvent.fanned_out_at.is_(None))
            .order_by(AreaAlertEvent.created_at, AreaAlertEvent.id)
            .limit(1)
        ).first()
        if event is None:
            db.session.rollback()
            return report
        _fan_out_one(event, report)
        db.session.commit()
        report.events += 1


def send_digests(report: AreaAlertReport | None = None) -> AreaAlertReport:
    """One digest per follower with what the daily cap held back on earlier days."""
    from binjai_api.complaints import service as complaints_service  # complaints calls us

    report = report or AreaAlertReport()
    if not _take_job_lock():
        db.session.rollback()
        return report
    today = workcalendar.local_date(utcnow())
    items = db.session.scalars(
        sa.select(AreaAlertItem)
        .where(
            AreaAlertItem.immediate.is_(False),
            AreaAlertItem.digested_at.is_(None),
            AreaAlertItem.day < today,
        )
        .order_by(AreaAlertItem.user_id, AreaAlertItem.created_at, AreaAlertItem.id)
    ).all()
    by_user: dict[uuid.UUID, list[AreaAlertItem]] = defaultdict(list)
    for item in items:
        by_user[item.user_id].append(item)
    now = utcnow()
    complaints = {
        complaint.id: complaint
        for complaint_id in {i.complaint_id for i in items}
        if (complaint := complaints_service.find_public_complaint(complaint_id)) is not None
    }
    for user_id, held in by_user.items():
        day = held[0].day
        for item in held:
            item.digested_at = now
        public = [i for i in held if i.complaint_id in complaints]
        if not public:
            continue
        listed = [complaints[i.complaint_id].tracking_number for i in public]
        areas = sorted({_area_name(complaints[i.complaint_id]) for i in public})
        notifications_service.notify(
            recipients=[user_id],
            kind=kinds.AREA_DIGEST,
            params={
                "day": long_date(day),
                **in_each_language("day", partial(long_date, day)),
                "filed": str(sum(1 for i in public if i.event == "filed")),
                "resolved": str(sum(1 for i in public if i.event == "resolved")),
                "areas": ", ".join(areas),
                "reports": ", ".join(dict.fromkeys(listed[:DIGEST_LISTED_REPORTS]))
                + (" …" if len(set(listed)) > DIGEST_LISTED_REPORTS else ""),
            },
        )
        report.digests += 1
    db.session.commit()
    return report
