"""Health: facilities (puskesmas, hospitals, clinics): search, opening hours, beds, services,
their sessions and the demo seed."""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from importlib import resources
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from binjai_api import geo
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.fastdump import Dumped, rfc3339_utc
from binjai_api.health.models import (
    BedAvailability,
    Facility,
    FacilityStaff,
    HealthService,
    OpeningHours,
    QueueSession,
)
from binjai_api.health.service._common import WEEKDAYS, _get_facility, _service_of, local_now
from binjai_api.health.service.staff import require_staff
from binjai_api.i18n import gettext
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar import service as workcalendar

# --- facilities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityView:
    """A facility as answered: its row, open now and (near a point) its distance."""

    facility: Facility
    open_now: bool
    distance_m: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.facility, name)


def is_open(facility: Facility, moment: datetime, day_off: bool) -> bool:
    """Open at a local moment: a 24-hour IGD always is, holidays included; everything else
    follows its weekly hours and closes on days off."""
    return facility.emergency_24h or _open_by_hours(facility.opening_hours, moment, day_off)


def _open_by_hours(opening_hours: Iterable[Any], moment: datetime, day_off: bool) -> bool:
    """Whether weekly hours (rows with weekday, opens_at, closes_at) are open at a local moment
    (never on a day off)."""
    if day_off:
        return False
    now = moment.time()
    return any(
        hours.weekday == moment.weekday() and hours.opens_at <= now < hours.closes_at
        for hours in opening_hours
    )


def _now_and_day_off() -> tuple[datetime, bool]:
    now = local_now()
    return now, workcalendar.is_day_off(now.date())


def _search_sort(lat: float | None, lon: float | None, sort: str | None) -> str:
    """A search's order: as asked, else by distance near a point and by name without one."""
    near = lat is not None and lon is not None
    sort = sort or ("distance" if near else "name")
    if sort.lstrip("-") == "distance" and not near:
        raise field_errors(
            {"sort": [gettext("Sorting by distance needs lat and lon.")]}, location="query"
        )
    return sort


def _search_conditions(
    *,
    lat: float | None,
    lon: float | None,
    radius_m: int,
    type: str | None,
    service: str | None,
    emergency_24h: bool | None,
    accepts_bpjs: bool | None,
    updated_after: datetime | None,
) -> list[sa.ColumnElement[bool]]:
    """What a search filters in SQL: active facilities, in the radius's bounding box, of the
    type, poli, IGD and BPJS asked for."""
    conditions: list[sa.ColumnElement[bool]] = [Facility.is_active.is_(True)]
    if lat is not None and lon is not None:
        box = geo.box_around(lat, lon, radius_m)
        conditions += [
            Facility.lat.between(box.min_lat, box.max_lat),
            Facility.lon.between(box.min_lon, box.max_lon),
        ]
    if type is not None:
        conditions.append(Facility.type == type)
    if emergency_24h is not None:
        conditions.append(Facility.emergency_24h.is_(emergency_24h))
    if accepts_bpjs is not None:
        conditions.append(Facility.accepts_bpjs.is_(accepts_bpjs))
    if updated_after is not None:
        conditions.append(Facility.updated_at > updated_after)
    if service is not None:
        conditions.append(
            Facility.id.in_(
                sa.select(HealthService.facility_id).where(
                    HealthService.code == service, HealthService.is_active.is_(True)
                )
            )
        )
    return conditions


_SEARCH_ORDERS: dict[str, Callable[[FacilityView], Any]] = {
    "distance": lambda v: (v.distance_m, v.name),
    "name": lambda v: (v.name.lower(), str(v.id)),
    "updated_at": lambda v: (v.updated_at, str(v.id)),
}


