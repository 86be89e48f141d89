"""Overview and wall-map results are reused for OPS_CACHE_SECONDS per parameters and scope, in
Redis when it is configured, and computed afresh when Redis fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db
from binjai_api.ops import cache
from tests.ops.conftest import HEATMAP, OVERVIEW, PERIOD, City, wib

pytestmark = pytest.mark.usefixtures("frozen_now")


class FakeRedis:
    """The two calls the cache makes, kept in a dict; `broken` makes every call fail."""

    def __init__(self, broken: bool = False) -> None:
        self.values: dict[str, Any] = {}
        self.expiries: dict[str, int] = {}
        self.broken = broken

    def get(self, key: str) -> Any:
        if self.broken:
            raise redis.ConnectionError("down")
        return self.values.get(key)

    def set(self, key: str, value: Any, ex: int) -> None:
        if self.broken:
            raise redis.ConnectionError("down")
        self.values[key] = value
        self.expiries[key] = ex


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


@pytest.mark.usefixtures("caching")
def test_with_redis_the_result_is_shared_through_it(
    app: Flask,
    client: FlaskClient,
    city: City,
    staff: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = FakeRedis()
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://cache.invalid:6379/0")
    monkeypatch.setattr(cache, "_redis", lambda url: shared)
    operator = staff("operator")
    assert _opened(client, operator) == 6
    [key] = shared.values
    assert key.startswith("binjai:ops:overview:")
    assert shared.expiries[key] == 30
    _add_complaint(app, city)
    assert _opened(client, operator) == 6  # read back from Redis
    assert not cache._local  # nothing kept in the process


@pytest.mark.usefixtures("caching")
def test_when_redis_fails_the_figures_are_computed_afresh(
    app: Flask,
    client: FlaskClient,
    city: City,
    staff: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://cache.invalid:6379/0")
    monkeypatch.setattr(cache, "_redis", lambda url: FakeRedis(broken=True))
    operator = staff("operator")
    assert _opened(client, operator) == 6
    _add_complaint(app, city)
    assert _opened(client, operator) == 7
