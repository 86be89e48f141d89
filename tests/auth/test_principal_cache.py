"""The principal kept per session (auth/principals.py): cheaper requests, the same guarantees.

Each test runs two app instances on one database. With REDIS_URL they keep principals and share
only the database and Redis, as two servers; without it, nothing is kept. A logout, a role change
or a deactivation through one instance holds at once on the other.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from flask import Flask

from tests import factories
from tests.conftest import make_test_app
from tests.platform.test_errors import assert_problem
from tests.queries import counting_queries
from tests.redis_server import UNREACHABLE_URL, redis_test_url

ME = "/api/v1/me"
BROADCASTS = "/api/v1/broadcasts"  # operators and admins only


def _sent(statements: list[str]) -> list[str]:
    """The queries, without SQLite's BEGIN and the test's savepoints."""
    return [
        s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK"))
    ]


@contextmanager
def sent_statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement sent while the block runs: through SQLAlchemy, and the session check's
    own reads on their DBAPI connection (which SQLAlchemy's events do not see), by watching the
    one function that sends them."""
    from binjai_api.auth import principals

    reads: list[str] = []
    send = principals._execute

    def watched(dbapi_connection: Any, sql: str, parameters: Any) -> Any:
        reads.append(sql)
        return send(dbapi_connection, sql, parameters)

    monkeypatch.setattr(principals, "_execute", watched)
    with counting_queries(app) as statements:
        everything: list[str] = []
        yield everything
    everything.extend(_sent(statements) + reads)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def shared_redis() -> str:
    url = redis_test_url()
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def instances(
    app: Flask, committed_db: None, database_url: str
) -> Iterator[Callable[..., tuple[Flask, Flask]]]:
    """Two instances on the test database, with the Redis given (or none)."""

    def make(redis_url: str | None, other_redis_url: str | None = None) -> tuple[Flask, Flask]:
        first = make_test_app(database_url, REDIS_URL=redis_url)
        second = make_test_app(database_url, REDIS_URL=other_redis_url or redis_url)
        return first, second

    yield make
    # The rate limiter is one object bound to the app initialised last: bind it back to an app
    # configured as the test app (no Redis), for the tests that follow.
    make_test_app(database_url)


