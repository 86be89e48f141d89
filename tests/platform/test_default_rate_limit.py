"""The default rate limit is counted in each process's memory (no Redis round trip on every
request); the specific limits stay in Redis, exact and shared by every instance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis.connection
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_test_app
from tests.redis_server import redis_test_url


def test_the_default_limit_answers_429_with_its_headers(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "DEFAULT_RATE_LIMIT", "3 per minute")
    statuses = [client.get("/api/v1/regions").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/regions")
    assert refused.get_json()["code"] == "rate_limited"
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other_address = client.get("/api/v1/regions", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other_address.status_code == 200  # per address


@pytest.fixture
def redis_commands(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every command sent to Redis while the test runs."""
    sent: list[bytes] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def recording(self: Any, command: Any, check_health: bool = True) -> Any:
        sent.append(b"".join(command) if isinstance(command, list) else bytes(command))
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", recording)
    return sent


@pytest.fixture
def app_with_redis(app: Flask, database_url: str) -> Iterator[Flask]:
    redis_app = make_test_app(database_url, REDIS_URL=redis_test_url())
    yield redis_app
    make_test_app(database_url)  # the limiter is bound to the app made last: the test app's


def test_a_request_under_the_default_limit_sends_nothing_to_redis(
    app_with_redis: Flask, committed_db: None, redis_commands: list[bytes]
) -> None:
    client = app_with_redis.test_client()
    assert client.get("/api/v1/regions").status_code == 200
    assert redis_commands == []
    # A specific limit (login) is still counted in Redis, shared by every instance.
    client.post("/api/v1/auth/login", json={"username": "nobody@example.id", "password": "x"})
    assert redis_commands