def _found(
    candidates: Iterable[Any],
    *,
    lat: float | None,
    lon: float | None,
    radius_m: int,
    open_now: bool | None,
    sort: str,
    is_open_now: Callable[[Any], bool],
) -> list[FacilityView]:
    """The candidates (facilities or rows of their columns) within the radius and open or
    closed as asked, with their distance, in the search's order."""
    # Filter in SQL (a lat/lon bounding box for the radius), then measure the exact distance,
    # open-now and order in Python: a city has tens of facilities, not thousands.
    results: list[FacilityView] = []
    for facility in candidates:
        distance = None
        if lat is not None and lon is not None:
            exact = geo.haversine_m(lat, lon, facility.lat, facility.lon)
            if exact > radius_m:
                continue
            distance = round(exact)
        open_at_now = is_open_now(facility)
        if open_now is not None and open_at_now != open_now:
            continue
        results.append(FacilityView(facility, open_at_now, distance))
    results.sort(key=_SEARCH_ORDERS[sort.lstrip("-")], reverse=sort.startswith("-"))
    return results


def search_facilities(
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_m: int = 5000,
    type: str | None = None,
    service: str | None = None,
    emergency_24h: bool | None = None,
    accepts_bpjs: bool | None = None,
    open_now: bool | None = None,
    updated_after: datetime | None = None,
    sort: str | None = None,
) -> list[FacilityView]:
    """Search facilities by point and radius, type, poli, IGD, BPJS and open now."""
    sort = _search_sort(lat, lon, sort)
    conditions = _search_conditions(
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        type=type,
        service=service,
        emergency_24h=emergency_24h,
        accepts_bpjs=accepts_bpjs,
        updated_after=updated_after,
    )
    query = (
        sa.select(Facility)
        .where(*conditions)
        .options(
            selectinload(Facility.opening_hours),
            selectinload(Facility.services),
            selectinload(Facility.beds),
        )
    )
    now, day_off = _now_and_day_off()
    return _found(
        db.session.scalars(query),
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        open_now=open_now,
        sort=sort,
        is_open_now=lambda facility: is_open(facility, now, day_off),
    )


# What a search result shows (FacilitySummarySchema), read as plain rows: the facilities'
# columns, then their hours, poli and beds in one statement each (built once, the found
# facilities' ids their one parameter).
_SUMMARY_COLUMNS = (
    Facility.id,
    Facility.name,
    Facility.type,
    Facility.address,
    Facility.kelurahan_code,
    Facility.lat,
    Facility.lon,
    Facility.phone,
    Facility.emergency_24h,
    Facility.accepts_bpjs,
    Facility.beds_updated_at,
    Facility.is_demo,
    Facility.updated_at,
)
_FOUND_IDS: sa.BindParameter[list[uuid.UUID]] = sa.bindparam("facility_ids", expanding=True)
_HOURS_OF = (
    sa.select(
        OpeningHours.facility_id,
        OpeningHours.weekday,
        OpeningHours.opens_at,
        OpeningHours.closes_at,
    )
    .where(OpeningHours.facility_id.in_(_FOUND_IDS))
    .order_by(OpeningHours.weekday)
)
_SERVICES_OF = (
    sa.select(
        HealthService.facility_id,
        HealthService.id,
        HealthService.code,
        HealthService.name,
        HealthService.name_en,
    )
    .where(HealthService.facility_id.in_(_FOUND_IDS))
    .order_by(HealthService.name)
)
_BEDS_OF = (
    sa.select(
        BedAvailability.facility_id,
        BedAvailability.bed_class,
        BedAvailability.total,
        BedAvailability.available,
        BedAvailability.updated_at,
    )
    .where(BedAvailability.facility_id.in_(_FOUND_IDS))
    .order_by(BedAvailability.bed_class)
)