def test_head_me_reads_the_account_once(
    app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD /me is answered by GET's view: one statement, GET's ETag, no body."""
    tokens = factories.login(client, factories.make_account(app))
    etag = client.get(ME, headers=bearer(tokens)).headers["ETag"]
    with sent_statements(app, monkeypatch) as statements:
        head = client.head(ME, headers=bearer(tokens))
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == etag
    assert len(statements) == 1, statements


def test_a_kept_principal_costs_no_sql(
    app: Flask,
    instances: Callable[..., tuple[Flask, Flask]],
    shared_redis: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With Redis the session is checked against the account's version, not the database: a
    warm /me sends one statement, the read of the account it shows."""
    first, _ = instances(shared_redis)
    client = first.test_client()
    tokens = factories.login(client, factories.make_account(app))
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    with sent_statements(first, monkeypatch) as statements:
        assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert len(statements) == 1, statements
    assert "auth_sessions" not in statements[0]


def test_without_redis_me_reads_the_account_once(
    app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Redis (the embedded default): the session check reads the account it checks, and /me
    shows that same row instead of reading it a second time."""
    tokens = factories.login(client, factories.make_account(app))
    with sent_statements(app, monkeypatch) as statements:
        assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert len(statements) == 1, statements
    assert "auth_sessions" in statements[0]


def test_logout_holds_at_once_on_another_instance_sharing_redis(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]], shared_redis: str
) -> None:
    first, second = instances(shared_redis)
    tokens = factories.login(first.test_client(), factories.make_account(app))
    other = second.test_client()
    assert other.get(ME, headers=bearer(tokens)).status_code == 200  # now kept by the second
    assert other.get(ME, headers=bearer(tokens)).status_code == 200
    logout = first.test_client().post("/api/v1/auth/logout", headers=bearer(tokens))
    assert logout.status_code == 204
    response = other.get(ME, headers=bearer(tokens))
    assert response.status_code == 401
    assert response.get_json()["code"] == "token_revoked"


def test_logout_holds_at_once_on_another_worker_without_redis(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]]
) -> None:
    """Two gunicorn workers of the embedded setup share only the database."""
    first, second = instances(None)
    tokens = factories.login(first.test_client(), factories.make_account(app))
    other = second.test_client()
    assert other.get(ME, headers=bearer(tokens)).status_code == 200
    assert (
        first.test_client().post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    )
    assert other.get(ME, headers=bearer(tokens)).status_code == 401


def test_a_role_change_holds_at_once_on_another_instance(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]], shared_redis: str
) -> None:
    first, second = instances(shared_redis)
    operator = factories.make_account(app, "operator")
    admin = factories.login_headers(first.test_client(), factories.make_account(app, "admin"))
    tokens = factories.login(first.test_client(), operator)
    other = second.test_client()
    assert other.get(BROADCASTS, headers=bearer(tokens)).status_code == 200
    demoted = first.test_client().patch(
        f"/api/v1/admin/accounts/{operator.id}",
        headers=admin,
        json={"role": "officer", "agency_id": factories.agency_id(app, "PUPR")},
    )
    assert demoted.status_code == 200, demoted.get_json()
    assert other.get(BROADCASTS, headers=bearer(tokens)).status_code == 403
    assert other.get(ME, headers=bearer(tokens)).get_json()["role"] == "officer"


def test_deactivation_holds_at_once_on_another_instance(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]], shared_redis: str
) -> None:
    first, second = instances(shared_redis)
    account = factories.make_account(app)
    admin = factories.login_headers(first.test_client(), factories.make_account(app, "admin"))
    tokens = factories.login(first.test_client(), account)
    other = second.test_client()
    assert other.get(ME, headers=bearer(tokens)).status_code == 200
    deactivate = first.test_client().post(
        f"/api/v1/admin/accounts/{account.id}/deactivate", headers=admin
    )
    assert deactivate.status_code == 200
    assert other.get(ME, headers=bearer(tokens)).status_code == 401


def test_a_redis_that_lost_its_keys_keeps_nothing_stale(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]], shared_redis: str
) -> None:
    """Redis restarted empty: versions are gone, so the kept principals are read afresh (a new
    epoch) instead of being trusted because nothing contradicts them."""
    first, second = instances(shared_redis)
    tokens = factories.login(first.test_client(), factories.make_account(app))
    other = second.test_client()
    assert other.get(ME, headers=bearer(tokens)).status_code == 200
    redis.Redis.from_url(shared_redis).flushdb()
    with first.app_context():
        first.config["REDIS_URL"] = None  # its logout publishes nothing: only the database knows
        assert (
            first.test_client().post("/api/v1/auth/logout", headers=bearer(tokens)).status_code
            == 204
        )
    assert other.get(ME, headers=bearer(tokens)).status_code == 401


def test_an_instance_that_cannot_reach_redis_reads_the_database(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]], shared_redis: str
) -> None:
    first, second = instances(shared_redis, UNREACHABLE_URL)
    tokens = factories.login(first.test_client(), factories.make_account(app))
    other = second.test_client()
    assert other.get(ME, headers=bearer(tokens)).status_code == 200
    assert (
        first.test_client().post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    )
    assert other.get(ME, headers=bearer(tokens)).status_code == 401


def test_a_verified_token_is_decoded_once_per_process(
    app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request with the same access token reuses the verified claims."""
    from flask_jwt_extended import jwt_manager

    tokens = factories.login(client, factories.make_account(app))
    decoded: list[str] = []
    verify = jwt_manager._decode_jwt

    def counting(**kwargs: Any) -> Any:
        decoded.append(kwargs["encoded_token"])
        return verify(**kwargs)

    monkeypatch.setattr(jwt_manager, "_decode_jwt", counting)
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert decoded.count(tokens["access_token"]) <= 1


def test_a_kept_token_is_refused_once_expired(app: Flask, client: Any) -> None:
    from datetime import timedelta

    from flask_jwt_extended import create_access_token, decode_token

    tokens = factories.login(client, factories.make_account(app))
    with app.app_context():
        claims = decode_token(tokens["access_token"])
        short = create_access_token(
            identity=claims["sub"],
            expires_delta=timedelta(seconds=1),
            additional_claims={key: claims[key] for key in ("typ", "sid", "roles")},
        )
    assert client.get(ME, headers={"Authorization": f"Bearer {short}"}).status_code == 200
    time.sleep(2.1)  # past its exp (whole seconds): the kept claims must not outlive it
    expired = client.get(ME, headers={"Authorization": f"Bearer {short}"})
    assert expired.status_code == 401


def test_without_redis_other_views_check_the_session_without_loading_the_account(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]]
) -> None:
    """A view that does not change the caller's account (not marked `reads_caller_account`)
    checks the session in one statement of plain columns, with no account object built (/me
    included, which shows the columns it read); a role change and a logout through another
    worker still hold at once there."""
    from sqlalchemy import event

    from binjai_api.auth.models import User

    first, second = instances(None)
    operator = factories.make_account(app, "operator")
    admin = factories.login_headers(first.test_client(), factories.make_account(app, "admin"))
    tokens = factories.login(first.test_client(), operator)
    other = second.test_client()
    loaded: list[Any] = []

    def on_load(target: Any, _context: Any) -> None:
        loaded.append(target)

    event.listen(User, "load", on_load)
    try:
        assert other.get(BROADCASTS, headers=bearer(tokens)).status_code == 200
        assert loaded == []
        assert other.get(ME, headers=bearer(tokens)).status_code == 200
        assert loaded == []
    finally:
        event.remove(User, "load", on_load)
    demoted = first.test_client().patch(
        f"/api/v1/admin/accounts/{operator.id}",
        headers=admin,
        json={"role": "officer", "agency_id": factories.agency_id(app, "PUPR")},
    )
    assert demoted.status_code == 200, demoted.get_json()
    assert other.get(BROADCASTS, headers=bearer(tokens)).status_code == 403
    assert (
        first.test_client().post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    )
    response = other.get(BROADCASTS, headers=bearer(tokens))
    assert response.status_code == 401
    assert response.get_json()["code"] == "token_revoked"


