"""Refresh races: the token just spent, presented again within the grace period, gets the same
successor pair back; any other reuse still ends the whole session."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.models import AuthSession
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests import factories, second_instance
from tests.platform.test_errors import assert_problem

REFRESH = "/api/v1/auth/refresh"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(client: FlaskClient, token: str):  # type: ignore[no-untyped-def]
    return client.post(REFRESH, json={"refresh_token": token})


def age_last_rotation(app: Flask, user_id: str, seconds: int) -> None:
    """Let `seconds` pass since the account's sessions were last rotated."""
    with app.app_context():
        db.session.execute(
            sa.update(AuthSession)
            .where(AuthSession.user_id == uuid.UUID(user_id))
            .values(rotated_at=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()


def session_of(app: Flask, user_id: str) -> AuthSession:
    with app.app_context():
        session = db.session.scalars(
            sa.select(AuthSession).where(AuthSession.user_id == uuid.UUID(user_id))
        ).one()
        db.session.expunge(session)
        return session


def test_the_spent_token_replayed_within_the_grace_gets_the_same_pair(
    app: Flask, client: FlaskClient
) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    first = refresh(client, tokens["refresh_token"])
    replays = [refresh(client, tokens["refresh_token"]) for _ in range(3)]
    assert first.status_code == 200
    assert [r.status_code for r in replays] == [200, 200, 200]
    assert all(r.get_json() == first.get_json() for r in replays)
    successor = first.get_json()
    assert session_of(app, account.id).revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(successor["access_token"])).status_code == 200
    # The successor goes on rotating normally.
    assert refresh(client, successor["refresh_token"]).status_code == 200


def test_replay_after_the_grace_still_ends_the_whole_session(
    app: Flask, client: FlaskClient
) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    successor = refresh(client, tokens["refresh_token"]).get_json()
    age_last_rotation(app, account.id, 31)  # REFRESH_REUSE_GRACE_SECONDS: 30
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")
    assert session_of(app, account.id).revoked_reason == "refresh_token_reuse"
    assert_problem(refresh(client, successor["refresh_token"]), 401, "token_revoked")
    assert_problem(
        client.get("/api/v1/me", headers=bearer(successor["access_token"])), 401, "token_revoked"
    )


def test_the_grace_covers_only_the_token_the_last_rotation_spent(
    app: Flask, client: FlaskClient
) -> None:
    """A → B → C: B replayed gets C; A (spent two rotations ago) is a leaked token."""
    account = factories.make_account(app)
    a = factories.login(client, account)["refresh_token"]
    b = refresh(client, a).get_json()["refresh_token"]
    c = refresh(client, b).get_json()
    assert refresh(client, b).get_json() == c
    assert_problem(refresh(client, a), 401, "refresh_token_reused")
    assert_problem(refresh(client, c["refresh_token"]), 401, "token_revoked")


def test_a_grace_of_zero_turns_the_replay_off(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "REFRESH_REUSE_GRACE_SECONDS", 0)
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    refresh(client, tokens["refresh_token"])
    age_last_rotation(app, account.id, 1)
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "refresh_token_reused")


def test_a_logged_out_session_replays_nothing(app: Flask, client: FlaskClient) -> None:
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    successor = refresh(client, tokens["refresh_token"]).get_json()
    client.post("/api/v1/auth/logout", headers=bearer(successor["access_token"]))
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "token_revoked")


def test_the_stored_successor_is_sealed_and_opens_only_with_the_spent_token(
    app: Flask, client: FlaskClient
) -> None:
    """The database keeps the successor pair only encrypted under a key derived from the spent
    token, which it never holds: reading the table gives no usable token."""
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    successor = refresh(client, tokens["refresh_token"]).get_json()
    stored = session_of(app, account.id)
    assert stored.successor_sealed
    for secret in (successor["refresh_token"], successor["access_token"]):
        for part in secret.split("."):
            assert part not in stored.successor_sealed
    assert tokens["refresh_token"] not in stored.successor_sealed


def test_the_replay_is_answered_by_another_instance(
    app: Flask, committed_db: None, database_url: str
) -> None:
    """The rotation lives in the shared database: a second instance, in its own process, answers
    the racing duplicate with the pair and leaves the session alive."""
    client = app.test_client()
    account = factories.make_account(app)
    tokens = factories.login(client, account)
    successor = refresh(client, tokens["refresh_token"]).get_json()
    replay = {"method": "POST", "path": REFRESH, "json": {"refresh_token": tokens["refresh_token"]}}
    assert second_instance.run(database_url, "", [replay]) == [200]
    assert client.get("/api/v1/me", headers=bearer(successor["access_token"])).status_code == 200
    assert refresh(client, successor["refresh_token"]).status_code == 200


def test_racing_refreshes_of_one_token_all_get_the_same_pair(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four refreshes of one token at the same instant (an app resuming with requests in flight),
    each on its own connection: on SQLite they queue for the write lock, on PostgreSQL for the
    session's row lock; either way one rotates and the others replay its pair."""
    from tests.concurrency import run_together

    monkeypatch.setitem(app.config, "TOKEN_RATE_LIMIT", "1000 per minute")
    account = factories.make_account(app)
    tokens = factories.login(app.test_client(), account)
    responses = run_together(app, 4, lambda client: refresh(client, tokens["refresh_token"]))
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.get_data() for r in responses}) == 1
    assert session_of(app, account.id).revoked_at is None
