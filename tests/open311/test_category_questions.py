"""A category's questions as Open311 attributes (GeoReport v2 service definitions), answered with
`attribute[code]=value` in a POST, with the same checks and the same emergency stop."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.complaints.conftest import Person
from tests.open311.test_open311 import BASE, assert_open311_error, post_request, xml

FORM: dict[str, Any] = {
    "questions": [
        {
            "code": "depth",
            "kind": "number",
            "label": "Kedalaman air",
            "label_en": "Water depth",
            "required": True,
            "min": 0,
            "max": 500,
            "unit": "cm",
        },
        {
            "code": "lives_at_risk",
            "kind": "yes_no",
            "label": "Nyawa terancam?",
            "label_en": "Lives at risk?",
            "stop_values": ["true"],
            "stop_message": "Darurat? Hubungi 112.",
            "stop_message_en": "Emergency? Call 112.",
        },
        {
            "code": "source",
            "kind": "choice",
            "label": "Sumber air",
            "label_en": "Source of the water",
            "choices": [
                {"value": "rain", "label": "Hujan", "label_en": "Rain"},
                {"value": "river", "label": "Sungai", "label_en": "River"},
            ],
        },
        {"code": "since", "kind": "date", "label": "Sejak", "label_en": "Since"},
        {
            "code": "landmark",
            "kind": "text",
            "label": "Patokan",
            "label_en": "Landmark",
            "private": True,
        },
    ]
}


def _set_form(client: FlaskClient, operator: Person, category_id: str) -> None:
    response = client.put(
        f"/api/v1/complaint-categories/{category_id}/form", headers=operator.headers, json=FORM
    )
    assert response.status_code == 200, response.get_json()


def test_the_questions_are_attributes_of_the_service_definition(
    client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    _set_form(client, operator, categories["drainage"])
    definition = client.get(
        f"{BASE}/services/drainage.json", headers={"Accept-Language": "en"}
    ).get_json()
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert list(attributes)[4:] == ["depth", "lives_at_risk", "source", "since", "landmark"]
    depth = attributes["depth"]
    assert depth == {
        "variable": True,
        "code": "depth",
        "datatype": "number",
        "required": True,
        "datatype_description": "A number from 0 to 500 (cm)",
        "order": 5,
        "description": "Water depth",
        "values": [],
    }
    assert attributes["lives_at_risk"]["datatype"] == "singlevaluelist"
    assert [v["key"] for v in attributes["lives_at_risk"]["values"]] == ["true", "false"]
    assert attributes["source"]["values"] == [
        {"key": "rain", "name": "Rain"},
        {"key": "river", "name": "River"},
    ]
    assert attributes["since"]["datatype"] == "datetime"
    assert attributes["landmark"]["datatype"] == "text"
    assert attributes["landmark"]["description"] == "Landmark (seen by staff only)"
    assert [a["order"] for a in definition["attributes"]] == list(range(1, 10))
    root = xml(client.get(f"{BASE}/services/drainage.xml"))
    codes = [a.findtext("code") for a in root.iterfind("attributes/attribute")]
    assert codes[4:] == ["depth", "lives_at_risk", "source", "since", "landmark"]


def test_an_integrator_answers_with_attributes(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person, api_key: str
) -> None:
    _set_form(client, operator, categories["drainage"])
    fields = {"service_code": "drainage", "attribute[depth]": "35", "attribute[source]": "rain"}
    created = post_request(
        client,
        api_key,
        **fields,
        **{"attribute[since]": "2026-12-01", "attribute[landmark]": "Depan masjid"},
    )
    assert created.status_code == 201, created.data
    token = created.get_json()[0]["token"]
    detail = client.get(f"/api/v1/complaints/{token}", headers=operator.headers).get_json()
    assert detail["channel"] == "open311"
    answers = {a["code"]: a["value"] for a in detail["answers"]}
    assert answers == {
        "depth": 35,
        "source": "rain",
        "since": "2026-12-01",
        "landmark": "Depan masjid",
    }
    public = client.get(f"/api/v1/public/complaints/{token}").get_json()
    assert {a["code"] for a in public["answers"]} == {"depth", "source", "since"}
    missing = post_request(client, api_key, service_code="drainage")
    assert "answers.depth" in assert_open311_error(missing, 400)
    wrong = post_request(client, api_key, **{**fields, "attribute[source]": "sea"})
    assert "answers.source" in assert_open311_error(wrong, 400)


def test_an_attribute_answer_can_stop_the_request(
    client: FlaskClient, categories: dict[str, str], operator: Person, api_key: str
) -> None:
    _set_form(client, operator, categories["drainage"])
    stopped = post_request(
        client,
        api_key,
        service_code="drainage",
        **{"attribute[lives_at_risk]": "true", "attribute[depth]": "80"},
    )
    assert assert_open311_error(stopped, 400) == "Darurat? Hubungi 112."
