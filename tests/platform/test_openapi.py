"""The OpenAPI document is the contract: complete, honest about errors, and committed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

COMMITTED_SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_committed_spec_matches_the_code(spec: dict[str, Any]) -> None:
    committed = json.loads(COMMITTED_SPEC.read_text("utf-8"))
    assert committed == spec, "run 'make openapi' and commit openapi/openapi.json"


def test_every_operation_is_documented(spec: dict[str, Any]) -> None:
    for path, method, operation in _operations(spec):
        name = f"{method.upper()} {path}"
        assert operation.get("summary"), f"{name} has no summary"
        assert operation.get("tags"), f"{name} has no tag"
        responses = operation["responses"]
        assert "default" not in responses, f"{name} has a catch-all default response"
        assert any(code.startswith("2") for code in responses), f"{name} has no success"
        errors = [code for code in responses if code[0] in "45"]
        assert {"429", "503"} <= set(errors), f"{name} lacks the common errors"
        if "requestBody" in operation:
            # Open311 answers invalid fields with 400, as its specification requires.
            invalid = "400" if path.startswith("/open311/") else "422"
            assert {"400", "413", "415", invalid} <= set(errors), f"{name} lacks body errors"
            for media_type in operation["requestBody"]["content"].values():
                assert "example" in media_type, f"{name} has no example"
        if operation.get("security"):
            assert "401" in responses, f"{name} is guarded but does not document 401"
        assert "x-access" in operation, f"{name} does not state its access rule"


def test_error_responses_are_problem_details(spec: dict[str, Any]) -> None:
    components = spec["components"]["responses"]
    for name in (
        "UNAUTHORIZED",
        "NOT_FOUND",
        "UNPROCESSABLE_ENTITY",
        "TOO_MANY_REQUESTS",
        "SERVICE_UNAVAILABLE",
        "CONFLICT",
    ):
        content = components[name]["content"]
        assert list(content) == ["application/problem+json"], name
        assert content["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
        assert content["application/problem+json"]["example"]["code"]
    assert "Retry-After" in components["TOO_MANY_REQUESTS"]["headers"]
    assert "WWW-Authenticate" in components["UNAUTHORIZED"]["headers"]


def test_bearer_scheme_is_declared(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_enumerations_are_listed(spec: dict[str, Any]) -> None:
    role = spec["components"]["schemas"]["Account"]["properties"]["role"]
    assert role["enum"] == ["citizen", "officer", "operator", "admin"]


def test_spec_is_served_at_the_documented_path(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")
