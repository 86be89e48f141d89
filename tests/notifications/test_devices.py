"""Devices: registering FCM tokens, moving them between accounts, unregistering, pruning."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications.models import Device
from tests.platform.test_errors import assert_problem

TOKEN = "cVx1:APA91bF-device-token-for-tests-0001"


def _register(client: Any, headers: dict[str, str], token: str = TOKEN, **fields: Any) -> Any:
    body = {"token": token, "platform": "android", **fields}
    return client.post("/api/v1/devices", json=body, headers=headers)


def test_registering_a_new_token_creates_the_device(client: Any, auth_headers: Any) -> None:
    headers = auth_headers("citizen")
    response = _register(client, headers, app_version="1.4.0", language="en")
    assert response.status_code == 201
    assert response.json["token"] == TOKEN
    assert response.json["platform"] == "android"
    assert response.json["language"] == "en"
    listed = client.get("/api/v1/devices", headers=headers)
    assert [d["token"] for d in listed.json] == [TOKEN]


def test_registering_again_moves_the_token_to_the_current_user(
    app: Flask, client: Any, auth_headers: Any
) -> None:
    first, second = auth_headers("citizen"), auth_headers("citizen")
    created = _register(client, first)
    moved = _register(client, second, platform="ios")
    assert moved.status_code == 200
    assert moved.json["id"] == created.json["id"]
    assert moved.json["platform"] == "ios"
    assert moved.json["refreshed_at"] > created.json["refreshed_at"]
    assert client.get("/api/v1/devices", headers=first).json == []
    assert [d["id"] for d in client.get("/api/v1/devices", headers=second).json] == [
        created.json["id"]
    ]


def test_a_user_may_have_several_devices(client: Any, auth_headers: Any) -> None:
    headers = auth_headers("citizen")
    _register(client, headers, token=TOKEN + "-phone")
    _register(client, headers, token=TOKEN + "-tablet", platform="web")
    assert len(client.get("/api/v1/devices", headers=headers).json) == 2


def test_unregistering_on_logout_deletes_only_my_own_device(client: Any, auth_headers: Any) -> None:
    mine, other = auth_headers("citizen"), auth_headers("citizen")
    _register(client, mine)
    not_mine = client.delete(f"/api/v1/devices/{TOKEN}", headers=other)
    assert_problem(not_mine, 404, "not_found")
    assert client.delete(f"/api/v1/devices/{TOKEN}", headers=mine).status_code == 204
    assert client.get("/api/v1/devices", headers=mine).json == []
    again = client.delete(f"/api/v1/devices/{TOKEN}", headers=mine)
    assert_problem(again, 404, "not_found")


def test_invalid_registrations_are_refused_with_field_errors(
    client: Any, auth_headers: Any
) -> None:
    headers = auth_headers("citizen")
    response = client.post(
        "/api/v1/devices",
        json={"token": "short", "platform": "symbian", "language": "fr"},
        headers=headers,
    )
    problem = assert_problem(response, 422, "validation_error")
    assert set(problem["errors"]["json"]) == {"token", "platform", "language"}


def test_devices_need_a_login(client: Any) -> None:
    assert_problem(client.get("/api/v1/devices"), 401, "missing_token")
    response = client.post("/api/v1/devices", json={"token": TOKEN, "platform": "android"})
    assert_problem(response, 401, "missing_token")


def test_prune_devices_deletes_tokens_not_refreshed_for_60_days(
    app: Flask, client: Any, auth_headers: Any, runner: Any
) -> None:
    headers = auth_headers("citizen")
    _register(client, headers, token=TOKEN + "-stale")
    _register(client, headers, token=TOKEN + "-fresh")
    with app.app_context():
        db.session.execute(
            sa.update(Device)
            .where(Device.token == TOKEN + "-stale")
            .values(refreshed_at=utcnow() - timedelta(days=61))
        )
        db.session.execute(
            sa.update(Device)
            .where(Device.token == TOKEN + "-fresh")
            .values(refreshed_at=utcnow() - timedelta(days=59))
        )
        db.session.commit()
    result = runner.invoke(args=["prune-devices"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 device tokens" in result.output
    assert [d["token"] for d in client.get("/api/v1/devices", headers=headers).json] == [
        TOKEN + "-fresh"
    ]