def _reads_through_sqlalchemy_and_prepared(app: Flask, tokens: dict[str, Any]) -> None:
    from flask_jwt_extended import decode_token

    from binjai_api.auth import principals
    from binjai_api.extensions import db

    with app.app_context():
        claims = decode_token(tokens["access_token"])
        session = {"session_id": uuid.UUID(claims["sid"]), "user_id": uuid.UUID(claims["sub"])}
        for name, values in (
            ("principal", session),
            ("account_and_session", session),
            ("account", {"user_id": session["user_id"]}),
        ):
            prepared = principals._fetch_one(name, values)
            through_sqlalchemy = db.session.execute(principals._READS[name](), values).one()
            assert prepared == tuple(through_sqlalchemy), name
            assert [type(v) for v in prepared] == [type(v) for v in through_sqlalchemy], name
        db.session.remove()


def test_the_prepared_reads_give_what_sqlalchemy_gives(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]]
) -> None:
    """The session check's reads, sent on a pooled DBAPI connection, convert their parameters
    and columns exactly as SQLAlchemy does (UUIDs, UTC times, booleans, an agency or none)."""
    first, _ = instances(None)
    for role in ("citizen", "officer"):
        tokens = factories.login(first.test_client(), factories.make_account(app, role))
        _reads_through_sqlalchemy_and_prepared(first, tokens)


def test_the_prepared_reads_see_the_tests_transaction(app: Flask, client: Any) -> None:
    """In a test rolled back at its end, the reads join the connection the test's sessions use
    (an account the test made is found)."""
    tokens = factories.login(client, factories.make_account(app, "officer"))
    _reads_through_sqlalchemy_and_prepared(app, tokens)


@pytest.mark.parametrize("with_redis", [False, True], ids=["embedded", "redis"])
def test_me_on_another_instance_shows_a_change_at_once(
    app: Flask,
    instances: Callable[..., tuple[Flask, Flask]],
    request: pytest.FixtureRequest,
    with_redis: bool,
) -> None:
    """/me shows the row its session check read: a role change made through another instance
    shows at once, with the new agency; a deactivation and a logout answer 401 at once."""
    first, second = instances(request.getfixturevalue("shared_redis") if with_redis else None)
    admin = factories.login_headers(first.test_client(), factories.make_account(app, "admin"))
    operator = factories.make_account(app, "operator")
    tokens = factories.login(first.test_client(), operator)
    other = second.test_client()
    shown = other.get(ME, headers=bearer(tokens))
    assert shown.get_json()["role"] == "operator" and shown.get_json()["agency"] is None
    demoted = first.test_client().patch(
        f"/api/v1/admin/accounts/{operator.id}",
        headers=admin,
        json={"role": "officer", "agency_id": factories.agency_id(app, "PUPR")},
    )
    assert demoted.status_code == 200, demoted.get_json()
    shown = other.get(ME, headers=bearer(tokens))
    assert shown.get_json()["role"] == "officer"
    assert shown.get_json()["agency"]["code"] == "PUPR"
    assert other.get(ME, headers=bearer(tokens)).headers["ETag"] == shown.headers["ETag"]
    deactivated = first.test_client().post(
        f"/api/v1/admin/accounts/{operator.id}/deactivate", headers=admin
    )
    assert deactivated.status_code == 200
    assert_problem(other.get(ME, headers=bearer(tokens)), 401, "token_revoked")

    citizen = factories.login(first.test_client(), factories.make_account(app))
    assert other.get(ME, headers=bearer(citizen)).status_code == 200
    logout = first.test_client().post("/api/v1/auth/logout", headers=bearer(citizen))
    assert logout.status_code == 204
    assert_problem(other.get(ME, headers=bearer(citizen)), 401, "token_revoked")


