"""Facility search near a point kept per process while the data is unchanged (public_cache), and
only until the local minute ends (`open_now`); conditional requests are the view's own. The feed's
cache is tested in tests/complaints/test_public_feed_cache.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import public_cache
from binjai_api.health import service
from binjai_api.health.models import Facility
from tests.health.conftest import MONDAY, Clock, create_facility
from tests.patching import patch_service
from tests.queries import counting_queries

pytestmark = pytest.mark.usefixtures("committed_db")

SEARCH = "/api/v1/facilities?lat=3.6&lon=98.49&radius_m=5000"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The queue's clock (tests/health), on a working Monday."""
    fixed = Clock()
    patch_service(monkeypatch, service, "current_time", lambda: fixed.now)
    return fixed


@pytest.fixture
def live(app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    """A client on real commits, the cache's clock being the queue's."""
    monkeypatch.setattr(public_cache, "utcnow", lambda: clock.now)
    with app.app_context():
        public_cache.cache_of(app).clear()
    return app.test_client()


def _kept(app: Flask, client: FlaskClient, path: str, built: bytes) -> None:
    """The next answers are `built`, and one of them sent no SQL (PostgreSQL's version is the
    cluster's: another database written in between rebuilds the same bytes)."""
    for _ in range(50):
        with counting_queries(app) as statements:
            response = client.get(path)
        assert response.get_data() == built
        if not statements:
            return
    pytest.fail("never answered from the cache")


def test_a_kept_search_is_the_built_one_until_the_minute_ends(
    app: Flask, live: FlaskClient, clock: Clock
) -> None:
    create_facility(app)  # open 07:30-14:00, Monday to Saturday
    clock.set(MONDAY, 13, 59)
    clock.now += timedelta(seconds=30)
    built = live.get(SEARCH)
    assert [item["open_now"] for item in built.get_json()] == [True]
    _kept(app, live, SEARCH, built.get_data())
    kept = live.get(SEARCH)
    for header in ("Content-Type", "X-Pagination", "Link", "ETag", "Content-Language"):
        assert kept.headers.get(header) == built.headers.get(header), header
    clock.set(MONDAY, 14, 0)
    assert [item["open_now"] for item in live.get(SEARCH).get_json()] == [False]


def test_a_change_committed_through_another_engine_shows_in_the_next_search(
    app: Flask, live: FlaskClient, clock: Clock, database_url: str
) -> None:
    place = create_facility(app)
    clock.set(MONDAY, 9, 0)
    built = live.get(SEARCH)
    _kept(app, live, SEARCH, built.get_data())
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.update(Facility.__table__)
                .where(Facility.__table__.c.id == uuid.UUID(place.facility_id))
                .values(name="Puskesmas Baru", phone="061-123")
            )
    finally:
        engine.dispose()
    after = live.get(SEARCH).get_json()
    assert [(item["name"], item["phone"]) for item in after] == [("Puskesmas Baru", "061-123")]


def test_a_conditional_search_is_answered_by_the_view(
    app: Flask, live: FlaskClient, clock: Clock
) -> None:
    create_facility(app)
    clock.set(MONDAY, 9, 0)
    built = live.get(SEARCH)
    _kept(app, live, SEARCH, built.get_data())
    etag = built.headers["ETag"]
    unchanged = live.get(SEARCH, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    changed = live.get(SEARCH, headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.get_data() == built.get_data()


def test_bad_search_arguments_answer_the_usual_error(
    app: Flask, live: FlaskClient, clock: Clock
) -> None:
    for _ in range(2):
        response = live.get("/api/v1/facilities?sort=distance")
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "validation_error"
