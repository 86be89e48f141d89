"""Concurrent writes on PostgreSQL: one winner, clear answers for the others, no corrupt state."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from binjai_api.auth.models import AuthSession, User
from binjai_api.extensions import db
from tests import factories

pytestmark = pytest.mark.postgres_only


def run_together(app: Flask, count: int, request: Callable[[Any], TestResponse]) -> list[Any]:
    """Send `count` requests at the same instant, each from its own client and connection."""
    barrier = threading.Barrier(count)
    responses: list[Any] = []

    def worker() -> None:
        client = app.test_client()
        barrier.wait()
        responses.append(request(client))

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(responses) == count
    return responses


def test_concurrent_registrations_of_one_nik_create_one_account(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "1000 per minute")
    nik = factories.valid_nik()
    responses = run_together(
        app,
        10,
        lambda client: client.post("/api/v1/auth/register", json=factories.registration(nik=nik)),
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses[201] == 1 and statuses[409] == 9, statuses
    assert all(r.mimetype == "application/problem+json" for r in responses if r.status_code == 409)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.nik == nik))
            == 1
        )


def test_concurrent_refreshes_of_one_token_issue_exactly_one_pair(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rotation is serialised by a row lock: one refresh wins; the duplicates count as
    reuse of a spent token, which ends the session (CONVENTIONS: refresh token families)."""
    monkeypatch.setitem(app.config, "TOKEN_RATE_LIMIT", "1000 per minute")
    account = factories.make_account(app)
    tokens = factories.login(app.test_client(), account)
    responses = run_together(
        app,
        6,
        lambda client: client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        ),
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 401: 5}, statuses
    with app.app_context():
        session = db.session.scalar(
            sa.select(AuthSession).where(AuthSession.user_id == sa.cast(account.id, sa.Uuid))
        )
        assert session is not None and session.revoked_reason == "refresh_token_reuse"
