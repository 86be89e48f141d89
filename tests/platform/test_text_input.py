"""A NUL character anywhere in a request is a 422 naming the field, never a 500 from PostgreSQL
(this file runs in both passes of `make test`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")
MESSAGE = "Teks tidak boleh memuat karakter NUL."  # Indonesian, the default language


def test_a_nul_in_a_query_field_is_refused(client: FlaskClient) -> None:
    response = client.get("/api/v1/public/complaints?kecamatan_code=12.75%0001")
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == {"query": {"kecamatan_code": [MESSAGE]}}


def test_a_nul_in_a_path_segment_is_refused(client: FlaskClient) -> None:
    response = client.get("/open311/v2/requests/BJI-2026-%0001.json")
    # Open311 speaks its own error shape: invalid input is a 400 there.
    assert response.status_code == 400
    assert "service_request_id" in response.get_json()[0]["description"]


def test_a_nul_anywhere_in_a_json_body_is_refused(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    response = client.post(
        "/api/v1/agencies",
        json={
            "code": "BAPPEDA",
            "name": "Bappeda",
            "name_en": "Planning\x00",
            "x": {"y": ["\x00"]},
        },
        headers=auth_headers("admin"),
    )
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == {"json": {"name_en": [MESSAGE], "x": [MESSAGE]}}


def test_a_nul_in_a_form_field_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/open311/v2/requests.json",
        data={"api_key": "a:b", "service_code": "road\x00damage"},
    )
    assert response.status_code == 400
    assert "service_code" in response.get_json()[0]["description"]
