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
