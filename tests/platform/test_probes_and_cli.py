"""Probes, demo data and the admin command."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import seed
from binjai_api.auth.models import User
from binjai_api.extensions import db


def test_liveness_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "database": "ok"}


def test_seed_demo_is_idempotent(app: Flask, runner: Any) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert f"accounts +{len(seed.demo_accounts())}" in first.output
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    second = runner.invoke(args=["seed-demo"])
    assert "regions +0, agencies +0, accounts +0" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == count
    assert "081200000001" in second.output  # the demo citizen's login is printed


def test_create_admin_then_log_in(client: FlaskClient, runner: Any) -> None:
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Kepala@BCC.binjaikota.go.id",
            "--password",
            "Admin-Pertama-2026",
        ]
    )
    assert result.exit_code == 0 and "Created" in result.output
    again = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "kepala@bcc.binjaikota.go.id",
            "--password",
            "Admin-Pertama-2026",
        ]
    )
    assert "Already exists" in again.output
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "kepala@bcc.binjaikota.go.id", "password": "Admin-Pertama-2026"},
    )
    assert login.status_code == 200


def test_create_admin_refuses_a_weak_password(runner: Any) -> None:
    result = runner.invoke(args=["create-admin", "--email", "a@b.go.id", "--password", "admin"])
    assert result.exit_code != 0


def test_probes_are_not_rate_limited(app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "DEFAULT_RATE_LIMIT", "2 per minute")
    assert [client.get("/api/v1/regions").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert [client.get("/readyz").status_code for _ in range(5)] == [200] * 5
