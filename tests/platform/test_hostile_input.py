"""No input answers a 5xx (issue 15, point 2): page numbers past the maximum, JSON nested a
thousand levels deep, lone surrogates, invalid UTF-8; and credentials are checked before any
body is judged (401 before 415, 422 or 400). Both passes of `make test` run this file.

What gunicorn itself refuses (over-long request lines and headers) is tested under a real
gunicorn in tests/platform/test_sqlite_under_gunicorn.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.enums import ApiScope
from binjai_api.page_bounds import MAX_PAGE
from tests.platform.test_errors import assert_problem
from tests.webhooks.conftest import make_integrator

pytestmark = pytest.mark.usefixtures("rollback_db")

HUGE_PAGE = "100000000000000000000"
# Required query parameters of some lists, so that only `page` is wrong.
REQUIRED_QUERY = {"/api/v1/complaints/nearby": "&lat=3.6&lon=98.48"}
ROLES = ("citizen", "officer", "operator", "admin")


def _spec(client: FlaskClient) -> dict[str, Any]:
    return dict(client.get("/api/v1/openapi.json").get_json())


def _concrete(path: str) -> str:
    """A spec path with every parameter filled in (ids that exist nowhere)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "response_format":
            return "json"
        if name.endswith("_id") or name == "id":
            return str(uuid.uuid4())
        return "x"

    return re.sub(r"\{([^}]+)\}", value, path)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _lists(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, parameter)
        for method, path, operation in _operations(spec)
        for parameter in operation.get("parameters", [])
        if method == "GET" and parameter.get("name") == "page" and parameter.get("in") == "query"
    ]


def test_every_page_parameter_has_a_maximum_in_the_spec(client: FlaskClient) -> None:
    lists = _lists(_spec(client))
    assert len(lists) >= 20
    unbounded = [path for path, p in lists if not 1 <= p["schema"].get("maximum", 0) <= MAX_PAGE]
    assert unbounded == []
    # The lists paged by flask-smorest all share the one maximum.
    assert {p["schema"]["maximum"] for path, p in lists if path.startswith("/api/")} == {MAX_PAGE}


def test_a_page_past_the_maximum_is_refused_on_every_list(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    """Each list refuses a page past its maximum (422 naming `page`; Open311 answers 400 in its
    own format) to whoever may read it, and answers no 5xx to anyone. An integrator holding
    every scope reads the lists only API clients may (their webhook endpoints)."""
    headers = {"anonymous": {}, **{role: auth_headers(role) for role in ROLES}}
    headers["integrator"] = make_integrator(app, client, [str(scope) for scope in ApiScope]).headers
    refused = {}
    for path, parameter in _lists(_spec(client)):
        statuses = {}
        for who, sent in headers.items():
            for page in (HUGE_PAGE, str(parameter["schema"]["maximum"] + 1)):
                url = f"{_concrete(path)}?page={page}{REQUIRED_QUERY.get(path, '')}"
                response = client.get(url, headers=sent)
                assert response.status_code < 500, (path, who, response.get_data(as_text=True))
                if response.status_code == 422:
                    assert "page" in response.get_json()["errors"]["query"]
                statuses[who, page] = response.status_code
        invalid = 400 if path.startswith("/open311/") else 422
        refused[path] = all(
            any(status == invalid for (_, page), status in statuses.items() if page == sent_page)
            for sent_page in {page for _, page in statuses}
        )
    assert refused == {path: True for path in refused}


def test_the_last_allowed_page_is_answered(client: FlaskClient) -> None:
    response = client.get(f"/api/v1/public/complaints?page={MAX_PAGE}")
    assert response.status_code == 200
    assert response.get_json() == []


DEEP_JSON = "[" * 1000 + "]" * 1000  # 2 KB


@pytest.mark.parametrize(
    "body",
    [DEEP_JSON, '{"a":' * 1000 + "1" + "}" * 1000, '{"full_name": ' + "[" * 40 + "]" * 40 + "}"],
    ids=["lists-1000", "objects-1000", "lists-40"],
)
def test_json_nested_too_deeply_is_a_400(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]], body: str
) -> None:
    for method, path, headers in (
        ("POST", "/api/v1/auth/login", {}),
        ("POST", "/api/v1/auth/register", {}),
        ("PATCH", "/api/v1/me", auth_headers()),
    ):
        response = client.open(
            path, method=method, data=body, content_type="application/json", headers=headers
        )
        problem = assert_problem(response, 400, "json_too_deep")
        assert "32" in problem["detail"]


