"""The catalog of permit types: public to read, kept by admins, with demo data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.licensing import service
from tests.licensing.helpers import permit_type_body
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")
TYPES = "/api/v1/permit-types"


def test_the_demo_catalog_has_the_four_permits_and_is_public(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        assert service.seed_demo_permit_types() == 4
        assert service.seed_demo_permit_types() == 0  # loading twice adds nothing
    listed = {t["code"]: t for t in client.get(f"{TYPES}?page_size=100").get_json()}
    assert {"SIP", "REKLAME", "PENELITIAN", "PBG"} <= set(listed)
    pbg = listed["PBG"]
    assert pbg["is_demo"] is True
    assert pbg["levy_idr"] == 1500000
    assert pbg["step_deadlines"]["technical_review"] == 10
    assert pbg["technical_agency_id"] is not None
    assert listed["PENELITIAN"]["levy_idr"] is None
    assert listed["PENELITIAN"]["technical_agency_id"] is None
    sip = client.get(f"{TYPES}/{listed['SIP']['id']}")
    assert sip.status_code == 200 and sip.headers["ETag"]
    assert {r["code"] for r in sip.get_json()["document_requirements"]} >= {"ktp", "str"}


def test_admins_add_and_change_permit_types(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin = auth_headers("admin")
    body = permit_type_body(app, code="tdup")
    created = client.post(TYPES, headers=admin, json=body)
    assert created.status_code == 201, created.get_json()
    permit_type = created.get_json()
    assert permit_type["code"] == "TDUP"
    assert permit_type["form_fields"][0]["type"] == "text"
    assert permit_type["document_requirements"][0]["accepted_types"] == [
        "application/pdf",
        "image/png",
    ]
    changed = client.patch(
        f"{TYPES}/{permit_type['id']}", headers=admin, json={"levy_idr": None, "is_active": False}
    )
    assert changed.status_code == 200
    assert changed.get_json()["levy_idr"] is None
    assert permit_type["id"] not in [t["id"] for t in client.get(TYPES).get_json()]
    # Nested entries are replaced whole, and must be complete.
    response = client.patch(
        f"{TYPES}/{permit_type['id']}",
        headers=admin,
        json={"step_deadlines": {"verification": 3}, "form_fields": [{"code": "nama"}]},
    )
    problem = assert_problem(response, 422, "validation_error")
    assert {path.split(".")[0] for path in problem["errors"]["json"]} == {
        "step_deadlines",
        "form_fields",
    }
    assert_problem(client.post(TYPES, headers=admin, json=body), 409, "permit_type_code_taken")


def test_permit_types_are_checked(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin = auth_headers("admin")
    body = permit_type_body(app)
    del body["step_deadlines"]["technical_review"]
    problem = assert_problem(client.post(TYPES, headers=admin, json=body), 422, "validation_error")
    assert any(path.split(".")[0] == "step_deadlines" for path in problem["errors"]["json"])

    body = permit_type_body(app)
    body["technical_agency_id"] = "5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11"
    problem = assert_problem(client.post(TYPES, headers=admin, json=body), 422, "validation_error")
    assert "technical_agency_id" in problem["errors"]["json"]

    body = permit_type_body(app)
    body["document_requirements"].append(dict(body["document_requirements"][0]))
    body["form_fields"].append(dict(body["form_fields"][0]))
    problem = assert_problem(client.post(TYPES, headers=admin, json=body), 422, "validation_error")
    assert {path.split(".")[0] for path in problem["errors"]["json"]} == {
        "document_requirements",
        "form_fields",
    }

    body = permit_type_body(app)
    body["form_fields"][0]["type"] = "choice"  # without its choices
    response = client.post(TYPES, headers={**admin, "Accept-Language": "en"}, json=body)
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"]["json"] == {
        "form_fields.0.choices": ["A choice field needs its choices."]
    }


def test_only_admins_manage_permit_types(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    body = permit_type_body(app)
    officer = auth_headers("officer", agency_code="DPMPTSP")
    assert_problem(client.post(TYPES, headers=officer, json=body), 403, "forbidden")
    assert_problem(client.post(TYPES, json=body), 401, "missing_token")
