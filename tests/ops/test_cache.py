"""Overview and wall-map results are reused for OPS_CACHE_SECONDS per parameters and scope, in
Redis when it is configured, and computed afresh when Redis fails."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db
from binjai_api.ops import cache
from tests.ops.conftest import HEATMAP, OVERVIEW, PERIOD, City, wib
from tests.redis_server import UNREACHABLE_URL, redis_test_url

pytestmark = pytest.mark.usefixtures("frozen_now")


def _add_complaint(app: Flask, city: City) -> None:
    with app.app_context():
        db.session.add(
            Complaint(
                tracking_number="BJI-CACHE-1",
                type="complaint",
                category_id=city.category_id,
                agency_id=city.agencies["PUPR"],
                title="Baru",
                description="Uji",
                privacy="public",
                status="submitted",
                kelurahan_code=city.kelurahan["K1"],
                kecamatan_code=city.kecamatan["K1"],
                lat=3.6,
                lon=98.48,
                created_at=wib("2026-12-22"),
                updated_at=wib("2026-12-22"),
            )
        )
        db.session.commit()


def _opened(client: FlaskClient, headers: dict[str, str]) -> int:
    response = client.get(OVERVIEW, query_string=PERIOD, headers=headers)
    assert response.status_code == 200
    return int(response.get_json()["complaints"]["opened"])


@pytest.fixture
def caching(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPS_CACHE_SECONDS", 30)
    monkeypatch.setattr(cache, "_local", type(cache._local)())
    monkeypatch.setattr(cache, "_computing", {})


@pytest.mark.usefixtures("caching")
def test_a_result_is_reused_within_the_cache_time_per_scope(
    app: Flask, client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    operator = staff("operator")
    assert _opened(client, operator) == 6
    _add_complaint(app, city)
    assert _opened(client, operator) == 6  # the same figures for 30 s
    # Another scope, another period or another map are computed afresh.
    assert _opened(client, staff("officer", "PUPR")) == 5
    fresh = client.get(OVERVIEW, query_string={**PERIOD, "from": "2026-12-22"}, headers=operator)
    assert fresh.get_json()["complaints"]["opened"] == 6  # C3 (21st) out, the new one in
    collection = client.get(HEATMAP, query_string=PERIOD, headers=operator).get_json()
    assert sum(f["properties"]["count"] for f in collection["features"]) == 7


def test_without_caching_every_request_sees_new_rows(
    app: Flask, client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    operator = staff("operator")
    assert _opened(client, operator) == 6
    _add_complaint(app, city)
    assert _opened(client, operator) == 7


@pytest.fixture
def shared_redis(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    """The real Redis, with this test's own keys (removed afterwards)."""
    url = redis_test_url()
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setattr(cache, "KEY_PREFIX", f"binjai:test:{uuid.uuid4().hex}:")
    client = redis.Redis.from_url(url)
    yield client
    for key in client.scan_iter(f"{cache.KEY_PREFIX}*"):
        client.delete(key)


@pytest.mark.usefixtures("caching")
def test_with_redis_the_result_is_shared_through_it(
    app: Flask,
    client: FlaskClient,
    city: City,
    staff: Callable[..., dict[str, str]],
    shared_redis: redis.Redis,
) -> None:
    operator = staff("operator")
    assert _opened(client, operator) == 6
    [key] = list(shared_redis.scan_iter(f"{cache.KEY_PREFIX}*"))
    assert key.decode().startswith(f"{cache.KEY_PREFIX}overview:")
    assert 0 < shared_redis.ttl(key) <= 30
    _add_complaint(app, city)
    assert _opened(client, operator) == 6  # read back from Redis
    assert not cache._local  # nothing kept in the process
    shared_redis.delete(key)  # another instance would compute it now
    assert _opened(client, operator) == 7


@pytest.mark.usefixtures("caching")
def test_when_redis_fails_the_figures_are_computed_afresh(
    app: Flask,
    client: FlaskClient,
    city: City,
    staff: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REDIS_URL", UNREACHABLE_URL)
    operator = staff("operator")
    assert _opened(client, operator) == 6
    _add_complaint(app, city)
    assert _opened(client, operator) == 7


def _ask_at_once(app: Flask, askers: int) -> tuple[list[Any], list[int]]:
    """`askers` threads ask for the same expired result at the same moment; the computation is
    slow enough for all of them to arrive while it runs."""
    computed: list[int] = []
    barrier = threading.Barrier(askers)

    def compute() -> dict[str, int]:
        computed.append(1)
        time.sleep(0.3)
        return {"answer": 42}

    results: list[Any] = []

    def ask() -> None:
        with app.app_context():
            barrier.wait()
            results.append(cache.cached_json(cache.cache_key("overview", {"n": 1}), compute))

    threads = [threading.Thread(target=ask) for _ in range(askers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, computed


@pytest.mark.usefixtures("caching")
def test_requests_arriving_while_a_result_is_computed_wait_for_it_in_process(app: Flask) -> None:
    results, computed = _ask_at_once(app, 6)
    assert results == [{"answer": 42}] * 6
    assert len(computed) == 1


@pytest.mark.usefixtures("caching")
def test_requests_arriving_while_a_result_is_computed_wait_for_it_across_instances(
    app: Flask, shared_redis: redis.Redis
) -> None:
    results, computed = _ask_at_once(app, 6)
    assert results == [{"answer": 42}] * 6
    assert len(computed) == 1
    assert not list(shared_redis.scan_iter(f"{cache.KEY_PREFIX}*:computing"))  # lock released
