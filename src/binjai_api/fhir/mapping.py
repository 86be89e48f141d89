"""Our facilities, poli, queue sessions and agencies as FHIR R4 resources (plain dicts in FHIR's
JSON shape). Only what the public directory already shows: no staff, no patients."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any

from binjai_api.agencies.models import Agency
from binjai_api.fhir import identifiers as ids
from binjai_api.health.models import Facility, HealthService, OpeningHours, QueueSession
from binjai_api.health.schedule import SessionDate

FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CITY = "Binjai"
PROVINCE = "Sumatera Utara"
COUNTRY = "ID"


def instant(moment: datetime) -> str:
    """An RFC 3339 instant in UTC with `Z`, as FHIR `instant` wants it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(moment: time) -> str:
    return moment.strftime("%H:%M:%S")


def reference(resource_type: str, resource_id: Any, display: str | None = None) -> dict[str, str]:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def _meta(updated_at: datetime | None) -> dict[str, str]:
    return {"lastUpdated": instant(updated_at)} if updated_at else {}


def _address(facility: Facility) -> dict[str, Any]:
    return {
        "use": "work",
        "type": "physical",
        "text": facility.address,
        "line": [facility.address],
        "city": CITY,
        "state": PROVINCE,
        "country": COUNTRY,
    }


def _telecom(facility: Facility) -> list[dict[str, str]]:
    return [{"system": "phone", "value": facility.phone, "use": "work"}] if facility.phone else []


def _by_same_hours(rows: Iterable[tuple[int, time, time]]) -> list[tuple[list[str], time, time]]:
    """Weekdays grouped by identical opening and closing times, in weekday order."""
    groups: dict[tuple[time, time], list[int]] = {}
    for weekday, opens, closes in sorted(rows):
        groups.setdefault((opens, closes), []).append(weekday)
    ordered = sorted(groups.items(), key=lambda item: item[1][0])
    return [([FHIR_DAYS[d] for d in days], opens, closes) for (opens, closes), days in ordered]


def facility_type(facility: Facility) -> list[dict[str, Any]]:
    role = ids.ROLE_CODES[facility.type]
    return [
        {
            "coding": [
                {"system": ids.ROLE_CODE_SYSTEM, "code": role, "display": ids.ROLE_DISPLAY[role]},
                {"system": ids.own_system("facility-type"), "code": facility.type},
            ],
            "text": facility.type,
        }
    ]


def location(facility: Facility) -> dict[str, Any]:
    """A facility as a Location: address, position, type, status and opening hours."""
    hours: list[dict[str, Any]]
    if facility.emergency_24h:  # an IGD never closes, holidays included
        hours = [{"daysOfWeek": list(FHIR_DAYS), "allDay": True}]
    else:
        opening: Sequence[OpeningHours] = facility.opening_hours
        hours = [
            {"daysOfWeek": days, "openingTime": clock(opens), "closingTime": clock(closes)}
            for days, opens, closes in _by_same_hours(
                (h.weekday, h.opens_at, h.closes_at) for h in opening
            )
        ]
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(facility.id),
        "meta": _meta(facility.updated_at),
        "identifier": [
            {
                "use": "official",
                "system": ids.satusehat_system("location"),
                "value": str(facility.id),
            },
        ],
        "status": "active" if facility.is_active else "inactive",
        "name": facility.name,
        "mode": "instance",
        "type": facility_type(facility),
        "telecom": _telecom(facility),
        "address": _address(facility),
        "physicalType": {
            "coding": [{"system": ids.PHYSICAL_TYPE_SYSTEM, "code": "bu", "display": "Building"}]
        },
        "position": {"longitude": facility.lon, "latitude": facility.lat},
        "managingOrganization": reference("Organization", facility.id, facility.name),
        "hoursOfOperation": hours,
    }
    return _without_empty(resource)


