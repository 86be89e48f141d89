"""The CapabilityStatement (`GET /fhir/r4/metadata`): what this FHIR face serves, read by FHIR
clients before anything else."""

from __future__ import annotations

from typing import Any

from binjai_api.fhir import identifiers as ids

FHIR_VERSION = "4.0.1"
# Changed by hand with what the face serves (the statement's `date`).
STATEMENT_DATE = "2026-12-04"

_PARAMETER_TYPES: dict[str, tuple[str, str]] = {
    "name": ("string", "Starts with, case-insensitive; :contains and :exact are supported."),
    "type": ("token", "A code, optionally system|code."),
    "near": (
        "special",
        "latitude|longitude|distance|units (units km, the default, or m); at most 50 km; "
        "nearest first.",
    ),
    "location": ("reference", "The facility: Location/<id>."),
    "organization": ("reference", "The facility as provider: Organization/<id>."),
    "actor": ("reference", "HealthcareService/<id> or Location/<id>."),
    "schedule": ("reference", "Schedule/<id> (a poli)."),
    "status": ("token", "free, busy or busy-unavailable."),
    "start": ("date", "eq, ge, gt, le or lt a date; at most 62 days; default the booking days."),
}

_RESOURCES: dict[str, str] = {
    "Organization": "City agencies (type govt) and health facilities as providers (type prov).",
    "Location": "Health facilities: puskesmas, hospitals and clinics, with opening hours.",
    "HealthcareService": "Each poli of a facility, with the weekly times of its sessions.",
    "Schedule": "A poli's online queue, one per poli (the same id as its HealthcareService).",
    "Slot": "A poli's session on one date: free while online queue places are left.",
}


def capability_statement(search_parameters: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The server's CapabilityStatement, built from the searches it runs."""
    base = ids.resource_url("metadata").removesuffix("/metadata")
    return {
        "resourceType": "CapabilityStatement",
        "id": "binjai-api",
        "url": ids.resource_url("metadata"),
        "name": "BinjaiApiFhirFace",
        "title": "Binjai API: FHIR R4 read face of the health facility directory",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "Pemerintah Kota Binjai",
        "description": (
            "Read-only. Identifiers follow SATUSEHAT's systems "
            "(http://sys-ids.kemkes.go.id/<kind>/<organization IHS number>) with a placeholder "
            "organization until the city's IHS number is configured. Errors are "
            "OperationOutcome; unknown search parameters are refused (400). Paging: _count "
            "(1-100, default 20) and _page."
        ),
        "kind": "instance",
        "software": {"name": "Binjai API"},
        "implementation": {"description": "Kota Binjai citizen app backend", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {
                        "type": resource_type,
                        "documentation": documentation,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {
                                "name": name,
                                "type": _PARAMETER_TYPES[name][0],
                                "documentation": _PARAMETER_TYPES[name][1],
                            }
                            for name in search_parameters[resource_type]
                        ],
                    }
                    for resource_type, documentation in _RESOURCES.items()
                ],
                "searchParam": [
                    {"name": "_count", "type": "number", "documentation": "1-100, default 20."},
                    {"name": "_page", "type": "number", "documentation": "1-10000, default 1."},
                ],
            }
        ],
    }
