"""What each FHIR interaction reads: health and agencies through their service functions,
mapped to FHIR resources (mapping.py) and searched (search.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from werkzeug.datastructures import MultiDict

from binjai_api.agencies import service as agencies_service
from binjai_api.agencies.models import Agency
from binjai_api.errors import Problem, not_found
from binjai_api.extensions import db
from binjai_api.fhir import identifiers as ids
from binjai_api.fhir import mapping, search
from binjai_api.health import schedule as health_schedule
from binjai_api.health import service as health_service
from binjai_api.i18n import gettext
from binjai_api.workcalendar import service as workcalendar

# The agency that runs the city's puskesmas (Dinas Kesehatan): their Organization's partOf.
PUSKESMAS_OPERATOR_CODE = "DINKES"
# A Slot search spans at most this many days (the default: the booking horizon).
MAX_SLOT_SPAN_DAYS = 62
SLOT_ID_DATE_LENGTH = 8

SEARCH_PARAMETERS: dict[str, tuple[str, ...]] = {
    "Organization": ("name", "type"),
    "Location": ("name", "type", "near"),
    "HealthcareService": ("name", "location", "organization"),
    "Schedule": ("actor",),
    "Slot": ("schedule", "status", "start"),
}


def _uuid(resource_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        raise not_found(gettext("No such resource.")) from None


def _operator(facility_type: str) -> Agency | None:
    if facility_type != "puskesmas":
        return None
    return agencies_service.find_agency_by_code(PUSKESMAS_OPERATOR_CODE)


# --- reads ---------------------------------------------------------------------------------------


def read_organization(resource_id: str) -> dict[str, Any]:
    """An agency, or else a facility as the provider that runs it."""
    key = _uuid(resource_id)
    agency = agencies_service.find_agency(key)
    if agency is not None:
        return mapping.agency_organization(agency)
    facility = health_service.get_facility(key).facility
    return mapping.facility_organization(facility, _operator(facility.type))


def read_location(resource_id: str) -> dict[str, Any]:
    return mapping.location(health_service.get_facility(_uuid(resource_id)).facility)


def read_healthcare_service(resource_id: str) -> dict[str, Any]:
    return mapping.healthcare_service(health_schedule.get_poli(_uuid(resource_id)))


def _horizon() -> tuple[date, date]:
    return health_schedule.booking_horizon()


def _horizon_instants() -> tuple[datetime, datetime]:
    start, end = _horizon()
    return health_service.local_instant(start, time(0)), workcalendar.end_of_local_day(end)


def read_schedule(resource_id: str) -> dict[str, Any]:
    return mapping.schedule(health_schedule.get_poli(_uuid(resource_id)), _horizon_instants())


def read_slot(resource_id: str) -> dict[str, Any]:
    """`<session id>-<YYYYMMDD>`: the session on that date, while the poli holds it."""
    session_part, day_part = resource_id[: -SLOT_ID_DATE_LENGTH - 1], resource_id[-8:]
    try:
        session_id = uuid.UUID(session_part)
        day = datetime.strptime(day_part, "%Y%m%d").date()
    except ValueError:
        raise not_found(gettext("No such resource.")) from None
    found = health_schedule.find_session_date(session_id, day)
    if found is None:
        raise not_found(gettext("No such resource."))
    return mapping.slot(found, health_service.current_time())


READS: dict[str, Callable[[str], dict[str, Any]]] = {
    "Organization": read_organization,
    "Location": read_location,
    "HealthcareService": read_healthcare_service,
    "Schedule": read_schedule,
    "Slot": read_slot,
}


# --- searches ------------------------------------------------------------------------------------


def _codes_match(
    wanted: list[tuple[str | None, str]] | None, codings: list[dict[str, Any]]
) -> bool:
    if wanted is None:
        return True
    return any(
        coding["code"] == code and system in (None, coding["system"])
        for system, code in wanted
        for concept in codings
        for coding in concept["coding"]
    )


def _named(resources: list[dict[str, Any]], matches: Callable[[str], bool] | None) -> list[Any]:
    if matches is None:
        return resources
    return [r for r in resources if matches(r["name"])]


def search_organizations(query: search.Search) -> list[dict[str, Any]]:
    """Active agencies, then facilities as providers, by name."""
    agencies = [
        mapping.agency_organization(a)
        for a in db.session.scalars(agencies_service.agencies_query(sort="name"))
    ]
    operator = agencies_service.find_agency_by_code(PUSKESMAS_OPERATOR_CODE)
    facilities = [
        mapping.facility_organization(v.facility, operator if v.type == "puskesmas" else None)
        for v in health_service.search_facilities(sort="name")
    ]
    found = _named(agencies + facilities, search.string_matcher(query))
    wanted = search.tokens(query, "type")
    return [r for r in found if _codes_match(wanted, r["type"])]


def search_locations(query: search.Search) -> list[dict[str, Any]]:
    """Facilities by name, type and distance (nearest first when `near` is given)."""
    near = search.near(query)
    if near is None:
        views = health_service.search_facilities(sort="name")
    else:
        views = health_service.search_facilities(
            lat=near.lat, lon=near.lon, radius_m=near.radius_m, sort="distance"
        )
    found = _named([mapping.location(v.facility) for v in views], search.string_matcher(query))
    wanted = search.tokens(query, "type")
    return [r for r in found if _codes_match(wanted, r["type"])]


def search_healthcare_services(query: search.Search) -> list[dict[str, Any]]:
    """Poli, of one facility when `location` or `organization` names it."""
    facility_ids = {
        search.reference_id(query, "location", "Location"),
        search.reference_id(query, "organization", "Organization"),
    } - {None}
    if len(facility_ids) > 1:
        return []
    facility_id = _uuid_or_none(next(iter(facility_ids))) if facility_ids else None
    if facility_ids and facility_id is None:
        return []
    poli = health_schedule.list_poli(facility_id=facility_id)
    return _named([mapping.healthcare_service(p) for p in poli], search.string_matcher(query))


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def search_schedules(query: search.Search) -> list[dict[str, Any]]:
    """Each poli's Schedule; `actor` narrows to one poli (HealthcareService) or facility
    (Location)."""
    poli = health_schedule.list_poli()
    actor = query.one("actor")
    if actor is not None:
        resource_type = next(
            (t for t in ("HealthcareService", "Location") if f"{t}/" in actor), None
        )
        if resource_type is None:
            raise search.invalid(gettext("actor must reference a HealthcareService or a Location."))
        target = _uuid_or_none(search.reference_id(query, "actor", resource_type))
        attribute = "id" if resource_type == "HealthcareService" else "facility_id"
        poli = [p for p in poli if getattr(p, attribute) == target]
    horizon = _horizon_instants()
    return [mapping.schedule(p, horizon) for p in poli]


def search_slots(query: search.Search) -> list[dict[str, Any]]:
    """Session dates of every poli (or of one Schedule) from today to the booking horizon, or
    within `start`; `status` filters free, busy or busy-unavailable."""
    today, horizon_end = _horizon()
    lower, upper = search.date_bounds(query, "start")
    start, end = lower or today, upper or max(horizon_end, lower or today)
    if (end - start).days > MAX_SLOT_SPAN_DAYS:
        raise search.invalid(
            gettext("A Slot search spans at most %(days)s days.", days=MAX_SLOT_SPAN_DAYS)
        )
    schedule_id = search.reference_id(query, "schedule", "Schedule")
    poli = health_schedule.list_poli()
    if schedule_id is not None:
        poli = [p for p in poli if str(p.id) == schedule_id]
    now = health_service.current_time()
    slots = [
        mapping.slot(s, now) for s in health_schedule.session_dates(poli, start=start, end=end)
    ]
    statuses = search.tokens(query, "status")
    if statuses is not None:
        known = ("free", "busy", "busy-unavailable", "busy-tentative", "entered-in-error")
        if any(code not in known for _system, code in statuses):
            raise search.invalid(gettext("status must be free, busy or busy-unavailable."))
        slots = [s for s in slots if s["status"] in {code for _s, code in statuses}]
    return slots


SEARCHES: dict[str, Callable[[search.Search], list[dict[str, Any]]]] = {
    "Organization": search_organizations,
    "Location": search_locations,
    "HealthcareService": search_healthcare_services,
    "Schedule": search_schedules,
    "Slot": search_slots,
}


def unknown_type(resource_type: str) -> Problem:
    return not_found(
        gettext("This server does not serve %(type)s resources.", type=resource_type[:64])
    )


def read(resource_type: str, resource_id: str) -> dict[str, Any]:
    """One resource by type and id, or 404."""
    reader = READS.get(resource_type)
    if reader is None:
        raise unknown_type(resource_type)
    if not search.FHIR_ID.match(resource_id):
        raise not_found(gettext("No such resource."))
    return reader(resource_id)


def search_type(resource_type: str, args: MultiDict[str, str]) -> dict[str, Any]:
    """A search of one resource type as a Bundle searchset."""
    runner = SEARCHES.get(resource_type)
    if runner is None:
        raise unknown_type(resource_type)
    query = search.parse(args, SEARCH_PARAMETERS[resource_type])
    return search.searchset(resource_type, runner(query), query)


def base_url() -> str:
    return ids.resource_url("")[:-1]
