"""Idempotency-Key: retries replay the first answer; concurrent duplicates create one resource."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.models import User
from binjai_api.extensions import db
from tests import factories
from tests.platform.test_errors import assert_problem

REGISTER = "/api/v1/auth/register"


def test_a_retry_replays_the_first_response(client: FlaskClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = factories.registration()
    first = client.post(REGISTER, json=body, headers=key)
    retry = client.post(REGISTER, json=body, headers=key)
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert retry.mimetype == "application/json"


def test_the_same_key_with_another_body_is_a_422(client: FlaskClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    client.post(REGISTER, json=factories.registration(), headers=key)
    other = client.post(REGISTER, json=factories.registration(), headers=key)
    assert_problem(other, 422, "idempotency_key_reuse")


def test_key_order_in_the_json_body_does_not_matter(client: FlaskClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = factories.registration()
    client.post(REGISTER, json=body, headers=key)
    reordered = dict(reversed(list(body.items())))
    assert client.post(REGISTER, json=reordered, headers=key).status_code == 201


def test_a_failed_attempt_is_not_remembered(client: FlaskClient) -> None:
    """A request that failed validation may be corrected and sent again with the same key."""
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = factories.registration(phone="123")
    assert client.post(REGISTER, json=body, headers=key).status_code == 422
    body["phone"] = factories.valid_phone()
    assert client.post(REGISTER, json=body, headers=key).status_code == 201


def test_the_work_and_its_stored_response_commit_together(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is lost between the work and storing its response: neither is kept, so the
    retry registers the account once (before: the first account stayed, its key stayed in
    flight, and a retry after IDEMPOTENCY_IN_FLIGHT_SECONDS registered the work a second time)."""
    from binjai_api import idempotency

    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = factories.registration()

    def database_lost(record_id: uuid.UUID, response: Any) -> None:
        raise sa.exc.OperationalError(
            "UPDATE idempotency_records", {}, Exception("server closed the connection")
        )

    with monkeypatch.context() as patched:
        patched.setattr(idempotency, "_complete", database_lost)
        assert_problem(client.post(REGISTER, json=body, headers=key), 503, "database_unavailable")
    with app.app_context():
        stored = sa.select(sa.func.count()).select_from(User).where(User.nik == body["nik"])
        assert db.session.scalar(stored) == 0
    retry = client.post(REGISTER, json=body, headers=key)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    with app.app_context():
        assert db.session.scalar(stored) == 1


def test_keys_are_scoped_per_account(app: Flask, client: FlaskClient, auth_headers: Any) -> None:
    key = str(uuid.uuid4())
    body = {"code": "BAPPEDA", "name": "Badan Perencanaan", "name_en": "Planning Agency"}
    first_admin = {**auth_headers("admin"), "Idempotency-Key": key}
    second_admin = {**auth_headers("admin"), "Idempotency-Key": key}
    assert client.post("/api/v1/agencies", json=body, headers=first_admin).status_code == 201
    # Another account's identical key is its own: it really runs (and meets the duplicate).
    other = client.post("/api/v1/agencies", json=body, headers=second_admin)
    assert_problem(other, 409, "agency_code_taken")


def test_an_oversized_key_is_a_400(client: FlaskClient) -> None:
    response = client.post(
        REGISTER, json=factories.registration(), headers={"Idempotency-Key": "k" * 300}
    )
    assert_problem(response, 400, "invalid_idempotency_key")


@pytest.mark.postgres_only
def test_concurrent_requests_with_one_key_create_exactly_one_account(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "1000 per minute")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = factories.registration()
    barrier = threading.Barrier(12)
    statuses: list[int] = []
    replayed: list[bool] = []

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(REGISTER, json=body, headers=key)
        statuses.append(response.status_code)
        replayed.append(response.headers.get("Idempotent-Replayed") == "true")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counts = Counter(statuses)
    assert set(counts) <= {201, 409}, counts
    assert counts[201] - sum(replayed) == 1  # one real creation; the other 201s are replays
    with app.app_context():
        stored = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.nik == body["nik"])
        )
    assert stored == 1


def _fingerprint(app: Flask, body: dict[str, Any]) -> str:
    from binjai_api.idempotency import _request_fingerprint

    with app.test_request_context(REGISTER, method="POST", json=body):
        return _request_fingerprint()


def _store_record(app: Flask, key: str, fingerprint: str, **fields: Any) -> None:
    from binjai_api.db import utcnow
    from binjai_api.idempotency import IdempotencyRecord

    with app.app_context():
        now = utcnow()
        values = {"locked_at": now, "expires_at": now + timedelta(hours=24)} | fields
        db.session.add(
            IdempotencyRecord(scope="anonymous", key=key, fingerprint=fingerprint, **values)
        )
        db.session.commit()


def test_a_duplicate_while_the_first_is_in_flight_is_a_409(app: Flask, client: FlaskClient) -> None:
    key, body = str(uuid.uuid4()), factories.registration()
    _store_record(app, key, _fingerprint(app, body))  # the first attempt is still running
    response = client.post(REGISTER, json=body, headers={"Idempotency-Key": key})
    assert_problem(response, 409, "idempotency_in_flight")
    assert response.headers["Retry-After"] == "1"


def test_a_first_attempt_whose_process_died_is_taken_over(app: Flask, client: FlaskClient) -> None:
    from binjai_api.db import utcnow

    key, body = str(uuid.uuid4()), factories.registration()
    long_ago = utcnow() - timedelta(seconds=app.config["IDEMPOTENCY_IN_FLIGHT_SECONDS"] + 5)
    _store_record(app, key, _fingerprint(app, body), locked_at=long_ago)
    response = client.post(REGISTER, json=body, headers={"Idempotency-Key": key})
    assert response.status_code == 201
    replay = client.post(REGISTER, json=body, headers={"Idempotency-Key": key})
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_keys_are_kept_24_hours_then_free_again(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    from binjai_api.db import utcnow

    key = str(uuid.uuid4())
    _store_record(
        app,
        key,
        "an-older-request",
        locked_at=None,
        response_status=201,
        response_body="{}",
        expires_at=utcnow() - timedelta(seconds=1),
    )
    fresh_key = str(uuid.uuid4())
    client.post(REGISTER, json=factories.registration(), headers={"Idempotency-Key": fresh_key})
    # an expired key may be used for a new request
    response = client.post(
        REGISTER, json=factories.registration(), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    from binjai_api.idempotency import IdempotencyRecord

    with app.app_context():
        kept = db.session.scalar(
            sa.select(IdempotencyRecord.expires_at).where(IdempotencyRecord.key == fresh_key)
        )
        assert kept is not None and kept - utcnow() > timedelta(hours=23, minutes=59)
        db.session.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.key == fresh_key)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    result = runner.invoke(args=["prune-idempotency"])
    assert "Deleted 1 expired" in result.output
