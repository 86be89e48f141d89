"""Concurrent writes on PostgreSQL: one winner, clear answers for the others, no corrupt state."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.auth.models import AuthSession, User
from binjai_api.extensions import db
from tests import factories
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres_only


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
    """The rotation is serialised by a row lock: one refresh rotates; the racing duplicates (an
    app resuming with requests in flight) wait for it and get the very same pair back, within
    REFRESH_REUSE_GRACE_SECONDS, and the session lives on."""
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
    assert statuses == {200: 6}, statuses
    pairs = {(r.get_json()["access_token"], r.get_json()["refresh_token"]) for r in responses}
    assert len(pairs) == 1
    [(access_token, refresh_token)] = pairs
    with app.app_context():
        session = db.session.scalar(
            sa.select(AuthSession).where(AuthSession.user_id == sa.cast(account.id, sa.Uuid))
        )
        assert session is not None and session.revoked_at is None
    client = app.test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 200
    assert (
        client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token}).status_code
        == 200
    )