def facility_organization(facility: Facility, operator: Agency | None) -> dict[str, Any]:
    """A facility as the provider Organization that runs its Location and poli; a puskesmas is
    part of the city's health office (Dinas Kesehatan) when that agency exists."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(facility.id),
        "meta": _meta(facility.updated_at),
        "identifier": [
            {
                "use": "official",
                "system": ids.satusehat_system("organization"),
                "value": str(facility.id),
            }
        ],
        "active": facility.is_active,
        "type": [
            {
                "coding": [
                    {
                        "system": ids.ORGANIZATION_TYPE_SYSTEM,
                        "code": "prov",
                        "display": "Healthcare Provider",
                    }
                ]
            }
        ],
        "name": facility.name,
        "telecom": _telecom(facility),
        "address": [_address(facility)],
    }
    if operator is not None:
        resource["partOf"] = reference("Organization", operator.id, operator.name)
    return _without_empty(resource)


def agency_organization(agency: Agency) -> dict[str, Any]:
    """A city agency (OPD) as a government Organization."""
    return _without_empty(
        {
            "resourceType": "Organization",
            "id": str(agency.id),
            "meta": _meta(agency.updated_at),
            "identifier": [
                {"use": "official", "system": ids.own_system("agency-code"), "value": agency.code}
            ],
            "active": agency.is_active,
            "type": [
                {
                    "coding": [
                        {
                            "system": ids.ORGANIZATION_TYPE_SYSTEM,
                            "code": "govt",
                            "display": "Government",
                        }
                    ]
                }
            ],
            "name": agency.name,
            "alias": [agency.name_en] if agency.name_en and agency.name_en != agency.name else [],
            "address": [{"city": CITY, "state": PROVINCE, "country": COUNTRY}],
        }
    )


def poli_type(poli: HealthService) -> list[dict[str, Any]]:
    return [
        {
            "coding": [{"system": ids.own_system("poli"), "code": poli.code, "display": poli.name}],
            "text": poli.name,
        }
    ]


def _available_time(sessions: Sequence[QueueSession]) -> list[dict[str, Any]]:
    return [
        {"daysOfWeek": days, "availableStartTime": clock(start), "availableEndTime": clock(end)}
        for days, start, end in _by_same_hours(
            (s.weekday, s.starts_at, s.ends_at) for s in sessions
        )
    ]


def healthcare_service(poli: HealthService) -> dict[str, Any]:
    """A poli of a facility as a HealthcareService, with the weekly times of its sessions."""
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": str(poli.id),
        "meta": _meta(poli.updated_at),
        "identifier": [{"system": ids.own_system("poli"), "value": poli.code}],
        "active": poli.is_active,
        "providedBy": reference("Organization", poli.facility_id),
        "type": poli_type(poli),
        "location": [reference("Location", poli.facility_id)],
        "name": poli.name,
        "appointmentRequired": False,  # walk-ins are served beside online bookings
        "availableTime": _available_time(poli.sessions),
    }
    return _without_empty(resource)


def schedule(poli: HealthService, horizon: tuple[datetime, datetime]) -> dict[str, Any]:
    """A poli's queue as a Schedule: its Slots are the session dates open for booking."""
    return _without_empty(
        {
            "resourceType": "Schedule",
            "id": str(poli.id),
            "meta": _meta(poli.updated_at),
            "active": poli.is_active,
            "serviceType": poli_type(poli),
            "actor": [
                reference("HealthcareService", poli.id, poli.name),
                reference("Location", poli.facility_id),
            ],
            "planningHorizon": {"start": instant(horizon[0]), "end": instant(horizon[1])},
        }
    )


def slot_status(session_date: SessionDate, now: datetime) -> str:
    """free while online places are left; busy when fully booked; busy-unavailable when the
    facility cancelled the session or it is over."""
    if session_date.cancelled or session_date.ends <= now:
        return "busy-unavailable"
    return "free" if session_date.places_left > 0 else "busy"


def slot(session_date: SessionDate, now: datetime) -> dict[str, Any]:
    """One session of a poli on one date as a Slot."""
    return {
        "resourceType": "Slot",
        "id": session_date.slot_id,
        "serviceType": poli_type(session_date.service),
        "schedule": reference("Schedule", session_date.service.id),
        "status": slot_status(session_date, now),
        "start": instant(session_date.starts),
        "end": instant(session_date.ends),
        "comment": f"{session_date.places_left}/{session_date.online_quota} online places left",
    }


def _without_empty(resource: dict[str, Any]) -> dict[str, Any]:
    """FHIR forbids empty arrays and objects: leave such members out."""
    return {key: value for key, value in resource.items() if value not in ([], {}, None)}