def test_json_nested_within_the_limit_is_judged_by_the_schema(client: FlaskClient) -> None:
    body = '{"username": ' + "[" * 30 + "]" * 30 + ', "password": "x"}'
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_problem(response, 422, "validation_error")


def test_a_deep_body_without_credentials_is_a_401(client: FlaskClient) -> None:
    response = client.patch("/api/v1/me", data=DEEP_JSON, content_type="application/json")
    assert_problem(response, 401, "missing_token")


SURROGATE_MESSAGE = "Teks tidak boleh memuat karakter surrogate tanpa pasangan."


def test_a_lone_surrogate_in_a_profile_change_is_a_422(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    response = client.patch(
        "/api/v1/me",
        data='{"full_name": "a\\udcff"}',
        content_type="application/json",
        headers=auth_headers(),
    )
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == {"json": {"full_name": [SURROGATE_MESSAGE]}}


def test_lone_surrogates_anywhere_in_a_json_body_are_refused(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    headers = auth_headers()
    for body, field in (
        ('{"full_name": ["ok", {"x": "\\ud800"}]}', "full_name"),
        ('{"\\udfff": "a"}', "\ufffd"),
        ('"\\ud83d"', "_schema"),
    ):
        response = client.patch(
            "/api/v1/me", data=body, content_type="application/json", headers=headers
        )
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"] == {"json": {field: [SURROGATE_MESSAGE]}}


def test_a_surrogate_pair_is_one_character_and_accepted(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    response = client.patch(
        "/api/v1/me",
        data='{"full_name": "Siti \\ud83d\\ude00"}',
        content_type="application/json",
        headers=auth_headers(),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["full_name"] == "Siti \U0001f600"


def test_a_lone_surrogate_in_english_is_explained_in_english(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    response = client.patch(
        "/api/v1/me",
        data='{"full_name": "a\\udcff"}',
        content_type="application/json",
        headers={**auth_headers(), "Accept-Language": "en"},
    )
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"]["json"]["full_name"] == [
        "Text cannot contain unpaired surrogate characters."
    ]


@pytest.mark.parametrize(
    "body",
    [b'{"username": "\xff\xfe", "password": "x"}', b"\xc3"],
    ids=["invalid-bytes", "truncated"],
)
def test_invalid_utf8_in_a_json_body_is_a_400(client: FlaskClient, body: bytes) -> None:
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_a_surrogate_encoded_in_utf8_bytes_is_refused_like_an_escaped_one(
    client: FlaskClient,
) -> None:
    """Python's JSON reader lets UTF-8-encoded surrogates through (`surrogatepass`)."""
    response = client.post(
        "/api/v1/auth/login",
        data=b'{"username": "\xed\xb3\xbf", "password": "x"}',
        content_type="application/json",
    )
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == {"json": {"username": [SURROGATE_MESSAGE]}}


def test_invalid_utf8_in_query_and_form_fields_is_no_5xx(client: FlaskClient) -> None:
    response = client.get("/api/v1/public/complaints?kecamatan_code=%ff%fe%ed%b3%bf")
    assert response.status_code == 422
    response = client.post(
        "/open311/v2/requests.json",
        data=b"api_key=%ff&service_code=%ed%b3%bf",
        content_type="application/x-www-form-urlencoded",
    )
    assert 400 <= response.status_code < 500


BAD_BODY = {"\x00": "\x00", "page": HUGE_PAGE, "x": "a\udcff", "nested": [[[[]]]]}


def test_every_protected_operation_answers_401_before_judging_the_body(
    client: FlaskClient, app: Flask
) -> None:
    """No token, or a forged one, with a body that is wrong in every way (or of the wrong media
    type): 401 on every operation that needs credentials, never 415, 422 or 400."""
    protected = [
        (method, path)
        for method, path, operation in _operations(_spec(client))
        if operation.get("security") != []
    ]
    assert len(protected) > 40
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"}
    answers = {}
    for method, path in protected:
        url = _concrete(path) + "?page=" + HUGE_PAGE
        for headers in ({}, forged):
            json_response = client.open(url, method=method, json=BAD_BODY, headers=headers)
            form_response = client.open(url, method=method, data={"file": "x\x00"}, headers=headers)
            answers[method, path, bool(headers)] = (
                json_response.status_code,
                form_response.status_code,
            )
            for response in (json_response, form_response):
                assert response.mimetype == "application/problem+json"
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert {key: status for key, status in answers.items() if status != (401, 401)} == {}


def test_a_citizen_on_a_staff_operation_is_a_403_before_the_body_is_judged(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    response = client.post("/api/v1/agencies", json={"code": "\x00"}, headers=auth_headers())
    assert_problem(response, 403, "forbidden")
