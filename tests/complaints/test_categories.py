"""The category catalog: public to read, kept by admins; a new category routes new reports."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.agencies import service as agencies_service
from binjai_api.extensions import db
from tests.complaints.conftest import Person
from tests.complaints.helpers import submit
from tests.platform.test_errors import assert_problem


def agency_id(app: Flask, code: str) -> str:
    with app.app_context():
        found = db.session.scalars(agencies_service.agencies_query(include_inactive=True))
        return next(str(agency.id) for agency in found if agency.code == code)


def new_category(app: Flask, **overrides: object) -> dict[str, object]:
    return {
        "code": "illegal_parking",
        "name": "Parkir liar",
        "name_en": "Illegal parking",
        "agency_id": agency_id(app, "DISHUB"),
        "follow_up_days": 3,
        **overrides,
    }


def test_admins_add_and_change_categories_and_new_reports_follow_them(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    auth_headers: Callable[..., dict[str, str]],
    resident: Person,
) -> None:
    admin = auth_headers("admin")
    created = client.post("/api/v1/complaint-categories", json=new_category(app), headers=admin)
    assert created.status_code == 201, created.get_json()
    category = created.get_json()
    assert (category["code"], category["follow_up_days"], category["is_demo"]) == (
        "illegal_parking",
        3,
        False,
    )
    listed = client.get("/api/v1/complaint-categories?page_size=100").get_json()
    assert "illegal_parking" in {c["code"] for c in listed}
    report = submit(client, resident.headers, category["id"])
    assert report["agency_code"] == "DISHUB"

    satpol = agency_id(app, "SATPOLPP")
    item = client.get(f"/api/v1/complaint-categories/{category['id']}")
    changed = client.patch(
        f"/api/v1/complaint-categories/{category['id']}",
        json={"agency_id": satpol, "is_active": False},
        headers={**admin, "If-Match": item.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["agency_id"] == satpol
    listed = client.get("/api/v1/complaint-categories?page_size=100").get_json()
    assert "illegal_parking" not in {c["code"] for c in listed}  # inactive: hidden
    stale = client.patch(
        f"/api/v1/complaint-categories/{category['id']}",
        json={"follow_up_days": 4},
        headers={**admin, "If-Match": item.headers["ETag"]},
    )
    assert_problem(stale, 412, "precondition_failed")


def test_category_rules_codes_agencies_and_roles(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    admin = auth_headers("admin")
    taken = client.post(
        "/api/v1/complaint-categories", json=new_category(app, code="road_damage"), headers=admin
    )
    assert_problem(taken, 409, "category_code_taken")
    unknown_agency = new_category(app, agency_id="00000000-0000-4000-8000-000000000000")
    assert_problem(
        client.post("/api/v1/complaint-categories", json=unknown_agency, headers=admin),
        422,
        "validation_error",
    )
    not_a_path = new_category(app, code="Parkir Liar/1")
    assert_problem(
        client.post("/api/v1/complaint-categories", json=not_a_path, headers=admin),
        422,
        "validation_error",
    )
    for role in ("operator", "officer", "citizen"):
        headers = (
            auth_headers(role, agency_code="DISHUB") if role == "officer" else auth_headers(role)
        )
        assert_problem(
            client.post("/api/v1/complaint-categories", json=new_category(app), headers=headers),
            403,
            "forbidden",
        )
    road = categories["road_damage"]
    assert_problem(
        client.patch(
            f"/api/v1/complaint-categories/{road}",
            json={"code": "drainage"},
            headers=admin,
        ),
        409,
        "category_code_taken",
    )
