"""Login, token refresh with rotation and reuse detection, logout, password change."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests import factories, second_instance
from tests.auth.test_refresh_grace import age_last_rotation
from tests.platform.test_errors import assert_problem

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_a_bearer_pair(app: Flask, client: FlaskClient) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.get_json()["id"] == account.id


def test_unknown_user_and_wrong_password_answer_alike(app: Flask, client: FlaskClient) -> None:
    account = factories.make_account(app)
    wrong_password = client.post(
        LOGIN, json={"username": account.username, "password": "Salah-Sekali-99"}
    )
    unknown_user = client.post(
        LOGIN, json={"username": "081999999999", "password": "Salah-Sekali-99"}
    )
    for response in (wrong_password, unknown_user):
        assert_problem(response, 401, "invalid_credentials")
    strip = lambda r: {k: v for k, v in r.get_json().items() if k != "request_id"}  # noqa: E731
    assert strip(wrong_password) == strip(unknown_user)


def test_refresh_rotates_and_the_old_token_is_spent(app: Flask, client: FlaskClient) -> None:
    tokens = factories.login(client, factories.make_account(app))
    rotated = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    new = rotated.get_json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(new["access_token"])).status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    app: Flask, client: FlaskClient
) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    new = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).get_json()
    age_last_rotation(app, account.id, 60)  # past the grace (tests/auth/test_refresh_grace.py)
    replay = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_problem(replay, 401, "refresh_token_reused")
    # every descendant is dead too: the newer refresh token and the access tokens
    assert_problem(
        client.post(REFRESH, json={"refresh_token": new["refresh_token"]}), 401, "token_revoked"
    )
    assert_problem(
        client.get("/api/v1/me", headers=bearer(new["access_token"])), 401, "token_revoked"
    )


def test_reuse_revokes_only_that_family(app: Flask, client: FlaskClient) -> None:
    account = factories.make_account(app)
    phone_session = factories.login(client, account)
    tablet_session = factories.login(client, account)
    client.post(REFRESH, json={"refresh_token": phone_session["refresh_token"]})
    age_last_rotation(app, account.id, 60)
    reuse = client.post(REFRESH, json={"refresh_token": phone_session["refresh_token"]})
    assert_problem(reuse, 401, "refresh_token_reused")
    me = client.get("/api/v1/me", headers=bearer(tablet_session["access_token"]))
    assert me.status_code == 200


def test_access_token_is_not_a_refresh_token(app: Flask, client: FlaskClient) -> None:
    tokens = factories.login(client, factories.make_account(app))
    response = client.post(REFRESH, json={"refresh_token": tokens["access_token"]})
    assert_problem(response, 401, "invalid_token")


def test_logout_ends_the_session_at_once(app: Flask, client: FlaskClient) -> None:
    tokens = factories.login(client, factories.make_account(app))
    assert (
        client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code
        == 204
    )
    assert_problem(
        client.get("/api/v1/me", headers=bearer(tokens["access_token"])), 401, "token_revoked"
    )
    assert_problem(
        client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401, "token_revoked"
    )


def test_logout_is_honoured_by_another_instance(
    app: Flask, committed_db: None, database_url: str
) -> None:
    """Revocation lives in the shared database: a second instance, in its own process, refuses
    the token as soon as the first has logged it out."""
    client = app.test_client()
    tokens = factories.login(client, factories.make_account(app))
    me = {"path": "/api/v1/me", "headers": bearer(tokens["access_token"])}
    assert second_instance.run(database_url, "", [me]) == [200]
    client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert second_instance.run(database_url, "", [me]) == [401]


def test_password_change_ends_every_session(app: Flask, client: FlaskClient) -> None:
    account = factories.make_account(app)
    first, second = factories.login(client, account), factories.login(client, account)
    response = client.post(
        "/api/v1/me/password",
        headers=bearer(first["access_token"]),
        json={"current_password": account.password, "new_password": "Sandi-Baru-Binjai-77"},
    )
    assert response.status_code == 204
    for tokens in (first, second):
        assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
        assert (
            client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 401
        )
    relogin = client.post(
        LOGIN, json={"username": account.username, "password": "Sandi-Baru-Binjai-77"}
    )
    assert relogin.status_code == 200


def test_password_change_needs_the_current_password(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    response = client.post(
        "/api/v1/me/password",
        headers=auth_headers(),
        json={"current_password": "bukan-ini-99", "new_password": "Sandi-Baru-Binjai-77"},
    )
    body = assert_problem(response, 422, "validation_error")
    assert list(body["errors"]["json"]) == ["current_password"]


def test_deactivated_account_stops_at_once(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    admin = auth_headers("admin")
    deactivate = client.post(f"/api/v1/admin/accounts/{account.id}/deactivate", headers=admin)
    assert deactivate.status_code == 200 and deactivate.get_json()["is_active"] is False
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert (
        client.post(
            LOGIN, json={"username": account.username, "password": account.password}
        ).status_code
        == 401
    )
    client.post(f"/api/v1/admin/accounts/{account.id}/reactivate", headers=admin)
    assert (
        client.post(
            LOGIN, json={"username": account.username, "password": account.password}
        ).status_code
        == 200
    )
