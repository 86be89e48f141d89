"""Login, registration and token endpoints are limited per client address and per account."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.platform.test_errors import assert_problem

LOGIN = "/api/v1/auth/login"


def _login_from(client: FlaskClient, address: str, username: str):  # type: ignore[no-untyped-def]
    return client.post(
        LOGIN,
        json={"username": username, "password": "Salah-Sekali-99"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_login_flood_from_one_address_is_a_429_with_retry_after(client: FlaskClient) -> None:
    limit = 10  # LOGIN_RATE_LIMIT default: 10 per minute
    statuses = [
        _login_from(client, "10.1.1.1", f"08120000{i:04d}").status_code for i in range(limit)
    ]
    assert statuses == [401] * limit
    flood = _login_from(client, "10.1.1.1", "081200009999")
    assert_problem(flood, 429, "rate_limited")
    assert 0 < int(flood.headers["Retry-After"]) <= 60
    assert flood.headers["X-RateLimit-Limit"] == str(limit)
    # another address is not affected
    assert _login_from(client, "10.1.1.2", "081200009999").status_code == 401


def test_guessing_one_account_from_many_addresses_is_limited(
    app: Flask, client: FlaskClient
) -> None:
    account = factories.make_account(app)
    for i in range(10):
        assert _login_from(client, f"10.2.0.{i}", account.username).status_code == 401
    flood = _login_from(client, "10.2.0.200", account.username)
    assert_problem(flood, 429, "rate_limited")


def test_registration_is_limited_per_address(client: FlaskClient) -> None:
    statuses = [
        client.post(
            "/api/v1/auth/register",
            json=factories.registration(),
            environ_base={"REMOTE_ADDR": "10.3.0.1"},
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [201] * 5 + [429]
