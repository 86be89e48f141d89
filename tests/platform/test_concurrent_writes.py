"""Concurrent writers queue for the database instead of failing (issue 15, point 1).

On SQLite a transaction that read before it writes cannot wait for the write lock: it failed
at once with `database is locked` (a 503) whenever another request was writing. These tests run
on both databases; on SQLite they failed before writers began with `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from binjai_api.complaints import service as complaints_service
from binjai_api.complaints.models import ComplaintCategory
from binjai_api.extensions import db
from tests import factories
from tests.complaints.helpers import report


def _all_at_once(app: Flask, requests: list[Callable[[FlaskClient], TestResponse]]) -> list[Any]:
    """Each request from its own thread and client, released together."""
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = requests[index](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses)
    return responses


def _category(app: Flask) -> str:
    with app.app_context():
        complaints_service.seed_categories()
        category = db.session.scalars(complaints_service.categories_query()).first()
        assert category is not None
        return str(category.id)


def test_submissions_refreshes_and_reads_that_write_all_succeed_together(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """24 submissions from 3 residents, 12 refreshes of different sessions and 6 operator reads
    of a report (each read writes an access record) at the same instant: every one succeeds."""
    monkeypatch.setitem(app.config, "COMPLAINT_SUBMIT_RATE_LIMIT", "1000 per hour")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    monkeypatch.setitem(app.config, "TOKEN_RATE_LIMIT", "1000 per minute")
    category_id = _category(app)
    client = app.test_client()
    residents = [factories.make_account(app) for _ in range(3)]
    resident_headers = [factories.login_headers(client, account) for account in residents]
    refresh_tokens = [factories.login(client, residents[i % 3])["refresh_token"] for i in range(12)]
    operator = factories.login_headers(client, factories.make_account(app, "operator"))
    seen = client.post("/api/v1/complaints", headers=resident_headers[0], json=report(category_id))
    assert seen.status_code == 201
    seen_path = f"/api/v1/complaints/{seen.get_json()['id']}"

    def submit(headers: dict[str, str]) -> Callable[[FlaskClient], TestResponse]:
        return lambda c: c.post("/api/v1/complaints", headers=headers, json=report(category_id))

    def refresh(token: str) -> Callable[[FlaskClient], TestResponse]:
        return lambda c: c.post("/api/v1/auth/refresh", json={"refresh_token": token})

    requests = [
        *(submit(resident_headers[i % 3]) for i in range(24)),
        *(refresh(token) for token in refresh_tokens),
        *((lambda c: c.get(seen_path, headers=operator)) for _ in range(6)),
    ]
    responses = _all_at_once(app, requests)

    statuses = [response.status_code for response in responses]
    assert statuses == [201] * 24 + [200] * 12 + [200] * 6, [
        response.get_json() for response in responses if response.status_code >= 400
    ]
    mine = client.get("/api/v1/complaints/mine?page_size=100", headers=resident_headers[1])
    assert len(mine.get_json()) == 8


def test_a_read_that_then_writes_waits_for_a_writer_instead_of_failing(
    app: Flask, committed_db: None
) -> None:
    """A GET's transaction reads, another connection writes and commits meanwhile, then the GET
    writes: on SQLite this was `database is locked` at once (its snapshot is stale); now its
    reads end and it takes the write lock in turn."""
    _category(app)
    with app.app_context():
        first, second = db.session.scalars(
            sa.select(ComplaintCategory.code).order_by(ComplaintCategory.code).limit(2)
        ).all()
    with app.test_request_context("/", method="GET"):
        assert db.session.scalars(sa.select(ComplaintCategory)).first()  # the GET has read
        with app.app_context():  # another connection, as another worker's request would be
            _rename(second, "Ditulis lebih dulu")
            db.session.commit()
            db.session.remove()
        _rename(first, "Ditulis sesudahnya")
        db.session.commit()
    with app.app_context():
        names = dict(
            db.session.execute(
                sa.select(ComplaintCategory.code, ComplaintCategory.name).where(
                    ComplaintCategory.code.in_([first, second])
                )
            ).all()
        )
    assert names == {first: "Ditulis sesudahnya", second: "Ditulis lebih dulu"}


def _rename(code: str, name: str) -> None:
    db.session.execute(
        sa.update(ComplaintCategory).where(ComplaintCategory.code == code).values(name=name)
    )
