"""Admins: staff accounts, roles, deactivation and integrators' API clients."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.platform.test_errors import assert_problem

STAFF = "/api/v1/admin/staff"


def staff_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "full_name": "Budi Santoso",
        "email": "budi@pupr.binjaikota.go.id",
        "password": "Petugas-PUPR-2026",
        "role": "operator",
    }
    return body | overrides


def test_admin_creates_an_officer_of_an_agency(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    agency = factories.agency_id(app, "PUPR")
    response = client.post(
        STAFF, headers=auth_headers("admin"), json=staff_body(role="officer", agency_id=agency)
    )
    assert response.status_code == 201
    assert response.get_json()["agency"]["code"] == "PUPR"
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "budi@pupr.binjaikota.go.id", "password": "Petugas-PUPR-2026"},
    )
    assert login.status_code == 200


def test_an_officer_without_agency_is_a_422(client: FlaskClient, auth_headers: Any) -> None:
    response = client.post(STAFF, headers=auth_headers("admin"), json=staff_body(role="officer"))
    assert list(assert_problem(response, 422, "validation_error")["errors"]["json"]) == [
        "agency_id"
    ]


@pytest.mark.parametrize("role", ["citizen", "officer", "operator"])
def test_only_admins_create_staff(client: FlaskClient, auth_headers: Any, role: str) -> None:
    assert_problem(
        client.post(STAFF, headers=auth_headers(role), json=staff_body()), 403, "forbidden"
    )


def test_admin_lists_accounts_with_personal_data_masked(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    citizen = factories.make_account(app)
    response = client.get(
        "/api/v1/admin/accounts?role=citizen&page_size=100", headers=auth_headers("admin")
    )
    assert response.status_code == 200
    assert "X-Pagination" in response.headers
    listed = {a["id"]: a for a in response.get_json()}
    assert citizen.id in listed
    assert listed[citizen.id]["phone"].startswith("****")
    assert listed[citizen.id]["nik"].startswith("****")


def test_admin_changes_a_staff_role(app: Flask, client: FlaskClient, auth_headers: Any) -> None:
    officer = factories.make_account(app, "officer")
    officer_headers = factories.login_headers(client, officer)
    assert client.get("/api/v1/admin/accounts", headers=officer_headers).status_code == 403
    response = client.patch(
        f"/api/v1/admin/accounts/{officer.id}",
        headers=auth_headers("admin"),
        json={"role": "admin"},
    )
    assert response.status_code == 200
    # the current role counts, not the one frozen in the token
    assert client.get("/api/v1/admin/accounts", headers=officer_headers).status_code == 200


def test_a_citizen_cannot_be_made_staff(app: Flask, client: FlaskClient, auth_headers: Any) -> None:
    citizen = factories.make_account(app)
    response = client.patch(
        f"/api/v1/admin/accounts/{citizen.id}",
        headers=auth_headers("admin"),
        json={"role": "operator"},
    )
    assert_problem(response, 409, "not_staff")


@pytest.mark.parametrize(
    ("method", "suffix", "body", "code"),
    [
        ("POST", "/deactivate", None, "cannot_deactivate_self"),
        ("PATCH", "", {"role": "operator"}, "cannot_change_own_role"),
    ],
)
def test_admin_cannot_lock_themself_out(
    app: Flask, client: FlaskClient, method: str, suffix: str, body: Any, code: str
) -> None:
    admin = factories.make_account(app, "admin")
    response = client.open(
        f"/api/v1/admin/accounts/{admin.id}{suffix}",
        method=method,
        headers=factories.login_headers(client, admin),
        json=body,
    )
    assert_problem(response, 409, code)


def test_unknown_account_is_a_404(client: FlaskClient, auth_headers: Any, new_id: Any) -> None:
    response = client.post(
        f"/api/v1/admin/accounts/{new_id()}/deactivate", headers=auth_headers("admin")
    )
    assert_problem(response, 404, "not_found")


def _new_client(client: FlaskClient, admin: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/admin/api-clients",
        headers=admin,
        json={"name": "SP4N-LAPOR! bridge", "scopes": scopes},
    )
    assert response.status_code == 201
    return dict(response.get_json())


def _request_token(client: FlaskClient, created: dict[str, Any], **fields: str) -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
        **fields,
    }
    return client.post("/api/v1/auth/token", data=form)


def test_client_credentials_give_a_scoped_token(client: FlaskClient, auth_headers: Any) -> None:
    admin = auth_headers("admin")
    created = _new_client(client, admin, ["complaints:read", "ops:read"])
    assert created["client_secret"]
    listed = client.get("/api/v1/admin/api-clients", headers=admin).get_json()
    assert all("client_secret" not in c for c in listed)  # shown once only
    response = _request_token(client, created, scope="ops:read")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "ops:read"
    assert response.get_json()["token_type"] == "Bearer"
    # an integrator's token is not a person's: /me refuses it
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.get_json()['access_token']}"}
    )
    assert_problem(me, 403, "forbidden")


def test_client_credentials_by_http_basic(client: FlaskClient, auth_headers: Any) -> None:
    created = _new_client(client, auth_headers("admin"), ["complaints:read"])
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
    )
    assert response.status_code == 200
    assert response.get_json()["scope"] == "complaints:read"


def test_wrong_secret_and_unknown_scope(client: FlaskClient, auth_headers: Any) -> None:
    created = _new_client(client, auth_headers("admin"), ["complaints:read"])
    assert_problem(_request_token(client, created, client_secret="nope"), 401, "invalid_client")
    assert_problem(_request_token(client, created, scope="ops:read"), 403, "invalid_scope")
    bad_grant = client.post("/api/v1/auth/token", data={"grant_type": "password"})
    assert_problem(bad_grant, 422, "validation_error")


def test_deactivated_client_token_stops_at_once(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    admin = auth_headers("admin")
    created = _new_client(client, admin, ["complaints:read"])
    token = _request_token(client, created).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 403  # valid, wrong kind
    client.post(f"/api/v1/admin/api-clients/{created['id']}/deactivate", headers=admin)
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "token_revoked")


def test_unknown_scope_at_creation_is_a_422(client: FlaskClient, auth_headers: Any) -> None:
    response = client.post(
        "/api/v1/admin/api-clients",
        headers=auth_headers("admin"),
        json={"name": "x-bridge", "scopes": ["everything"]},
    )
    assert_problem(response, 422, "validation_error")
