"""Complaints: a resident's report as it arrives: checks, tracking number, photos, duplicates."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from binjai_api import direct_sql
from binjai_api.agencies.models import Agency
from binjai_api.area_alerts import service as area_alerts_service
from binjai_api.area_alerts.models import AreaAlertEvent
from binjai_api.audit import capture as audit_capture
from binjai_api.audit import service as audit_service
from binjai_api.complaints import questions
from binjai_api.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
)
from binjai_api.complaints.service._common import TRACKING_PREFIX, _clean, _notification_params
from binjai_api.complaints.service.views import remember_events
from binjai_api.complaints.states import (
    VERIFICATION_WORKING_DAYS,
    Actor,
    ComplaintType,
    Privacy,
    Source,
    Status,
)
from binjai_api.db import utcnow
from binjai_api.errors import field_errors
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.numbering import next_in_series_with
from binjai_api.ops import figures as ops_figures
from binjai_api.regions import service as regions_service
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.workcalendar import service as workcalendar

# --- submission --------------------------------------------------------------------------------


def area_bbox() -> tuple[float, float, float, float]:
    """The box a location must fall in to be inside Binjai: (min_lon, min_lat, max_lon, max_lat)."""
    raw = str(current_app.config["COMPLAINT_AREA_BBOX"])
    min_lon, min_lat, max_lon, max_lat = (float(part) for part in raw.split(","))
    return min_lon, min_lat, max_lon, max_lat


# The report's category with its agency (categories.find_category without building the query
# and its options at each submission).
_CATEGORY = (
    sa.select(ComplaintCategory)
    .options(joinedload(ComplaintCategory.agency))
    .where(ComplaintCategory.id == sa.bindparam("category_id", type_=sa.Uuid()))
)

# The local days off a verification deadline depends on, read beside the tracking number.
_DAYS_OFF = workcalendar.local_days_off_text(
    sa.bindparam("days_off_from", type_=sa.Date()), sa.bindparam("days_off_to", type_=sa.Date())
)


_EVENTS_TABLE = cast(sa.Table, ComplaintEvent.__table__)
# Built once: their cache keys are worked out once, not at every submission.
_INSERT_EVENT = sa.insert(_EVENTS_TABLE)
_COMPLAINTS_TABLE = cast(sa.Table, Complaint.__table__)
_INSERT_COMPLAINT = sa.insert(_COMPLAINTS_TABLE)
_ALERTS_TABLE = cast(sa.Table, AreaAlertEvent.__table__)
_INSERT_ALERT = sa.insert(_ALERTS_TABLE)


@functools.cache
def _insert_with_entries(with_alert: bool) -> sa.Insert:
    """PostgreSQL: the report's INSERT carrying its history entry and its area-alert event as
    data-modifying CTEs: three rows in one statement and one round trip (the entries' foreign
    keys are checked at its end, when the report is there). The entries take the report's id,
    agency, status and instant from its own values, so that the statement stays within
    psycopg's 50 parameters of a statement it parses once (more are parsed at every call)."""

    def bound(table: sa.Table, column: str, name: str) -> sa.BindParameter[Any]:
        return sa.bindparam(name, type_=table.c[column].type)

    report = _COMPLAINTS_TABLE
    statement = sa.insert(report).values({c.key: bound(report, c.key, c.key) for c in report.c})
    history = sa.insert(_EVENTS_TABLE).values(
        id=bound(_EVENTS_TABLE, "id", "event_id"),
        complaint_id=bound(report, "id", "id"),
        action=bound(_EVENTS_TABLE, "action", "event_action"),
        from_status=sa.null(),
        to_status=bound(report, "status", "status"),
        actor_id=bound(_EVENTS_TABLE, "actor_id", "event_actor_id"),
        actor_role=bound(_EVENTS_TABLE, "actor_role", "event_actor_role"),
        from_agency_id=sa.null(),
        to_agency_id=bound(report, "agency_id", "agency_id"),
        note=sa.null(),
        due_at=sa.null(),
        created_at=bound(report, "created_at", "created_at"),
    )
    statement = statement.add_cte(history.cte("history"))
    if with_alert:
        alert = sa.insert(_ALERTS_TABLE).values(
            id=bound(_ALERTS_TABLE, "id", "alert_id"),
            complaint_id=bound(report, "id", "id"),
            event=bound(_ALERTS_TABLE, "event", "alert_event"),
            created_at=bound(report, "created_at", "created_at"),
            fanned_out_at=sa.null(),
        )
        statement = statement.add_cte(alert.cte("alert"))
    return statement