def test_an_unreachable_database_answers_an_authenticated_request_503(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]]
) -> None:
    """The session check's own connection cannot be opened: 503 with Retry-After, as any
    statement would answer, never a 500."""
    first, _ = instances(None)
    tokens = factories.login(first.test_client(), factories.make_account(app))
    unreachable = make_test_app("postgresql+psycopg://postgres@127.0.0.1:1/none")
    response = unreachable.test_client().get(ME, headers=bearer(tokens))
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "5"


@pytest.mark.postgres_only
def test_a_pooled_connection_lost_is_replaced_for_the_session_check(
    app: Flask, instances: Callable[..., tuple[Flask, Flask]], database_url: str
) -> None:
    """PostgreSQL ended the pooled connection the session check takes (a restart): the check
    drops it and reads on a new one, the answer is the same."""
    import sqlalchemy as sa

    from binjai_api.extensions import db

    first, _ = instances(None)
    client = first.test_client()
    tokens = factories.login(client, factories.make_account(app))
    before = client.get(ME, headers=bearer(tokens))
    assert before.status_code == 200
    with first.app_context():
        pooled = db.engine.raw_connection()
        pid = pooled.driver_connection.info.backend_pid  # type: ignore[union-attr]
        pooled.close()
        assert db.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    killer = sa.create_engine(database_url)
    try:
        with killer.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()
    after = client.get(ME, headers=bearer(tokens))
    assert after.status_code == 200, after.get_data(as_text=True)
    assert after.get_data() == before.get_data()
    assert client.get(ME, headers=bearer(tokens)).status_code == 200


def test_the_sqlite_session_check_keeps_a_connection_per_thread_and_drops_a_failed_one(
    tmp_path: Any, database_url: str
) -> None:
    """SQLite (the embedded default, on a database of its own in either pass): each thread
    reads the session check on a connection it keeps, which sees a logout committed on another
    connection at once; a kept connection that fails is dropped, the check answered through
    SQLAlchemy, and the next one opens a new connection."""
    from binjai_api.extensions import db

    app = make_test_app(f"sqlite:///{tmp_path / 'own.db'}")
    try:
        _check_on_kept_sqlite_connections(app)
    finally:
        with app.app_context():
            db.engine.dispose()
        # The rate limiter is bound to the app made last: back to one configured as the suite's.
        make_test_app(database_url)


def _check_on_kept_sqlite_connections(app: Flask) -> None:
    import threading

    from binjai_api.auth import principals
    from binjai_api.extensions import db
    from tests.conftest import _reset_schema

    _reset_schema(app)
    client = app.test_client()
    tokens = factories.login(client, factories.make_account(app))
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    with app.app_context():
        engine = db.engine
    kept = principals._sqlite_readers[engine].reader[1]
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert principals._sqlite_readers[engine].reader[1] is kept  # the same, not a checkout
    # Another thread has a connection of its own.
    others: list[Any] = []

    def check_in_another_thread() -> None:
        others.append(app.test_client().get(ME, headers=bearer(tokens)).status_code)
        others.append(principals._sqlite_readers[engine].reader[1])

    thread = threading.Thread(target=check_in_another_thread)
    thread.start()
    thread.join()
    assert others[0] == 200 and others[1] is not kept
    # A failed connection: dropped, the check still answered, a new one next time.
    kept.close()
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert principals._sqlite_readers[engine].reader is None
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    assert principals._sqlite_readers[engine].reader[1] is not kept
    # A logout committed on another connection holds at once on the kept one.
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens)).status_code in (200, 204)
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
