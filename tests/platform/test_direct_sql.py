"""direct_sql.py: a prebuilt statement sent on SQLite's cursor answers, writes, counts and fails
exactly as through SQLAlchemy; elsewhere (PostgreSQL, an expanding IN list, a Python-side
default) it goes through SQLAlchemy.

The direct path is tested on a SQLite file of its own, in both passes of the suite; the app's
own database (SQLite or PostgreSQL) is tested through the services that use it."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api import direct_sql
from binjai_api.db import UTCDateTime, tune_sqlite
from binjai_api.extensions import db

METADATA = sa.MetaData()
THINGS = sa.Table(
    "things",
    METADATA,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("details", sa.JSON(), nullable=True),
    sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
)
# A column with a Python-side default: a statement that leaves it out needs SQLAlchemy to fill it.
DEFAULTED = sa.Table(
    "defaulted",
    METADATA,
    sa.Column("id", sa.Uuid(), primary_key=True, default=uuid.uuid4),
    sa.Column("name", sa.String(40), nullable=False),
)
INSERT_THING = sa.insert(THINGS)
UPSERT_COUNT = (
    sa.dialects.sqlite.insert(THINGS)
    .values(
        id=sa.bindparam("id", type_=sa.Uuid()),
        name=sa.bindparam("name", type_=sa.String()),
        at=sa.bindparam("at", type_=UTCDateTime()),
        count=1,
    )
    .on_conflict_do_update(index_elements=["id"], set_={"count": THINGS.c.count + 1})
    .returning(THINGS.c.count, THINGS.c.at, THINGS.c.id)
)
SELECT_THINGS = sa.select(THINGS).order_by(THINGS.c.name)
SELECT_NAMED = sa.select(THINGS.c.id, THINGS.c.details).where(
    THINGS.c.name.in_(sa.bindparam("names", expanding=True))
)
AT = datetime(2026, 12, 5, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    tune_sqlite(engine)
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


def thing(name: str, **overrides: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "name": name, "at": AT, "details": {"n": name}, **overrides}


def test_rows_and_counts_as_through_sqlalchemy(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.begin() as connection:
        one = direct_sql.execute(connection, INSERT_THING, thing("a"))
        many = direct_sql.execute(connection, INSERT_THING, [thing("b"), thing("c", details=None)])
        assert (one.rowcount, many.rowcount) == (1, 2)
        direct = direct_sql.execute(connection, SELECT_THINGS).rows
        through = [tuple(row) for row in connection.execute(SELECT_THINGS)]
    assert direct == through
    assert [row[1] for row in direct] == ["a", "b", "c"]
    # Stored as SQLAlchemy stores them, and read back as its result does: UUIDs, aware UTC
    # instants, JSON.
    first = direct[0]
    assert isinstance(first[0], uuid.UUID)
    assert first[2] == AT and first[2].tzinfo is not None
    assert first[3] == {"n": "a"}
    assert direct[2][3] is None
    assert first[4] == 0  # the server default of the column left out


def test_upsert_returning_and_literal_values(sqlite_engine: sa.Engine) -> None:
    key = uuid.uuid4()
    later = AT + timedelta(hours=1)
    with sqlite_engine.begin() as connection:
        created = direct_sql.execute(connection, UPSERT_COUNT, {"id": key, "name": "x", "at": AT})
        again = direct_sql.execute(connection, UPSERT_COUNT, {"id": key, "name": "x", "at": later})
    # The literal 1 of the VALUES and the + 1 of the update are the statement's own values.
    assert created.one() == (1, AT, key)
    assert again.one() == (2, AT, key)
    assert again.scalars() == [2]


def test_engine_listeners_see_each_statement(sqlite_engine: sa.Engine) -> None:
    seen: list[tuple[str, Any, bool]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters, rest[-1]))

    after: list[str] = []
    sa.event.listen(sqlite_engine, "before_cursor_execute", before)
    sa.event.listen(sqlite_engine, "after_cursor_execute", lambda *args: after.append(args[2]))
    with sqlite_engine.begin() as connection:
        direct_sql.execute(connection, INSERT_THING, thing("a"))
        direct_sql.execute(connection, INSERT_THING, [thing("b"), thing("c")])
    statements = [entry for entry in seen if entry[0].startswith("INSERT")]
    assert [(statement.split(" (")[0], many) for statement, _, many in statements] == [
        ("INSERT INTO things", False),
        ("INSERT INTO things", True),
    ]
    assert len(statements[1][1]) == 2  # one set of values per row
    assert [s for s in after if s.startswith("INSERT")] == [s for s, _, _ in statements]


def test_a_read_transaction_becomes_a_write_at_its_first_direct_write(
    app: Flask, sqlite_engine: sa.Engine
) -> None:
    """db.tune_sqlite's listener turns a deferred (GET) transaction into BEGIN IMMEDIATE at its
    first write: it must see the writes sent here too, or a concurrent writer would make them
    fail with SQLITE_BUSY instead of waiting."""
    with app.test_request_context("/", method="GET"), sqlite_engine.connect() as connection:
        connection.begin()
        assert connection.info["binjai.sqlite_reading"] is True
        direct_sql.execute(connection, SELECT_THINGS)
        assert connection.info["binjai.sqlite_reading"] is True
        direct_sql.execute(connection, INSERT_THING, thing("a"))
        assert connection.info["binjai.sqlite_reading"] is False
        dbapi_connection: Any = connection.connection.dbapi_connection
        assert dbapi_connection.in_transaction
        # The write lock is held: another writer waits for it (here: gives up at once).
        other = sqlite3.connect(str(sqlite_engine.url.database), timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        connection.rollback()


def test_failures_are_raised_as_sqlalchemy_raises_them(sqlite_engine: sa.Engine) -> None:
    row = thing("a")
    with sqlite_engine.connect() as connection, connection.begin():
        direct_sql.execute(connection, INSERT_THING, row)
        with pytest.raises(sa.exc.IntegrityError) as raised:
            direct_sql.execute(connection, INSERT_THING, {**row, "name": "b"})
        assert "UNIQUE constraint failed: things.id" in str(raised.value)
        assert "things" in str(raised.value.statement)
        # The failed statement changed nothing; the transaction goes on.
        assert direct_sql.execute(connection, SELECT_THINGS).scalars() == [row["id"]]
        with pytest.raises(sa.exc.InvalidRequestError, match="required"):
            direct_sql.execute(connection, UPSERT_COUNT, {"id": uuid.uuid4(), "name": "x"})


def test_in_lists_and_literals_rendered_late(sqlite_engine: sa.Engine) -> None:
    """An expanding IN list (compiled once per number of items) and a literal SQLAlchemy renders
    at execution (aggregate_strings' separator): sent directly, answering as SQLAlchemy does."""
    joined = sa.select(sa.func.aggregate_strings(THINGS.c.name, ",")).where(
        THINGS.c.name.in_(sa.bindparam("names", expanding=True))
    )
    seen: list[str] = []
    sa.event.listen(sqlite_engine, "before_cursor_execute", lambda *args: seen.append(str(args[4])))
    with sqlite_engine.begin() as connection:
        direct_sql.execute(connection, INSERT_THING, [thing("a"), thing("b"), thing("c")])
        for names in (["a", "c"], ["b"], ["a", "b", "c"], [], ["c", "a"]):
            direct = direct_sql.execute(connection, SELECT_NAMED, {"names": names}).rows
            through = [tuple(row) for row in connection.execute(SELECT_NAMED, {"names": names})]
            assert sorted(direct, key=str) == sorted(through, key=str)
            assert sorted(details["n"] for _, details in direct) == sorted(names)
        # Each item through its type's processor (UUIDs stored as 32 hex digits on SQLite).
        ids = [row[0] for row in direct_sql.execute(connection, SELECT_THINGS).rows]
        by_id = sa.select(THINGS.c.name).where(THINGS.c.id.in_(sa.bindparam("ids", expanding=True)))
        assert sorted(direct_sql.execute(connection, by_id, {"ids": ids[:2]}).scalars()) == [
            "a",
            "b",
        ]
        assert direct_sql.execute(connection, joined, {"names": ["a", "b"]}).scalars() in (
            ["a,b"],
            ["b,a"],
        )
    # Sent by this path (no execution context), not by SQLAlchemy.
    assert seen.count("None") == 1 + 5 + 2 + 1


def test_what_this_path_cannot_send_goes_through_sqlalchemy(sqlite_engine: sa.Engine) -> None:
    """A column default made in Python, an IN list with several sets of values or none, a
    statement outside a transaction: sent by SQLAlchemy, with its result or its error."""
    sent: list[tuple[str, Any]] = []
    sa.event.listen(
        sqlite_engine, "before_cursor_execute", lambda *args: sent.append((args[2], args[4]))
    )
    with sqlite_engine.begin() as connection:
        direct_sql.execute(connection, INSERT_THING, [thing("a"), thing("b"), thing("c")])
        direct_sql.execute(connection, sa.insert(DEFAULTED), {"name": "made"})
        made = connection.execute(sa.select(DEFAULTED.c.id)).scalar_one()
        renamed = (
            sa.update(THINGS)
            .where(THINGS.c.name.in_(sa.bindparam("names", expanding=True)))
            .values(details=sa.bindparam("details"))
        )
        with pytest.raises(sa.exc.StatementError, match="executemany"):  # SQLAlchemy's refusal
            direct_sql.execute(
                connection,
                renamed,
                [{"names": ["a"], "details": {"x": 1}}, {"names": ["b", "c"], "details": None}],
            )
        with pytest.raises(sa.exc.StatementError, match="names"):  # the list not given
            direct_sql.execute(connection, renamed, {"details": None})
    assert isinstance(made, uuid.UUID)
    # Outside a transaction too (SQLAlchemy begins one).
    with sqlite_engine.connect() as connection:
        assert len(direct_sql.execute(connection, SELECT_THINGS).rows) == 3
    # With an execution context: sent by SQLAlchemy; without: by this path.
    by_sqlalchemy = [sql.split(" (")[0] for sql, context in sent if context is not None]
    assert "INSERT INTO defaulted" in by_sqlalchemy
    assert by_sqlalchemy[-1].startswith("SELECT things.id")  # outside a transaction
    assert [sql for sql, context in sent if context is None] == [
        INSERT_THING.compile(sqlite_engine, column_keys=sorted(thing("a"))).string
    ]


def test_the_apps_database_answers_the_same(app: Flask, rollback_db: None) -> None:
    """On the suite's database (SQLite, or PostgreSQL through SQLAlchemy), a statement of the
    app answers as SQLAlchemy does."""
    from binjai_api.agencies.models import Agency

    statement = sa.select(Agency.id, Agency.code, Agency.created_at).order_by(Agency.code)
    with app.app_context():
        connection = db.session.connection()
        direct = direct_sql.execute(connection, statement)
        through = [tuple(row) for row in connection.execute(statement)]
        db.session.rollback()
    assert direct.rows == through
    assert direct.rows, "the suite seeds the agencies"


def test_the_apps_database_fails_as_sqlalchemy_fails(app: Flask, rollback_db: None) -> None:
    """A constraint broken on the suite's database raises SQLAlchemy's IntegrityError, naming
    the statement."""
    from binjai_api.numbering import NumberSeries

    insert = sa.insert(cast(sa.Table, NumberSeries.__table__))
    with app.app_context():
        connection = db.session.connection()
        direct_sql.execute(connection, insert, {"series": "direct-sql-test", "last_value": 1})
        with pytest.raises(sa.exc.IntegrityError) as raised:
            direct_sql.execute(connection, insert, {"series": "direct-sql-test", "last_value": 2})
        assert "number_series" in str(raised.value.statement)
        db.session.rollback()


@pytest.mark.postgres_only
def test_a_lost_connection_is_invalidated_as_sqlalchemy_does(app: Flask) -> None:
    """PostgreSQL restarted under a transaction: the statement fails as SQLAlchemy's would (a
    DBAPIError marked `connection_invalidated`, which the API answers 503 with Retry-After) and
    the connection is dropped, not handed back to the pool; the next one works."""
    statement = sa.select(sa.literal(1, sa.Integer()).label("one"))
    with app.app_context():
        engine = db.engine
    with engine.connect() as connection:
        connection.begin()
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            other.commit()
        with pytest.raises(sa.exc.DBAPIError) as raised:
            direct_sql.execute(connection, statement)
        assert raised.value.connection_invalidated
        assert connection.invalidated
    with engine.connect() as connection, connection.begin():
        assert direct_sql.execute(connection, statement).scalars() == [1]