def _by_facility(statement: sa.Executable, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    rows: dict[uuid.UUID, list[Any]] = {facility_id: [] for facility_id in ids}
    for row in db.session.execute(statement, {"facility_ids": ids}):
        rows[row.facility_id].append(row)
    return rows


def _clock_text(moment: time) -> str:
    return moment.strftime("%H:%M")


class _Hours(NamedTuple):
    weekday: int
    opens_at: time
    closes_at: time


@dataclass(frozen=True)
class _Listed:
    """A facility's hours, poli and beds as a search result shows them (never changed once
    written: responses share them)."""

    week: tuple[_Hours, ...]
    opening_hours: list[dict[str, str]]
    services: list[dict[str, Any]]
    beds: list[dict[str, Any]]


# Per process: each facility's `_Listed`, under its database, id and `updated_at`, which every
# change to its hours, poli or beds moves (as `updated_after` sync relies on). A search reads the
# facilities' rows, and their hours, poli and beds only for those new or changed since; every
# worker sees a change at once, from the row.
_LISTED: OrderedDict[tuple[Any, uuid.UUID, datetime], _Listed] = OrderedDict()
_LISTED_MAX = 2048
_listed_lock = threading.Lock()


def _listed(candidates: Sequence[Any]) -> dict[uuid.UUID, _Listed]:
    """The `_Listed` of each candidate row (id, updated_at): kept, or read (three statements
    for all those missing) and kept."""
    url = db.engine.url
    found: dict[uuid.UUID, _Listed] = {}
    missing = []
    with _listed_lock:
        for row in candidates:
            listed = _LISTED.get((url, row.id, row.updated_at))
            if listed is None:
                missing.append(row)
            else:
                found[row.id] = listed
    if not missing:
        return found
    ids = [row.id for row in missing]
    hours = _by_facility(_HOURS_OF, ids)
    services = _by_facility(_SERVICES_OF, ids)
    beds = _by_facility(_BEDS_OF, ids)
    weeks: dict[tuple[_Hours, ...], list[dict[str, str]]] = {}
    for row in missing:
        week = tuple(_Hours(h.weekday, h.opens_at, h.closes_at) for h in hours[row.id])
        if week not in weeks:  # facilities of a kind mostly share their hours
            weeks[week] = [
                {
                    "weekday": WEEKDAYS[h.weekday],
                    "opens_at": _clock_text(h.opens_at),
                    "closes_at": _clock_text(h.closes_at),
                }
                for h in week
            ]
        found[row.id] = _Listed(
            week=week,
            opening_hours=weeks[week],
            services=[
                {"id": str(s.id), "code": s.code, "name": s.name, "name_en": s.name_en}
                for s in services[row.id]
            ],
            beds=[
                {
                    "bed_class": bed.bed_class,
                    "total": bed.total,
                    "available": bed.available,
                    "updated_at": rfc3339_utc(bed.updated_at),
                }
                for bed in beds[row.id]
            ],
        )
    with _listed_lock:
        for row in missing:
            _LISTED[(url, row.id, row.updated_at)] = found[row.id]
        while len(_LISTED) > _LISTED_MAX:
            _LISTED.popitem(last=False)
    return found


def search_facility_summaries(
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_m: int = 5000,
    type: str | None = None,
    service: str | None = None,
    emergency_24h: bool | None = None,
    accepts_bpjs: bool | None = None,
    open_now: bool | None = None,
    updated_after: datetime | None = None,
    sort: str | None = None,
) -> list[Dumped]:
    """`search_facilities`' results as FacilitySummarySchema documents them, read as plain rows
    and written in one pass: one statement (the facilities' columns, and whether today is a
    local day off), three more for facilities new or changed since this process last read them."""
    sort = _search_sort(lat, lon, sort)
    conditions = _search_conditions(
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        type=type,
        service=service,
        emergency_24h=emergency_24h,
        accepts_bpjs=accepts_bpjs,
        updated_after=updated_after,
    )
    now = local_now()
    today = now.date()
    local_day_off = workcalendar.declared_day_off(today).label("local_day_off")
    statement = sa.select(*_SUMMARY_COLUMNS, local_day_off).where(*conditions)
    candidates = db.session.execute(statement).all()
    if not candidates:
        return []
    day_off = candidates[0].local_day_off or workcalendar.is_national_holiday(today)
    listed = _listed(candidates)
    opens: dict[tuple[_Hours, ...], bool] = {}

    def is_open_now(row: Any) -> bool:
        if row.emergency_24h:
            return True
        week = listed[row.id].week
        if week not in opens:
            opens[week] = _open_by_hours(week, now, day_off)
        return opens[week]

    found = _found(
        candidates,
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        open_now=open_now,
        sort=sort,
        is_open_now=is_open_now,
    )
    return [
        Dumped(
            id=str(row.id),
            name=row.name,
            type=row.type,
            address=row.address,
            kelurahan_code=row.kelurahan_code,
            lat=row.lat,
            lon=row.lon,
            phone=row.phone,
            emergency_24h=row.emergency_24h,
            accepts_bpjs=row.accepts_bpjs,
            open_now=view.open_now,
            distance_m=view.distance_m,
            opening_hours=parts.opening_hours,
            services=parts.services,
            beds=parts.beds,
            beds_updated_at=None
            if row.beds_updated_at is None
            else rfc3339_utc(row.beds_updated_at),
            is_demo=row.is_demo,
            updated_at=rfc3339_utc(row.updated_at),
        )
        for view in found
        for row, parts in ((view.facility, listed[view.facility.id]),)
    ]


def get_facility(facility_id: uuid.UUID, *, lock: bool = False) -> FacilityView:
    """One facility with its hours, poli and schedules, beds, and whether it is open now."""
    facility = _get_facility(facility_id, lock=lock)
    now, day_off = _now_and_day_off()
    return FacilityView(facility, is_open(facility, now, day_off))


def _hours_rows(opening_hours: Iterable[Mapping[str, Any]]) -> list[OpeningHours]:
    rows: dict[int, OpeningHours] = {}
    for entry in opening_hours:
        weekday = WEEKDAYS.index(entry["weekday"])
        if weekday in rows or entry["opens_at"] >= entry["closes_at"]:
            raise field_errors(
                {
                    "opening_hours": [
                        gettext("One opening time per weekday, opening before closing.")
                    ]
                }
            )
        rows[weekday] = OpeningHours(
            weekday=weekday, opens_at=entry["opens_at"], closes_at=entry["closes_at"]
        )
    return list(rows.values())


def _service_row(entry: Mapping[str, Any]) -> HealthService:
    sessions: dict[int, QueueSession] = {}
    for session in entry.get("sessions", []):
        weekday = WEEKDAYS.index(session["weekday"])
        if weekday in sessions or session["starts_at"] >= session["ends_at"]:
            raise field_errors(
                {"services": [gettext("One session per weekday, starting before it ends.")]}
            )
        sessions[weekday] = QueueSession(
            weekday=weekday,
            starts_at=session["starts_at"],
            ends_at=session["ends_at"],
            online_quota=session["online_quota"],
            walk_in_quota=session["walk_in_quota"],
            minutes_per_patient=session["minutes_per_patient"],
        )
    return HealthService(
        code=entry["code"],
        name=entry["name"],
        name_en=entry.get("name_en"),
        sessions=list(sessions.values()),
    )


def create_facility(
    *,
    name: str,
    type: str,
    address: str,
    lat: float,
    lon: float,
    kelurahan_code: str | None = None,
    phone: str | None = None,
    emergency_24h: bool = False,
    accepts_bpjs: bool = True,
    opening_hours: Iterable[Mapping[str, Any]] = (),
    services: Iterable[Mapping[str, Any]] = (),
    is_demo: bool = False,
) -> FacilityView:
    """Add a facility with its weekly hours and its poli (each with its weekly sessions)."""
    if kelurahan_code is not None and regions_service.find_kelurahan(kelurahan_code) is None:
        raise field_errors({"kelurahan_code": [gettext("Unknown kelurahan.")]})
    service_rows = [_service_row(entry) for entry in services]
    if len({row.code for row in service_rows}) != len(service_rows):
        raise field_errors({"services": [gettext("Each poli appears once per facility.")]})
    facility = Facility(
        name=name.strip(),
        type=type,
        address=address.strip(),
        lat=lat,
        lon=lon,
        kelurahan_code=kelurahan_code,
        phone=phone,
        emergency_24h=emergency_24h,
        accepts_bpjs=accepts_bpjs,
        is_demo=is_demo,
        opening_hours=_hours_rows(opening_hours),
        services=service_rows,
    )
    db.session.add(facility)
    db.session.commit()
    return get_facility(facility.id)


def update_beds(
    *, principal: Principal, facility_id: uuid.UUID, beds: Iterable[Mapping[str, Any]]
) -> FacilityView:
    """Replace a hospital's bed availability (its staff, after each count)."""
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    if facility.type != "hospital":
        raise conflict("not_a_hospital", gettext("Only hospitals report bed availability."))
    entries = list(beds)
    if len({entry["bed_class"] for entry in entries}) != len(entries):
        raise field_errors({"beds": [gettext("Each bed class appears once.")]})
    if any(entry["available"] > entry["total"] for entry in entries):
        raise field_errors({"beds": [gettext("Free beds cannot exceed the total.")]})
    now = utcnow()
    facility.beds = [
        BedAvailability(
            bed_class=entry["bed_class"],
            total=entry["total"],
            available=entry["available"],
            updated_at=now,
            updated_by_id=principal.id,
        )
        for entry in entries
    ]
    facility.beds_updated_at = now
    facility.updated_at = now
    db.session.commit()
    return get_facility(facility.id)


def set_session(
    *,
    principal: Principal,
    facility_id: uuid.UUID,
    service_id: uuid.UUID,
    weekday: str,
    starts_at: time,
    ends_at: time,
    online_quota: int,
    walk_in_quota: int,
    minutes_per_patient: int,
) -> FacilityView:
    """Set a poli's session on one weekday (its staff or an admin)."""
    # Bookings already taken keep their numbers; a lower quota only refuses new ones.
    if weekday not in WEEKDAYS:
        raise not_found()
    facility = _get_facility(facility_id)
    require_staff(principal, facility.id)
    service = _service_of(facility, service_id)
    if starts_at >= ends_at:
        raise field_errors({"ends_at": [gettext("A session ends after it starts.")]})
    index = WEEKDAYS.index(weekday)
    session = next((s for s in service.sessions if s.weekday == index), None)
    if session is None:
        session = QueueSession(weekday=index)
        service.sessions.append(session)
    session.starts_at = starts_at
    session.ends_at = ends_at
    session.online_quota = online_quota
    session.walk_in_quota = walk_in_quota
    session.minutes_per_patient = minutes_per_patient
    service.updated_at = facility.updated_at = utcnow()
    db.session.commit()
    return get_facility(facility.id)


# --- demo data ----------------------------------------------------------------------------------


def seed_demo_facilities() -> int:
    """Load Binjai's demo hospitals and puskesmas and tie their demo staff; returns how many."""
    # seed/facilities.json marks unverified facts as demo; loading twice adds nothing.
    text = resources.files("binjai_api").joinpath("seed/facilities.json").read_text("utf-8")
    data = json.loads(text)
    officers = {
        user.email: user.id
        for user in db.session.scalars(auth_service.accounts_query(role=Role.OFFICER))
    }
    existing = set(db.session.scalars(sa.select(Facility.name)))
    added = 0
    for entry in data["facilities"]:
        if entry["name"] in existing:
            continue
        kind = entry["type"]
        template = data["sessions"][kind]
        sessions = [
            {**{k: v for k, v in template.items() if k != "weekdays"}, "weekday": weekday}
            for weekday in template["weekdays"]
        ]
        view = create_facility(
            name=entry["name"],
            type=kind,
            address=entry["address"],
            lat=entry["lat"],
            lon=entry["lon"],
            kelurahan_code=entry.get("kelurahan_code"),
            phone=entry.get("phone"),
            emergency_24h=entry["emergency_24h"],
            accepts_bpjs=True,
            opening_hours=[
                {
                    **hours,
                    "opens_at": _clock(hours["opens_at"]),
                    "closes_at": _clock(hours["closes_at"]),
                }
                for hours in data["hours"][kind]
            ],
            services=[
                {
                    "code": code,
                    "name": data["poli"][code],
                    "name_en": data["poli_en"].get(code),
                    "sessions": [
                        {**s, "starts_at": _clock(s["starts_at"]), "ends_at": _clock(s["ends_at"])}
                        for s in sessions
                    ],
                }
                for code in entry["services"]
            ],
            is_demo=True,
        )
        facility = view.facility
        now = utcnow()
        facility.beds = [BedAvailability(**bed, updated_at=now) for bed in entry.get("beds", [])]
        facility.beds_updated_at = now if facility.beds else None
        for email in entry.get("staff_emails", []):
            if email in officers and db.session.get(FacilityStaff, officers[email]) is None:
                db.session.add(
                    FacilityStaff(user_id=officers[email], facility_id=facility.id, created_at=now)
                )
        db.session.commit()
        added += 1
    return added


def _clock(value: str) -> time:
    return time.fromisoformat(value)
