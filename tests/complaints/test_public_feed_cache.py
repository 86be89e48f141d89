"""The public feed kept per process while the data is unchanged (public_cache): a kept answer is
the built one byte for byte, and a write committed anywhere (another engine, another process)
shows in the very next answer, on SQLite and on PostgreSQL.

These tests commit for real (`committed_db`): the tests' rollback mode is never cached."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from binjai_api import pagination, public_cache
from binjai_api.complaints import service
from binjai_api.complaints.models import Complaint
from binjai_api.complaints.schemas import PublicComplaintSchema
from binjai_api.complaints.service import public as public_service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests import factories
from tests.complaints.helpers import report
from tests.platform.test_errors import assert_problem
from tests.queries import counting_queries

pytestmark = pytest.mark.usefixtures("committed_db")

FEED = "/api/v1/public/complaints?page_size=20"
# What a kept answer must repeat exactly; the rest is added per request by the app's hooks.
VIEW_HEADERS = ("Content-Type", "Content-Length", "X-Pagination", "Link", "Content-Language")


@pytest.fixture
def live(app: Flask) -> FlaskClient:
    """A client whose requests commit on the app's own connections (no test transaction)."""
    with app.app_context():
        public_cache.cache_of(app).clear()
    return app.test_client()


@pytest.fixture
def reports(app: Flask, live: FlaskClient) -> list[str]:
    """Two public reports, committed, by a resident."""
    with app.app_context():
        service.seed_categories()
        category = db.session.scalars(service.categories_query()).first()
        assert category is not None
        category_id = str(category.id)
    headers = factories.login_headers(live, factories.make_account(app, "citizen"))
    ids = []
    for title in ("Lampu jalan mati", "Sampah menumpuk"):
        response = live.post(
            "/api/v1/complaints", headers=headers, json=report(category_id, title=title)
        )
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def _view_headers(response: TestResponse) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in VIEW_HEADERS}


def _titles(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return sorted(item["title"] for item in response.get_json())


def _set_title(database_url: str, complaint_id: str, title: str) -> None:
    """Commit a change through an engine of its own (another connection, as another instance)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.update(Complaint.__table__)
                .where(Complaint.__table__.c.id == uuid.UUID(complaint_id))
                .values(title=title)
            )
    finally:
        engine.dispose()


def test_a_kept_answer_is_the_built_one_byte_for_byte(
    app: Flask, live: FlaskClient, reports: list[str]
) -> None:
    built = live.get(FEED)
    # On PostgreSQL the version is the cluster's: a write to another database of the cluster
    # (another test run) makes the next answer built afresh, the same bytes.
    for _ in range(50):
        with counting_queries(app) as statements:
            kept = live.get(FEED)
        assert kept.get_data() == built.get_data()
        if not statements:
            break  # answered from the cache: no SQL at all
    assert statements == []
    assert kept.status_code == built.status_code == 200
    assert _view_headers(kept) == _view_headers(built)
    assert json.loads(kept.headers["X-Pagination"])["total"] == 2
    # The per-request headers are still the request's own.
    assert kept.headers["X-Request-ID"] != built.headers["X-Request-ID"]
    assert kept.headers["Vary"] == built.headers["Vary"]
    assert set(kept.headers.keys()) == set(built.headers.keys())
    # Field for field, in order, what the schema documents.
    with app.test_request_context():
        for item in json.loads(kept.get_data(as_text=True)):
            complaint = db.session.get(Complaint, uuid.UUID(item["id"]))
            expected = ma.Schema.dump(PublicComplaintSchema(), service.public_view(complaint))
            assert list(item) == list(expected)
            assert item == json.loads(json.dumps(expected))
        db.session.remove()


def test_a_change_committed_through_another_engine_shows_in_the_next_answer(
    app: Flask, live: FlaskClient, reports: list[str], database_url: str
) -> None:
    assert _titles(live.get(FEED)) == ["Lampu jalan mati", "Sampah menumpuk"]
    assert _titles(live.get(FEED)) == ["Lampu jalan mati", "Sampah menumpuk"]  # kept
    _set_title(database_url, reports[0], "Lampu jalan sudah menyala")
    assert _titles(live.get(FEED)) == ["Lampu jalan sudah menyala", "Sampah menumpuk"]


def test_a_change_committed_by_another_process_shows_in_the_next_answer(
    app: Flask, live: FlaskClient, reports: list[str], database_url: str
) -> None:
    before = live.get(FEED)
    assert live.get(FEED).get_data() == before.get_data()  # kept
    # Another process (as a second instance would): a report hidden from the public.
    script = textwrap.dedent(
        """
        import sys, uuid
        import sqlalchemy as sa
        url, complaint_id = sys.argv[1], uuid.UUID(sys.argv[2])
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE complaints SET privacy = 'confidential' WHERE id = :id"),
                # SQLite keeps a UUID as its 32 hex digits.
                {"id": complaint_id.hex if url.startswith("sqlite") else complaint_id},
            )
        """
    )
    subprocess.run([sys.executable, "-c", script, database_url, reports[1]], check=True, timeout=60)
    after = live.get(FEED)
    assert [item["id"] for item in after.get_json()] == [reports[0]]
    assert json.loads(after.headers["X-Pagination"])["total"] == 1


def test_a_kept_page_lives_no_longer_than_the_shared_total_it_shows(
    app: Flask,
    live: FlaskClient,
    reports: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With PUBLIC_COUNT_CACHE_SECONDS, a page's total may lag its items for that long (as
    without the cache); a kept page must not make the lag last until the next commit."""
    monkeypatch.setitem(app.config, "PUBLIC_COUNT_CACHE_SECONDS", 60)
    assert json.loads(live.get(FEED).headers["X-Pagination"])["total"] == 2
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.update(Complaint.__table__)
            .where(Complaint.__table__.c.id == uuid.UUID(reports[1]))
            .values(privacy="confidential")
        )
    engine.dispose()
    lagging = live.get(FEED)
    assert [item["id"] for item in lagging.get_json()] == [reports[0]]  # the items: fresh
    assert json.loads(lagging.headers["X-Pagination"])["total"] == 2  # the total: shared
    # A minute later, nothing committed in between: the shared total's time is up (its own
    # clock is monotonic, so it is dropped here), and so is the kept page that shows it.
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(public_cache, "utcnow", lambda: later)
    pagination._shared_counts.clear()
    assert json.loads(live.get(FEED).headers["X-Pagination"])["total"] == 1