_T = TypeVar("_T")
_CATEGORY_KEYS = tuple(attr.key for attr in sa.inspect(ComplaintCategory).column_attrs)
_AGENCY_KEYS = tuple(attr.key for attr in sa.inspect(Agency).column_attrs)
# _CATEGORY's row as plain columns: the category's, then its agency's.
_CATEGORY_ROW = (
    sa.select(
        *(sa.inspect(ComplaintCategory).columns[key] for key in _CATEGORY_KEYS),
        *(sa.inspect(Agency).columns[key] for key in _AGENCY_KEYS),
    )
    .join_from(
        cast(sa.Table, ComplaintCategory.__table__),
        cast(sa.Table, Agency.__table__),
        ComplaintCategory.agency_id == Agency.id,
    )
    .where(ComplaintCategory.id == sa.bindparam("category_id", type_=sa.Uuid()))
)


def _find_category(category_id: uuid.UUID) -> ComplaintCategory | None:
    """The report's category with its agency, in the session as _CATEGORY's query would leave
    them, from one row of plain columns (an ORM query's loading was a twentieth of a
    submission's CPU). When the session already holds either of them, that query itself."""
    session = db.session()
    identity_map = session.identity_map
    if session.identity_key(ComplaintCategory, category_id) not in identity_map:
        row = direct_sql.execute(
            session.connection(), _CATEGORY_ROW, {"category_id": category_id}
        ).first()
        if row is None:
            return None
        values = dict(zip(_CATEGORY_KEYS, row, strict=False))
        agency_values = dict(zip(_AGENCY_KEYS, row[len(_CATEGORY_KEYS) :], strict=True))
        if session.identity_key(Agency, agency_values["id"]) not in identity_map:
            agency = _as_loaded(session, Agency, agency_values)
            return _as_loaded(session, ComplaintCategory, values, agency=agency)
    return db.session.scalars(_CATEGORY, {"category_id": category_id}).first()


def _as_loaded(session: Session, model: type[_T], values: dict[str, Any], **related: Any) -> _T:
    """A row just read or inserted (`values`: every column), in the session as if loaded by a
    query (persistent, nothing pending: a later change is an UPDATE), with the `related`
    objects of its relationships. Its values are put in place as a query's loading does,
    without the attribute events of the constructor."""
    instance = sa.inspect(model).class_manager.new_instance()
    sa.inspect(instance).dict.update(values)
    for name, value in related.items():
        set_committed_value(instance, name, value)
    make_transient_to_detached(instance)
    # In the identity map as Session.add puts a detached object, without its save-update
    # cascade: the `related` objects are in the session already (read or put there first), and
    # walking every relationship of the model for them was a fortieth of a submission's CPU.
    state = sa.inspect(instance)
    state._orphaned_outside_of_session = False
    session._update_impl(state)
    return cast(_T, instance)


def _number_and_deadline(now: datetime) -> tuple[str, datetime]:
    """The next tracking number of the (local) year, e.g. BJI-2026-000123, and the verification
    deadline, with the local days off it depends on read in the number's round trip."""
    year = workcalendar.local_date(now).year
    start, end = workcalendar.deadline_span(now)
    number, days_off = next_in_series_with(
        f"complaint:{year}", _DAYS_OFF, days_off_from=start, days_off_to=end
    )
    calendar = _calendar(start, end, days_off)
    due_at = workcalendar.add_working_days(now, VERIFICATION_WORKING_DAYS, calendar=calendar)
    return f"{TRACKING_PREFIX}-{year}-{number:06d}", due_at


@functools.lru_cache(maxsize=16)
def _calendar(start: date, end: date, days_off: str | None) -> workcalendar.WorkingCalendar:
    """The working calendar of a span with these local days off (as read beside the number, so
    a day declared off since is a new key): built once per day rather than at every submission
    (the national holidays filtered, the days off parsed). It is only read."""
    return workcalendar.WorkingCalendar(start, end, workcalendar.parse_days_off(days_off))


