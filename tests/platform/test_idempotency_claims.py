"""The Idempotency-Key claim as one upsert in the request's own transaction: one commit per
request, and a duplicate of a request still running answered 409 at once on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth import service as auth_service
from binjai_api.auth.models import User
from binjai_api.extensions import db
from tests import factories

REGISTER = "/api/v1/auth/register"


def test_the_claim_the_work_and_the_response_commit_once(app: Flask, committed_db: None) -> None:
    """Before: the claim committed alone, then the work and the response (two commits)."""
    commits: list[object] = []

    def count_commit(connection: object) -> None:
        commits.append(connection)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "commit", count_commit)
    try:
        response = app.test_client().post(
            REGISTER,
            json=factories.registration(),
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    finally:
        sa.event.remove(engine, "commit", count_commit)
    assert response.status_code == 201
    assert len(commits) == 1


@pytest.mark.postgres_only
def test_a_duplicate_of_a_request_in_flight_is_a_409_then_a_replay(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request is held inside its work; a duplicate on another connection is answered
    409 at once (it does not wait for the first); once the first has committed, the duplicate
    is answered its response."""
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "1000 per minute")
    working, finish = threading.Event(), threading.Event()
    register = auth_service.register_citizen

    def held_register(**payload: Any) -> Any:
        working.set()
        assert finish.wait(timeout=30)
        return register(**payload)

    monkeypatch.setattr(auth_service, "register_citizen", held_register)
    body, key = factories.registration(), {"Idempotency-Key": str(uuid.uuid4())}
    first: list[Any] = []
    thread = threading.Thread(
        target=lambda: first.append(app.test_client().post(REGISTER, json=body, headers=key))
    )
    thread.start()
    try:
        assert working.wait(timeout=30)
        duplicate = app.test_client().post(REGISTER, json=body, headers=key)
        assert duplicate.status_code == 409
        assert duplicate.get_json()["code"] == "idempotency_in_flight"
        assert duplicate.headers["Retry-After"] == "1"
    finally:
        finish.set()
        thread.join(timeout=30)
    assert first[0].status_code == 201
    replay = app.test_client().post(REGISTER, json=body, headers=key)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first[0].get_json()
    with app.app_context():
        count = sa.select(sa.func.count()).select_from(User).where(User.nik == body["nik"])
        assert db.session.scalar(count) == 1


def test_a_request_that_fails_leaves_its_key_free(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is rolled back with the failed work: the retry runs (it is not told 409)."""
    key, body = {"Idempotency-Key": str(uuid.uuid4())}, factories.registration()
    register = auth_service.register_citizen

    def failing(**_payload: Any) -> Any:
        raise sa.exc.OperationalError("INSERT INTO users", {}, Exception("connection lost"))

    monkeypatch.setattr(auth_service, "register_citizen", failing)
    assert client.post(REGISTER, json=body, headers=key).status_code == 503
    monkeypatch.setattr(auth_service, "register_citizen", register)
    retry = client.post(REGISTER, json=body, headers=key)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
