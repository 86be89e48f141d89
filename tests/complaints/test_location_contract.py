"""The spec says what a report needs to locate it, and both of its examples are accepted."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.schemas import COMPLAINT_EXAMPLES
from tests.complaints.conftest import Person
from tests.platform.test_errors import assert_problem


def _operation(app: Flask) -> dict[str, Any]:
    with app.test_request_context():
        from binjai_api.extensions import api

        spec = api.spec.to_dict()
    return dict(spec["paths"]["/api/v1/complaints"]["post"])


def test_the_spec_states_the_location_rule_with_an_example_of_each_way(app: Flask) -> None:
    body = _operation(app)["requestBody"]
    assert "a point (`lat` and `lon` together" in body["description"]
    assert "`address`" in body["description"]
    examples = body["content"]["application/json"]["examples"]
    assert set(examples) == {"point", "address"}
    point, address = examples["point"]["value"], examples["address"]["value"]
    assert {"lat", "lon"} <= set(point) and "address" not in point
    assert "address" in address and not {"lat", "lon"} & set(address)


@pytest.mark.parametrize("way", ["point", "address"])
def test_each_example_is_a_report_the_api_accepts(
    client: FlaskClient, categories: dict[str, str], resident: Person, way: str
) -> None:
    body = {**COMPLAINT_EXAMPLES[way]["value"], "category_id": categories["road_damage"]}
    response = client.post("/api/v1/complaints", headers=resident.headers, json=body)
    assert response.status_code == 201, response.get_json()


def test_a_report_without_a_location_names_the_address(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    body = {**COMPLAINT_EXAMPLES["address"]["value"], "category_id": categories["road_damage"]}
    del body["address"]
    problem = assert_problem(
        client.post("/api/v1/complaints", headers=resident.headers, json=body),
        422,
        "validation_error",
    )
    assert "address" in str(problem["errors"])
