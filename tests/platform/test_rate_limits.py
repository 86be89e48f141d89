"""Login, registration and token endpoints are limited per client address and per account."""

from __future__ import annotations

import random
import threading
import time
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.ratelimit import BinjaiLimiter, ProcessMemoryStorage, _guard_request_hooks
from tests import factories, second_instance
from tests.platform.test_errors import assert_problem
from tests.redis_server import UNREACHABLE_URL, redis_test_url

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
    retry_after = int(flood.headers["Retry-After"])
    assert 0 < retry_after <= 61  # the one-minute window, rounded up
    # Retry-After and X-RateLimit-Reset describe the same moment
    assert abs(int(flood.headers["X-RateLimit-Reset"]) - time.time() - retry_after) <= 2
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


def test_one_nik_cannot_be_tried_from_many_addresses(client: FlaskClient) -> None:
    body = factories.registration()
    statuses = [
        client.post(
            "/api/v1/auth/register", json=body, environ_base={"REMOTE_ADDR": f"10.4.0.{i}"}
        ).status_code
        for i in range(6)
    ]
    assert statuses == [201] + [409] * 4 + [429]


def test_retry_after_is_only_sent_with_refusals(client: FlaskClient) -> None:
    assert "Retry-After" not in client.get("/api/v1/agencies").headers


def _run_instance(
    database_url: str, redis_url: str, address: str, phone: str, count: int
) -> list[int]:
    attempt = {
        "method": "POST",
        "path": "/api/v1/auth/login",
        "remote_addr": address,
        "json": {"username": phone, "password": "Salah-Sekali-99"},
    }
    return second_instance.run(database_url, redis_url, [attempt] * count)


def _random_caller() -> tuple[str, str]:
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    return address, f"0812{random.randint(0, 10**8 - 1):08d}"


def test_limits_are_shared_across_instances_through_redis(database_url: str) -> None:
    """Two app instances in two processes: together they allow the limit once, not twice."""
    redis_url = redis_test_url()
    address, phone = _random_caller()
    first = _run_instance(database_url, redis_url, address, phone, 6)
    second = _run_instance(database_url, redis_url, address, phone, 6)
    assert first == [401] * 6
    assert second == [401] * 4 + [429] * 2  # LOGIN_RATE_LIMIT: 10 per minute in all


def test_limits_still_hold_per_instance_when_redis_is_down(database_url: str) -> None:
    """The documented policy: an unreachable Redis degrades to in-memory limits, never to an
    error and never to no limit at all."""
    address, phone = _random_caller()
    codes = _run_instance(database_url, UNREACHABLE_URL, address, phone, 12)
    assert codes == [401] * 10 + [429] * 2


def test_a_limit_on_every_request_is_still_checked_before_the_view() -> None:
    """The API's own limits decorate views, so the limiter skips Flask-Limiter's before-request
    search for limits on every request; one declared for the whole app still holds."""
    app = Flask("limited")
    app.config["DEFAULT_RATE_LIMIT"] = "1000 per minute"
    limiter = BinjaiLimiter(
        key_func=lambda: "one caller", application_limits=["2 per minute"], storage_uri="memory://"
    )
    limiter.init_app(app)
    app.add_url_rule("/", "index", lambda: "ok")
    client = app.test_client()
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]


def test_the_embedded_storage_counts_exactly_without_a_timer_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without Redis the specific limits use ProcessMemoryStorage: the same exact counts as
    limits' memory storage, a window that ends when it should, and no thread started per hit."""
    app = Flask("limited")
    app.config["DEFAULT_RATE_LIMIT"] = "1000 per minute"
    limiter = BinjaiLimiter(key_func=lambda: "one caller", storage_uri="process-memory://")
    limiter.init_app(app)
    assert isinstance(limiter.storage, ProcessMemoryStorage)
    app.add_url_rule("/", "index", limiter.limit("3 per minute")(lambda: "ok"))
    client = app.test_client()
    timers_started: list[object] = []
    real_timer = threading.Timer

    def counted_timer(*args: object, **kwargs: object) -> threading.Timer:
        timers_started.append(args)
        return real_timer(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(threading, "Timer", counted_timer)
    statuses = []
    for _ in range(4):
        time.sleep(0.03)  # longer than the stock storage's 10 ms timer: it would start another
        statuses.append(client.get("/").status_code)
    assert statuses == [200, 200, 200, 429]
    assert timers_started == []  # limits' MemoryStorage starts one whenever none is running
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/").status_code == 200


def _guarded_app(headers: bool) -> tuple[Flask, BinjaiLimiter]:
    app = Flask("guarded")
    app.config["DEFAULT_RATE_LIMIT"] = "1000 per minute"
    app.config["RATELIMIT_HEADERS_ENABLED"] = headers
    limiter = BinjaiLimiter(key_func=lambda: "one caller", storage_uri="process-memory://")
    limiter.init_app(app)

    @limiter.limit("2 per minute", deduct_when=lambda response: response.status_code == 409)
    def limited() -> tuple[str, int]:
        from flask import request

        return "answer", int(request.args.get("status", "200"))

    app.add_url_rule("/limited", "limited", limited)
    app.add_url_rule("/free", "free", lambda: "ok")
    return app, limiter


def test_flask_limiters_after_request_and_teardown_run_only_when_a_limit_was_looked_at() -> None:
    """BinjaiLimiter finds Flask-Limiter's after-request hook and teardown (private names) and
    runs them only for requests that looked at a limit. This fails when another Flask-Limiter
    changes them: the limiter then keeps the library's hooks as they are (next test), and this
    test says the saving is gone."""
    app, limiter = _guarded_app(headers=False)
    assert limiter.hooks_guarded is True
    hooks = [*app.after_request_funcs[None], *app.teardown_request_funcs[None]]
    names = {getattr(hook, "__name__", "") for hook in hooks}
    assert {"limiter_after_request", "limiter_teardown_request"} <= names
    assert not any(isinstance(hook, partial) for hook in hooks)
    # The conditional deduction is made by the after-request hook: it still is.
    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(4)] == [200] * 4
    statuses = [client.get("/limited?status=409").status_code for _ in range(3)]
    assert statuses == [409, 409, 429]
    assert client.get("/free").status_code == 200


def test_flask_limiters_headers_are_still_added_where_a_limit_ran() -> None:
    app, _limiter = _guarded_app(headers=True)
    client = app.test_client()
    limited = client.get("/limited")
    assert limited.headers["X-RateLimit-Limit"] == "2"
    assert limited.headers["X-RateLimit-Remaining"] == "2"  # a 200 is not deducted
    assert "X-RateLimit-Limit" not in client.get("/free").headers


def test_flask_limiters_hooks_are_kept_as_they_are_when_not_found() -> None:
    app = Flask("other")

    def after(response: Any) -> Any:
        return response

    def teardown(_error: BaseException | None = None) -> None:
        return None

    app.after_request(after)
    app.teardown_request(teardown)
    assert _guard_request_hooks(app, BinjaiLimiter(key_func=lambda: "x")) is False
    assert app.after_request_funcs[None] == [after]
    assert app.teardown_request_funcs[None] == [teardown]
