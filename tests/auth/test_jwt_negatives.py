"""Forged, tampered, expired or misused tokens are 401 problem+json, never 422 or 500."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.platform.test_errors import assert_problem


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def tokens(app: Flask, client: FlaskClient) -> dict[str, Any]:
    return factories.login(client, factories.make_account(app))


def _claims(token: str) -> dict[str, Any]:
    return dict(pyjwt.decode(token, options={"verify_signature": False}))


def _refused(client: FlaskClient, token: str, code: str = "invalid_token") -> None:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, code)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_alg_none_is_refused(client: FlaskClient, tokens: dict[str, Any]) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(tokens['access_token']))}."
    _refused(client, unsigned)


def test_wrong_key_is_refused(client: FlaskClient, tokens: dict[str, Any]) -> None:
    forged = pyjwt.encode(
        _claims(tokens["access_token"]), "not-the-server-key-" * 3, algorithm="HS256"
    )
    _refused(client, forged)


def test_tampered_claims_are_refused(client: FlaskClient, tokens: dict[str, Any]) -> None:
    header, _payload, signature = tokens["access_token"].split(".")
    claims = _claims(tokens["access_token"]) | {"roles": ["admin"]}
    _refused(client, f"{header}.{_b64(claims)}.{signature}")


def test_expired_token_is_refused(app: Flask, client: FlaskClient, tokens: dict[str, Any]) -> None:
    claims = _claims(tokens["access_token"])
    claims["exp"] = claims["iat"] - 10
    expired = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    _refused(client, expired, "token_expired")


def test_refresh_token_is_not_an_access_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    _refused(client, tokens["refresh_token"])


def test_garbage_and_malformed_headers_are_refused(client: FlaskClient) -> None:
    _refused(client, "garbage")
    response = client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401, "missing_token")


def test_token_lifetime_is_fifteen_minutes(app: Flask, tokens: dict[str, Any]) -> None:
    claims = _claims(tokens["access_token"])
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(minutes=15)
    refresh = _claims(tokens["refresh_token"])
    assert timedelta(seconds=refresh["exp"] - refresh["iat"]) == timedelta(days=30)
    assert claims["roles"] == ["citizen"]


def test_a_token_used_before_is_checked_again_when_altered(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    """Verified tokens' claims and headers are kept per exact token: the same header and claims
    under another signature, or another claim under the same signature, are refused."""
    token = tokens["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    header, claims, signature = token.split(".")
    _refused(client, f"{header}.{claims}.{signature[:-4]}AAAA")
    forged = {**_claims(token), "sub": "00000000-0000-0000-0000-000000000000"}
    _refused(client, f"{header}.{_b64(forged)}.{signature}")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
