"""The agency catalog: public to read, admins to change."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.platform.test_errors import assert_problem

NEW_AGENCY = {
    "code": "bappeda",
    "name": "Badan Perencanaan Pembangunan Daerah",
    "name_en": "Regional Development Planning Agency",
}


def test_anyone_lists_the_demo_agencies(client: FlaskClient) -> None:
    response = client.get("/api/v1/agencies?page_size=100")
    assert response.status_code == 200
    codes = [agency["code"] for agency in response.get_json()]
    assert {"DPMPTSP", "DINKES", "PUPR", "DISKOMINFO"} <= set(codes)
    assert codes == sorted(codes)
    assert all(agency["is_demo"] for agency in response.get_json())


def test_pagination_follows_the_conventions(client: FlaskClient) -> None:
    import json

    response = client.get("/api/v1/agencies?page=2&page_size=5")
    assert len(response.get_json()) == 5
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["page"] == 2 and meta["total"] == 12 and meta["total_pages"] == 3
    assert client.get("/api/v1/agencies?page_size=101").status_code == 422
    assert client.get("/api/v1/agencies?page=0").status_code == 422
    default = client.get("/api/v1/agencies")
    assert json.loads(default.headers["X-Pagination"])["total_pages"] == 1  # default size 20


def test_admin_adds_and_changes_an_agency(client: FlaskClient, auth_headers: Any) -> None:
    admin = auth_headers("admin")
    created = client.post("/api/v1/agencies", headers=admin, json=NEW_AGENCY)
    assert created.status_code == 201
    agency = created.get_json()
    assert agency["code"] == "BAPPEDA" and agency["is_demo"] is False
    read = client.get(f"/api/v1/agencies/{agency['id']}")
    assert read.status_code == 200 and read.headers["ETag"]
    assert (
        client.get(
            f"/api/v1/agencies/{agency['id']}", headers={"If-None-Match": read.headers["ETag"]}
        ).status_code
        == 304
    )
    changed = client.patch(
        f"/api/v1/agencies/{agency['id']}",
        headers={**admin, "If-Match": read.headers["ETag"]},
        json={"is_active": False},
    )
    assert changed.status_code == 200 and changed.get_json()["is_active"] is False
    listed = [a["code"] for a in client.get("/api/v1/agencies?page_size=100").get_json()]
    assert "BAPPEDA" not in listed
    with_inactive = client.get("/api/v1/agencies?page_size=100&include_inactive=true")
    assert "BAPPEDA" in [a["code"] for a in with_inactive.get_json()]


def test_duplicate_code_is_a_409(client: FlaskClient, auth_headers: Any) -> None:
    response = client.post(
        "/api/v1/agencies", headers=auth_headers("admin"), json={**NEW_AGENCY, "code": "pupr"}
    )
    assert_problem(response, 409, "agency_code_taken")


def test_only_admins_change_the_catalog(client: FlaskClient, auth_headers: Any) -> None:
    for role in ("citizen", "officer", "operator"):
        response = client.post("/api/v1/agencies", headers=auth_headers(role), json=NEW_AGENCY)
        assert_problem(response, 403, "forbidden")
    assert_problem(client.post("/api/v1/agencies", json=NEW_AGENCY), 401, "missing_token")


def test_unknown_agency_is_a_404(client: FlaskClient, new_id: Any) -> None:
    assert_problem(client.get(f"/api/v1/agencies/{new_id()}"), 404, "not_found")
    assert_problem(client.get("/api/v1/agencies/not-a-uuid"), 404, "not_found")


def test_sorting_is_whitelisted(client: FlaskClient) -> None:
    by_name = [
        a["name"] for a in client.get("/api/v1/agencies?sort=-name&page_size=100").get_json()
    ]
    assert by_name == sorted(by_name, reverse=True)
    assert_problem(client.get("/api/v1/agencies?sort=description"), 422, "validation_error")


def test_updated_after_returns_only_later_changes(client: FlaskClient, auth_headers: Any) -> None:
    everything = client.get("/api/v1/agencies?page_size=100").get_json()
    newest = max(agency["updated_at"] for agency in everything)
    assert client.get(f"/api/v1/agencies?updated_after={newest}").get_json() == []
    admin = auth_headers("admin")
    pupr = next(a for a in everything if a["code"] == "PUPR")
    client.patch(
        f"/api/v1/agencies/{pupr['id']}", headers=admin, json={"description": "Jalan dan drainase"}
    )
    changed = client.get(f"/api/v1/agencies?updated_after={newest}").get_json()
    assert [a["code"] for a in changed] == ["PUPR"]
    naive = client.get("/api/v1/agencies?updated_after=2026-01-01T00:00:00")
    assert_problem(naive, 422, "validation_error")