# The values of each choice, as sets built once (not from the enum at every submission).
_TYPES = frozenset(ComplaintType)
_PRIVACIES = frozenset(Privacy)
_SOURCES = frozenset(Source)


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
    if type not in _TYPES:
        errors["type"] = [gettext("Unknown report type.")]
    if privacy not in _PRIVACIES:
        errors["privacy"] = [gettext("Unknown privacy level.")]
    if source not in _SOURCES:
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
    if kelurahan_code is not None and regions_service.kecamatan_code_of(kelurahan_code) is None:
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
    category = _find_category(category_id)
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
    kecamatan_code = regions_service.kecamatan_code_of(kelurahan_code) if kelurahan_code else None
    contact = contact or {}
    now = utcnow()
    tracking_number, due_at = _number_and_deadline(now)
    # The report's row by one prebuilt Core INSERT, not an ORM flush (a unit of work for one
    # row was a fifth of a submission's CPU); its audit record and its day rows' deltas are
    # the ones a flush would have made (audit.capture, ops.figures).
    report_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": report_id,
        "tracking_number": tracking_number,
        "type": type,
        "category_id": category.id,
        "agency_id": category.agency_id,
        "title": title.strip(),
        "description": description.strip(),
        "lat": lat,
        "lon": lon,
        "address": _clean(address, 300),
        "kelurahan_code": kelurahan_code if kecamatan_code else None,
        "kecamatan_code": kecamatan_code,
        "privacy": privacy,
        "status": Status.SUBMITTED,
        "source": source,
        "channel": channel or source,
        "answers": stored_answers,
        "reporter_id": reporter_id,
        "api_client_id": api_client_id,
        "contact_name": _clean(contact.get("name"), 120),
        "contact_email": _clean(contact.get("email"), 254),
        "contact_phone": _clean(contact.get("phone"), 20),
        "assignee_id": None,
        "duplicate_of_id": None,
        "due_at": due_at,
        "dispatched_at": None,
        "resolved_at": None,
        "closed_at": None,
        "resolution_note": None,
        "rating": None,
        "rating_feedback": None,
        "rated_at": None,
        "supporter_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    if privacy == Privacy.ANONYMOUS and reporter_id is not None:
        # The trail records the reporter's submission under a keyed pseudonym, never the account.
        audit_service.act_pseudonymously(reporter_id)
    # Its first history entry (not audited; a submission ends no step:
    # ops.figures._complaint_steps gives none) and, for a report the public feed shows, its
    # area-alert event, written with the report's row: no ORM flush of their own.
    event = {
        "id": uuid.uuid4(),
        "complaint_id": report_id,
        "action": "submit",
        "from_status": None,
        "to_status": Status.SUBMITTED,
        "actor_id": filed_by_id or reporter_id,
        "actor_role": filed_by_role or Actor.REPORTER,
        "from_agency_id": None,
        "to_agency_id": category.agency_id,
        "note": None,
        "due_at": None,
        "created_at": now,
    }
    alert = area_alerts_service.report_event_row(
        complaint_id=report_id, event="filed", public=privacy != Privacy.CONFIDENTIAL, at=now
    )
    session = db.session()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        values = {
            **row,
            "event_id": event["id"],
            "event_action": event["action"],
            "event_actor_id": event["actor_id"],
            "event_actor_role": event["actor_role"],
        }
        if alert is not None:
            values.update(alert_id=alert["id"], alert_event=alert["event"])
        direct_sql.execute(connection, _insert_with_entries(alert is not None), values)
    else:
        direct_sql.execute(connection, _INSERT_COMPLAINT, row)
        direct_sql.execute(connection, _INSERT_EVENT, event)
        if alert is not None:
            direct_sql.execute(connection, _INSERT_ALERT, alert)
    # In the session with its category, agency and (no) photos already there: the answer
    # reads them.
    complaint = _as_loaded(
        session, Complaint, row, category=category, agency=category.agency, photos=[]
    )
    audit_capture.record_insert(session, complaint)
    ops_figures.count_inserted(session, complaint)
    # Only read (the answer's history; the row is written above): built as _as_loaded does,
    # without the constructor's attribute events, and kept out of the session.
    submitted = sa.inspect(ComplaintEvent).class_manager.new_instance()
    sa.inspect(submitted).dict.update(event)
    remember_events(complaint, [submitted])
    if reporter_id is not None:
        notifications_service.notify(
            recipients=[reporter_id],
            kind=kinds.COMPLAINT_RECEIVED,
            params=_notification_params(complaint),
            link=notifications_service.Link("complaints", str(complaint.id)),
        )
    webhooks_service.emit(WebhookEventType.COMPLAINT_CREATED, complaint)
    db.session.commit()
    return complaint
