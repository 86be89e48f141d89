"""Identifier and code systems of the FHIR face.

SATUSEHAT (Kemenkes) names its identifier systems `http://sys-ids.kemkes.go.id/<kind>/<org>`,
where `<org>` is the organisation's IHS number from SATUSEHAT's facility master (Master Sarana
Index): `.../organization/<org>` for a facility's organisations and `.../location/<org>` for its
locations. The city's facilities are not registered with their IHS numbers here yet, so the
`<org>` part is the SATUSEHAT_ORGANIZATION_ID setting, a documented placeholder until the health
office (Dinas Kesehatan) supplies the number; the value is our own id. Codes of our own (facility
types, poli) live under the public base URL.
"""

from __future__ import annotations

from flask import current_app

from binjai_api.links import public_url

FHIR_BASE_PATH = "/fhir/r4"
SATUSEHAT_SYSTEM_BASE = "http://sys-ids.kemkes.go.id"
# Until the city's IHS organisation number is configured (README: FHIR face).
SATUSEHAT_ORGANIZATION_PLACEHOLDER = "ihs-org-placeholder"

# HL7 terminologies the resources use.
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
ISSUE_TYPE_SYSTEM = "http://hl7.org/fhir/issue-type"

# Our facility types as v3 RoleCode service delivery locations.
ROLE_CODES = {"puskesmas": "PC", "hospital": "HOSP", "clinic": "OF"}
ROLE_DISPLAY = {"PC": "primary care clinic", "HOSP": "Hospital", "OF": "Outpatient facility"}


def satusehat_organization_id() -> str:
    """The city's IHS organisation number, or the documented placeholder."""
    configured = current_app.config["SATUSEHAT_ORGANIZATION_ID"]
    return str(configured or SATUSEHAT_ORGANIZATION_PLACEHOLDER)


def satusehat_system(kind: str) -> str:
    """`http://sys-ids.kemkes.go.id/<kind>/<organisation>` (kind: organization, location)."""
    return f"{SATUSEHAT_SYSTEM_BASE}/{kind}/{satusehat_organization_id()}"


def own_system(name: str) -> str:
    """A code or identifier system of ours: `<PUBLIC_BASE_URL>/fhir/r4/sid/<name>`."""
    return public_url(f"{FHIR_BASE_PATH}/sid/{name}")


def resource_url(path: str) -> str:
    """The absolute address of a resource or search (`Location/<id>`)."""
    return public_url(f"{FHIR_BASE_PATH}/{path}")
