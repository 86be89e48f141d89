"""FHIR face fixtures: the health domain's clock and facilities (tests/health/conftest.py), and a
check of every answer against the fhir.resources R4B models."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from flask.testing import FlaskClient

from tests.health.conftest import clock, place, resident  # noqa: F401  (fixtures)

FHIR_JSON = "application/fhir+json"


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after the fhir.resources model of its type accepted it (a Bundle's entries
    are checked as part of the Bundle)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    return resource


def fhir_get(client: FlaskClient, path: str, status: int = 200, **headers: str) -> dict[str, Any]:
    """GET a FHIR path: its status, media type and a valid FHIR resource as body."""
    response = client.get(f"/fhir/r4/{path}", headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    body = response.get_json()
    if status >= 400:
        assert body["resourceType"] == "OperationOutcome", body
    return validated(body)