def test_a_report_submitted_through_the_api_shows_with_its_total(
    app: Flask, live: FlaskClient, reports: list[str]
) -> None:
    assert json.loads(live.get(FEED).headers["X-Pagination"])["total"] == 2
    with app.app_context():
        category_id = str(db.session.scalars(service.categories_query()).first().id)  # type: ignore[union-attr]
    headers = factories.login_headers(live, factories.make_account(app, "citizen"))
    created = live.post(
        "/api/v1/complaints", headers=headers, json=report(category_id, title="Got baru")
    )
    assert created.status_code == 201
    after = live.get(FEED)
    assert "Got baru" in _titles(after)
    assert json.loads(after.headers["X-Pagination"])["total"] == 3


def test_languages_are_kept_apart(app: Flask, live: FlaskClient, reports: list[str]) -> None:
    answers = {}
    for _ in range(2):  # built, then kept
        for language in ("en", "id"):
            response = live.get(FEED, headers={"Accept-Language": language})
            assert response.headers["Content-Language"] == language
            labels = {item["status_label"] for item in response.get_json()}
            answers.setdefault(language, labels)
            assert answers[language] == labels
    assert answers["en"] != answers["id"]


def test_each_query_string_is_its_own_page(
    app: Flask, live: FlaskClient, reports: list[str]
) -> None:
    first = live.get("/api/v1/public/complaints?page_size=1&page=1")
    second = live.get("/api/v1/public/complaints?page_size=1&page=2")
    assert first.get_json()[0]["id"] != second.get_json()[0]["id"]
    assert first.headers["Link"] != second.headers["Link"]
    reordered = live.get("/api/v1/public/complaints?page=1&page_size=1")
    assert reordered.get_json() == first.get_json()
    assert "?page=" in reordered.headers["Link"]  # its links keep its own argument order


def test_bad_arguments_answer_the_usual_error_and_are_never_kept(
    app: Flask, live: FlaskClient, reports: list[str]
) -> None:
    for _ in range(2):
        assert_problem(live.get("/api/v1/public/complaints?page_size=0"), 422, "validation_error")
        assert_problem(live.get("/api/v1/public/complaints?sort=nope"), 422, "validation_error")
    assert live.get(FEED).status_code == 200


def test_a_kept_page_ends_when_a_deadline_on_it_passes(
    app: Flask,
    live: FlaskClient,
    reports: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due = utcnow() + timedelta(hours=1)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.update(Complaint.__table__).values(due_at=due))
    engine.dispose()
    assert {item["is_overdue"] for item in live.get(FEED).get_json()} == {False}
    assert {item["is_overdue"] for item in live.get(FEED).get_json()} == {False}  # kept
    # An hour later, nothing committed in between: the deadlines have passed.
    later = due + timedelta(seconds=1)
    monkeypatch.setattr(public_cache, "utcnow", lambda: later)
    monkeypatch.setattr(public_service, "utcnow", lambda: later)
    assert {item["is_overdue"] for item in live.get(FEED).get_json()} == {True}


def test_the_data_version_moves_with_commits_of_other_connections_only(
    app: Flask, reports: list[str], database_url: str
) -> None:
    with app.app_context():
        watcher = public_cache.DataVersionWatcher(db.engine.url)
    assert watcher.usable
    first = watcher.version()
    assert first is not None
    engine = sa.create_engine(database_url)
    try:
        for _ in range(50):  # PostgreSQL: unless another database of the cluster was written
            with engine.connect() as connection:
                connection.execute(sa.select(Complaint.__table__.c.id)).all()
                connection.rollback()
            if watcher.version() == first:
                break  # reads move nothing
            first = watcher.version()
        else:
            pytest.fail("the data version moved without a write")
        with engine.begin() as connection:
            connection.execute(sa.update(Complaint.__table__).values(supporter_count=7))
        assert watcher.version() != first
    finally:
        engine.dispose()


def test_the_map_is_kept_and_shows_the_next_commit(
    app: Flask, live: FlaskClient, reports: list[str], database_url: str
) -> None:
    path = "/api/v1/public/complaints.geojson?page_size=100"
    built = live.get(path)
    assert built.status_code == 200 and built.mimetype == "application/geo+json"
    for _ in range(50):  # PostgreSQL: see the first test
        with counting_queries(app) as statements:
            kept = live.get(path)
        assert kept.get_data() == built.get_data()
        if not statements:
            break
    assert statements == []
    assert _view_headers(kept) == _view_headers(built)
    _set_title(database_url, reports[0], "Lampu jalan sudah menyala")
    after = live.get(path)
    titles = sorted(f["properties"]["title"] for f in after.get_json()["features"])
    assert titles == ["Lampu jalan sudah menyala", "Sampah menumpuk"]
    assert json.loads(after.headers["X-Pagination"])["total"] == 2
