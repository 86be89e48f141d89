"""Test fixtures: one app per run, on SQLite or (TEST_DATABASE_URL) PostgreSQL.

Each test runs inside a transaction that is rolled back afterwards: every session the app opens
joins it through a SAVEPOINT, so services that commit still see their own writes. Tests that
need real commits from several connections at once (`committed_db`) clean up by truncating.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from binjai_api import create_app
from binjai_api.db import CommitDeferring
from binjai_api.extensions import db, limiter
from binjai_api.logs import JsonFormatter, RequestContextFilter
from tests import factories
from tests.audit.tampering import empty_the_trail

FAST_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}


def _database_url(tmp_dir: Any) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_dir}/test.db"


def is_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def pytest_report_header(config: Any) -> str:
    if is_postgres():
        return f"database: PostgreSQL {os.environ['TEST_DATABASE_URL']}"
    return "database: SQLite"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    # PostgreSQL-only tests (row locks, SKIP LOCKED, real parallel writers) belong to the
    # PostgreSQL pass of `make test`; the slow outside tools (fuzzing, client generation,
    # Chromium) run once, in the SQLite pass. Each is deselected in the other pass, not skipped.
    other_pass_marker = "single_pass" if is_postgres() else "postgres_only"
    selected = [item for item in items if other_pass_marker not in item.keywords]
    deselected = [item for item in items if other_pass_marker in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    settings = {
        "TESTING": True,
        "BINJAI_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "DEFAULT_RATE_LIMIT": "100000 per minute",
        "LOG_FORMAT": "json",
        # Totals counted afresh, so that a test sees the rows it just wrote.
        "PUBLIC_COUNT_CACHE_SECONDS": 0,
        "OPS_CACHE_SECONDS": 0,
        # The concurrency tests fire up to 300 requests at once at this one in-process app (10
        # pooled connections, one GIL): the last ones wait their turn for a connection longer
        # than production's 5 s would allow. What they test is the outcome of truly concurrent
        # writes, not this process's capacity (bench/ measures that).
        "DB_POOL_TIMEOUT_SECONDS": 60,
        **FAST_PASSWORD_HASHING,
        **overrides,
    }
    return create_app(settings)


def _reset_schema(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        from binjai_api import seed

        seed.seed_regions()
        seed.seed_agencies()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    application = make_test_app(database_url, UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    if is_postgres():
        with application.app_context():
            try:
                db.session.execute(sa.text("SELECT 1"))
            except sa.exc.OperationalError as exc:  # required in CI: fail, never skip
                pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", 2)
            finally:
                db.session.remove()
    _reset_schema(application)
    return application


@pytest.fixture(autouse=True)
def _reset_rate_limits(app: Flask) -> None:
    with app.app_context():
        limiter.reset()


@pytest.fixture
def rollback_db(app: Flask) -> Iterator[None]:
    """Everything the test writes is rolled back at its end."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
    original = db.session
    db.session = scoped_session(  # type: ignore[misc]
        # The app's commit deferral (idempotent requests) applies to the test's session too.
        sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", class_=CommitDeferring
        ),
        scopefunc=original.registry.scopefunc,
    )
    try:
        yield
    finally:
        # Each app context removed its own session on teardown; only the connection remains.
        db.session = original  # type: ignore[misc]
        transaction.rollback()
        connection.close()


TABLES_KEPT = ("alembic_version", "kecamatan", "kelurahan", "agencies")
# Append-only in the database: emptied past their triggers (tests.audit.tampering).
AUDIT_TABLES = ("audit_records", "audit_chain_head")


@pytest.fixture
def committed_db(app: Flask) -> Iterator[None]:
    """Real commits on separate connections (concurrency tests); the tables are emptied after."""
    yield
    with app.app_context():
        db.session.remove()
        kept = TABLES_KEPT + AUDIT_TABLES
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in kept]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")
            else:
                for table in tables:
                    connection.exec_driver_sql(f"DELETE FROM {table}")
            empty_the_trail(connection)


@pytest.fixture
def client(app: Flask, rollback_db: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, rollback_db: None) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def auth_headers(app: Flask, client: FlaskClient) -> Callable[..., dict[str, str]]:
    """`auth_headers("officer", agency_code="PUPR")`: headers of a fresh account with that role."""

    def make(role: str = "citizen", **overrides: Any) -> dict[str, str]:
        account = factories.make_account(app, role, **overrides)
        return factories.login_headers(client, account)

    return make


@pytest.fixture
def new_id() -> Callable[[], str]:
    return lambda: str(uuid.uuid4())


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the app logs during the test, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("binjai_api")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
