"""The OpenAPI document is the contract: complete, honest about errors, and committed."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.operation_ids import OPERATION_IDS
from tests import factories

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
                assert media_type.get("example") or media_type.get("examples"), (
                    f"{name} has no example"
                )
        if operation.get("security"):
            assert "401" in responses, f"{name} is guarded but does not document 401"
        assert "x-access" in operation, f"{name} does not state its access rule"


def test_error_responses_are_problem_details(spec: dict[str, Any]) -> None:
    """Every error response of every operation is problem+json, lists its codes (one example
    each) and carries the headers of its status."""
    checked = 0
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400 or path.startswith(("/open311/", "/fhir/")):
                continue  # Open311 and FHIR answer errors in their own standard formats
            content = response["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
            codes = response["x-problem-codes"]
            assert codes and set(content["application/problem+json"]["examples"]) == set(codes)
            for code in codes:
                assert f"`{code}`" in response["description"]
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"]
            if status == "401":
                assert "WWW-Authenticate" in response["headers"]
            checked += 1
    assert checked > 500
    example = spec["components"]["examples"]["problem_quota_full"]["value"]
    assert example["code"] == "quota_full" and example["status"] == 409


def test_bearer_scheme_is_declared(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_enumerations_are_listed(spec: dict[str, Any]) -> None:
    role = spec["components"]["schemas"]["Account"]["properties"]["role"]
    assert role == {"$ref": "#/components/schemas/Role"}
    assert spec["components"]["schemas"]["Role"]["enum"] == [
        "citizen",
        "officer",
        "operator",
        "admin",
    ]


def test_spec_is_served_at_the_documented_path(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_every_operation_has_a_unique_lower_camel_case_operation_id(spec: dict[str, Any]) -> None:
    """A generated client names its functions after them: one each, never two alike."""
    seen: dict[str, str] = {}
    for path, method, operation in _operations(spec):
        name = f"{method.upper()} {path}"
        operation_id = operation.get("operationId")
        assert operation_id, f"{name} has no operationId (operation_ids.py or @blp.doc)"
        assert re.fullmatch(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*", operation_id), operation_id
        assert operation_id not in seen, f"{name} and {seen[operation_id]} share {operation_id}"
        seen[operation_id] = name
        assert operation.get("description"), f"{name} has no description"


def test_the_operation_id_table_names_only_existing_operations(spec: dict[str, Any]) -> None:
    """A route removed or moved leaves no stale id behind to be reused by mistake."""
    existing = {(method.upper(), path) for path, method, _ in _operations(spec)}
    assert set(OPERATION_IDS) <= existing, set(OPERATION_IDS) - existing


def test_a_route_may_state_its_own_operation_id(app: Flask) -> None:
    from binjai_api.openapi_contract import finish_spec

    spec = {
        "paths": {
            "/api/v1/x": {"get": {"summary": "Read x", "operationId": "readX", "x-access": {}}},
            "/api/v1/me": {"get": {"summary": "Read me", "security": []}},
        }
    }
    finished = finish_spec(spec)
    assert finished["paths"]["/api/v1/x"]["get"]["operationId"] == "readX"
    assert finished["paths"]["/api/v1/me"]["get"]["operationId"] == "getMe"
    assert finished["paths"]["/api/v1/me"]["get"]["description"].startswith("Read me.")
    assert "operationId" not in spec["paths"]["/api/v1/me"]["get"], "apispec's state changed"


def _inline_enums(node: Any, path: str) -> list[str]:
    found = [path] if isinstance(node, dict) and "enum" in node else []
    children = node.items() if isinstance(node, dict) else enumerate(node or [])
    for key, value in children:
        if isinstance(value, dict | list):
            found += _inline_enums(value, f"{path}/{key}")
    return found


def test_each_enumeration_is_one_component_reused(spec: dict[str, Any]) -> None:
    """No inline enum in a schema, so a generator never names one after its parent and collides
    with a component of the same name (issue 16: BookingStatus)."""
    schemas = spec["components"]["schemas"]
    inline = [
        site
        for name, schema in schemas.items()
        for key, value in schema.items()
        if isinstance(value, dict | list)
        for site in _inline_enums(value, f"{name}/{key}")
    ]
    assert inline == []
    enums = [tuple(s["enum"]) for s in schemas.values() if "enum" in s]
    assert len(enums) == len(set(enums)), "two components list the same values"
    status = spec["components"]["schemas"]["Complaint"]["properties"]["status"]
    assert status["$ref"] == "#/components/schemas/ComplaintStatus"
    assert "submitted" in schemas["ComplaintStatus"]["enum"]


def test_answered_fields_are_required_and_nullable_ones_say_so(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    booking = schemas["Booking"]
    assert set(booking["required"]) == set(booking["properties"])
    assert booking["properties"]["called_at"]["type"] == ["string", "null"]
    agency = schemas["Account"]["properties"]["agency"]
    assert agency["anyOf"] == [{"$ref": "#/components/schemas/AgencyRef"}, {"type": "null"}]
    problem = schemas["Problem"]
    assert "errors" not in problem["required"] and "code" in problem["required"]
    # A schema also read from requests keeps its optional fields optional.
    assert "required" not in schemas["MePatch"] or set(schemas["MePatch"]["required"]) < set(
        schemas["MePatch"]["properties"]
    )
    text = json.dumps(spec)
    assert '"nullable"' not in text and "x-enum-name" not in text and "x-optional" not in text


def test_servers_and_the_not_modified_answer_are_described(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": "/", "description": spec["servers"][0]["description"]}]
    not_modified = spec["components"]["responses"]["NOT_MODIFIED"]
    assert "If-None-Match" in not_modified["description"]
    assert "ETag" in not_modified["headers"]


def test_a_bad_idempotency_key_is_a_documented_400_even_without_a_body(
    spec: dict[str, Any], client: FlaskClient, auth_headers: Any
) -> None:
    path = "/api/v1/complaints/{complaint_id}/support"
    response = client.post(
        path.format(complaint_id=uuid.uuid4()),
        headers={**auth_headers("citizen"), "Idempotency-Key": "x" * 256},
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_idempotency_key"
    assert "400" in spec["paths"][path]["post"]["responses"]


def test_a_patch_without_a_body_is_documented_as_allowed(
    spec: dict[str, Any], client: FlaskClient, auth_headers: Any
) -> None:
    response = client.patch("/api/v1/me", headers=auth_headers("citizen"))
    assert response.status_code == 200
    assert spec["paths"]["/api/v1/me"]["patch"]["requestBody"]["required"] is False
    # A PATCH with required fields keeps its body required.
    roles = spec["paths"]["/api/v1/admin/accounts/{account_id}"]["patch"]["requestBody"]
    assert roles["required"] is True


PHONE_SAMPLES = [
    "081234567890",
    "+62 812-3456-7890",
    "(0812) 3456.789",
    "62812345678",
    "0812345678901",
    "08123456789012",
    "0712345678",
    "+6281234",
    "+ 62 812 3456 789",
    "6 2812345678",
    "081234567890x",
    "".join(chr(0x0660 + int(digit)) for digit in "081234567890"),  # Arabic-Indic digits
    "",
]


def test_the_stated_phone_and_nik_patterns_are_the_rules_the_server_applies(
    spec: dict[str, Any], client: FlaskClient
) -> None:
    from binjai_api.auth.validation import nik_problem, normalize_phone

    register = spec["components"]["schemas"]["Register"]["properties"]
    phone_pattern, nik_pattern = register["phone"]["pattern"], register["nik"]["pattern"]
    for sample in PHONE_SAMPLES:
        stated = re.search(phone_pattern, sample) is not None
        assert stated == (normalize_phone(sample) is not None), sample
    full_width = "".join(chr(0xFF10 + int(digit)) for digit in "1275014501900003")
    for nik in ("1275014501900003", "127501450190000", full_width):
        if re.search(nik_pattern, nik) is None:
            assert nik_problem(nik) is not None, nik
    # Full-width digits passed Python's \d before: the server now refuses them too.
    body = factories.registration(nik=full_width)
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422 and "nik" in response.get_json()["errors"]["json"]


def test_the_stated_clock_pattern_is_what_the_server_parses(spec: dict[str, Any]) -> None:
    import marshmallow as ma

    pattern = spec["components"]["schemas"]["OpeningHours"]["properties"]["opens_at"]["pattern"]
    clock = ma.fields.Time(format="%H:%M")
    for sample in ("08:00", "8:0", "23:59", "24:00", "08:60", " 08:00", "0800", "008:00"):
        try:
            clock.deserialize(sample)
            parsed = True
        except ma.ValidationError:
            parsed = False
        assert parsed == (re.search(pattern, sample) is not None), sample


def test_dependent_fields_and_url_formats_are_stated(spec: dict[str, Any]) -> None:
    facilities = spec["paths"]["/api/v1/facilities"]["get"]["parameters"]
    lat = next(p for p in facilities if p["name"] == "lat")
    assert "`lon`" in lat["description"]
    assert '"format": "url"' not in json.dumps(spec)


def test_open311_optional_arguments_sent_empty_are_allowed_by_the_spec(
    spec: dict[str, Any], client: FlaskClient
) -> None:
    """GeoReport v2: an optional argument sent empty is the same as one not sent."""
    operation = spec["paths"]["/open311/v2/requests.{response_format}"]["get"]
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert re.search(status["schema"]["pattern"], "") and re.search(
        status["schema"]["pattern"], "open,closed"
    )
    assert not re.search(status["schema"]["pattern"], "pending")
    assert client.get("/open311/v2/requests.json?status=&start_date=").status_code == 200


def test_a_status_the_code_can_answer_is_declared_even_if_the_route_forgot_it() -> None:
    """GET /me lists no 404, but its service can answer 404 not_found (an account deleted
    while its token lives): the spec declares it, as a problem response with its code."""
    from binjai_api.openapi import _VIEW_KEY, _declare_walked_statuses

    view = "binjai_api.auth.routes:MeView.get"
    responses: dict[str, Any] = {"200": {"description": "OK"}, "429": {_VIEW_KEY: view}}
    _declare_walked_statuses(responses)
    assert "404" in responses
    assert responses["404"][_VIEW_KEY] == view
    assert list(responses) == sorted(responses)


def test_every_status_found_in_the_code_is_in_the_committed_spec(spec: dict[str, Any]) -> None:
    me = spec["paths"]["/api/v1/me"]["get"]["responses"]
    assert me["404"]["x-problem-codes"] == ["not_found"]
    reactivate = spec["paths"]["/api/v1/admin/accounts/{account_id}/reactivate"]["post"]
    assert "409" in reactivate["responses"]
