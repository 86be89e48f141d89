"""Declarative base, naming convention and the column types every domain shares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zones and hands back naive values; PostgreSQL keeps `timestamptz`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use binjai_api.db.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def for_update(locking: bool, model: Any) -> dict[str, Any]:
    """`Session.get()` options that lock `model`'s row (not the rows its eager loads join) until
    the transaction ends and read it afresh: how a view checks If-Match on the same state its
    change then commits over (without the lock, two writers holding one ETag could both pass the
    check)."""
    if not locking:
        return {}
    return {"with_for_update": {"of": model}, "populate_existing": True}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        datetime: UTCDateTime(),
        uuid.UUID: sa.Uuid(),
    }


class UUIDPrimaryKey:
    """Opaque public identifier (CONVENTIONS: never a sequential integer)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


def render_migration_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Write our column types into migrations as plain SQLAlchemy types, so that a migration
    never imports application code that may change after it lands."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Key of `Session.info`: while set, `commit()` only flushes (see CommitDeferring).
DEFER_COMMIT = "binjai.defer_commit"


class CommitDeferring(Session):
    """A session whose `commit()` only flushes while `info[DEFER_COMMIT]` is set, so that the
    caller who set it commits everything at once. An `Idempotency-Key` request uses this to
    commit its work and its stored response in one transaction: stored separately, a crash or a
    lost database between the two would let a retry do the work a second time."""

    def commit(self) -> None:
        if self.info.get(DEFER_COMMIT):
            self.flush()
            return
        super().commit()


@contextmanager
def commits_deferred(session: Session) -> Iterator[None]:
    """Within, the session's `commit()` only flushes; the caller commits once afterwards."""
    session.info[DEFER_COMMIT] = True
    try:
        yield
    finally:
        session.info.pop(DEFER_COMMIT, None)


# --- SQLite, the embedded default: writers queue for the lock instead of failing ---------------

# How long a statement waits for another connection's lock before SQLite gives up (a 503). Below
# gunicorn's worker timeout (30 s), far above a write transaction of this app (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 20_000
# Key of a DBAPI connection's `info`: its transaction began deferred and has not written yet.
_SQLITE_READING = "binjai.sqlite_reading"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


def _expects_writes() -> bool:
    """A request that may change something (POST, PUT, PATCH, DELETE), or work outside a request
    (commands, the outbox worker), which writes."""
    from flask import has_request_context, request

    return not has_request_context() or request.method not in _SAFE_METHODS


def tune_sqlite(engine: sa.engine.Engine) -> None:
    """Make the embedded SQLite carry concurrent writers: foreign keys on, WAL (readers never
    wait for the writer), SQLAlchemy driving transactions (real SAVEPOINTs), and every write
    transaction waiting its turn for the single write lock.

    SQLite waits for a lock (busy timeout) only when a transaction takes it from the start: a
    transaction that has read and then writes fails at once with SQLITE_BUSY while another
    connection writes, or has written since its first read. So a transaction that will write
    begins with `BEGIN IMMEDIATE`; a read (a GET) begins deferred, never blocking anyone, and is
    turned into a write transaction at its first write: its reads are committed and
    `BEGIN IMMEDIATE` waits for the lock, as a request that writes would have from the start."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy drive it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        writes = _expects_writes()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
        connection.info[_SQLITE_READING] = not writes

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before_execute(
        connection: sa.Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if not connection.info.get(_SQLITE_READING):
            return
        if not statement.lstrip().upper().startswith(_WRITE_STATEMENTS):
            return
        connection.info[_SQLITE_READING] = False
        cursor.execute("COMMIT")  # only reads so far: nothing is lost
        cursor.execute("BEGIN IMMEDIATE")

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _on_end(connection: sa.Connection) -> None:
        connection.info.pop(_SQLITE_READING, None)
