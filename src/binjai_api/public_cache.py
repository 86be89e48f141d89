"""Public responses kept per process while the database's data is unchanged (`public_response`).

A public list that reads alike for every caller (the feed) is the same page for every resident
until something is committed. Each process keeps its answers (body and the view's own headers),
keyed by the endpoint, the path, the raw query string and the response's language, beside the
database's *data version* read before the page was built. A later request reads the version
first and is answered from the cache only while it is unchanged, so an answer is never staler
than the database: a write committed by any connection of any process or instance shows in the
next response. The per-request headers (request id, security headers, Content-Language, rate-limit
headers) are added by the usual hooks on every answer, and the request passes the rate limiter
before the view runs. Errors are never kept.

The data version:
- SQLite: `PRAGMA data_version` on a connection of this process that never writes. Its value
  changes when any *other* connection commits (https://www.sqlite.org/pragma.html#pragma_data_version),
  in this process or another one, in WAL mode too.
- PostgreSQL: `pg_current_snapshot()` on an autocommit connection of this process. Two equal
  snapshots mean that no transaction with an xid (every write has one) completed in between: any
  that did was running (in the list or at or past `xmax`) at the first and not at the second.
  Under READ COMMITTED each statement of the page takes its snapshot after the version was read,
  so the page holds at least what that version saw; a commit after it changes the next version.
  The snapshot is the whole cluster's, so writes to other databases of the cluster miss too.

A page that shows the clock (`is_overdue`) is kept only until the first moment its answer would
change (`valid_until`). A session bound to a connection with a transaction of its own (the tests'
rollback mode) may see writes that no version counts: no cache there.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request

from binjai_api.db import utcnow
from binjai_api.i18n import negotiated_language

F = TypeVar("F", bound=Callable[..., Any])

# Bounded per process: distinct pages (filters, page numbers, languages) and their bytes.
MAX_ENTRIES = 512
MAX_BYTES = 16 * 1024 * 1024
# After the watcher's connection failed, answers are built afresh for this long before retrying.
RECONNECT_AFTER_SECONDS = 1.0

_EXTENSION = "binjai_public_cache"
_VALID_UNTIL = "public_cache_valid_until"
_BUILDING = "public_cache_building"


@dataclass(frozen=True, slots=True)
class _Entry:
    version: Hashable
    valid_until: datetime | None
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class DataVersionWatcher:
    """This process's connection that reads the database's data version (and never writes)."""

    def __init__(self, url: sa.engine.URL) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._connection: Any = None
        self._pid = 0
        self._retry_at = 0.0
        self._statement = (
            "SELECT pg_current_snapshot()::text"
            if url.get_backend_name() == "postgresql"
            else "PRAGMA data_version"
        )
        self.usable = url.get_backend_name() == "postgresql" or _sqlite_file(url)

    def version(self) -> Hashable | None:
        """The data version now, or None when it cannot be read (then nothing is cached)."""
        if not self.usable:
            return None
        with self._lock:
            try:
                connection = self._connection
                if connection is None or self._pid != os.getpid():
                    # After a fork the parent's connection is left alone (never closed here).
                    connection = self._connect()
                    if connection is None:
                        return None
                cursor = connection.cursor()
                cursor.execute(self._statement)
                # Read to the end: a statement left open would hold SQLite's read snapshot.
                rows = cursor.fetchall()
                cursor.close()
                return rows[0][0]
            except Exception:  # a failed watcher only means no cache
                self._drop()
                return None

    def _connect(self) -> Any:
        if time.monotonic() < self._retry_at:
            return None
        self._connection = None
        try:
            dialect = sa.create_engine(self._url, poolclass=sa.pool.NullPool).dialect
            cargs, cparams = dialect.create_connect_args(self._url)
            if dialect.name == "sqlite":
                cparams["check_same_thread"] = False  # shared by the threads, under the lock
            connection = dialect.connect(*cargs, **cparams)
            if dialect.name == "sqlite":
                connection.isolation_level = None  # no implicit BEGIN ever
            else:
                connection.autocommit = True  # each snapshot read on its own
        except Exception:
            self._retry_at = time.monotonic() + RECONNECT_AFTER_SECONDS
            return None
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        self._retry_at = time.monotonic() + RECONNECT_AFTER_SECONDS
        if connection is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):  # already broken
                connection.close()


def _sqlite_file(url: sa.engine.URL) -> bool:
    database = url.database or ""
    return bool(database) and database != ":memory:" and "mode=memory" not in database


class PublicResponseCache:
    """One app's kept public answers in this process: an LRU bounded in entries and bytes."""

    def __init__(self, watcher: DataVersionWatcher) -> None:
        self.watcher = watcher
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                return None
            if entry.valid_until is not None and utcnow() >= entry.valid_until:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: _Entry) -> None:
        size = len(entry.body)
        if size > MAX_BYTES // 8:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body)
            self._entries[key] = entry
            self._bytes += size
            while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def cache_of(app: Flask) -> PublicResponseCache:
    """The app's public response cache in this process."""
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        from binjai_api.extensions import db

        with app.app_context():
            url = db.engine.url
        cache = app.extensions.setdefault(_EXTENSION, PublicResponseCache(DataVersionWatcher(url)))
    return cache


def _cacheable_session() -> bool:
    """False when the request's session is bound to a connection that may hold a transaction of
    its own, whose writes no data version counts (the tests' rollback mode)."""
    from binjai_api.extensions import db

    factory = getattr(db.session, "session_factory", None)
    bind = factory.kw.get("bind") if factory is not None else None
    return bind is None or isinstance(bind, sa.Engine)


_LOOKUPS: dict[bool, Any] = {}


def _count_lookup(hit: bool) -> None:
    counter = _LOOKUPS.get(hit)
    if counter is None:
        from binjai_api.metrics import CACHE_LOOKUPS

        counter = _LOOKUPS[hit] = CACHE_LOOKUPS.labels(
            cache="public_responses", result="hit" if hit else "miss"
        )
    counter.inc()


def public_response(view: F) -> F:
    """Keep this public view's answers while the data version is unchanged (see the module).
    Its answer must depend only on the path, the query string, the language, the data and the
    clock as declared with `valid_until`."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        cache = cache_of(app)
        # A conditional request (If-None-Match ...) is the view's own to answer (304 or not).
        conditional = request.if_none_match or request.if_modified_since
        version = None if conditional or not _cacheable_session() else cache.watcher.version()
        if version is None:
            return view(*args, **kwargs)
        key = (request.endpoint, request.path, request.query_string, negotiated_language())
        entry = cache.get(key, version)
        _count_lookup(entry is not None)
        if entry is not None:
            return app.response_class(entry.body, entry.status, list(entry.headers))
        g.setdefault(_BUILDING, True)
        try:
            response = view(*args, **kwargs)
        finally:
            g.pop(_BUILDING, None)
            valid_until = g.pop(_VALID_UNTIL, None)
        if (
            isinstance(response, Response)
            and response.status_code == 200
            and not response.is_streamed
        ):
            body = response.get_data()
            cache.put(
                key,
                _Entry(
                    version=version,
                    valid_until=valid_until,
                    status=200,
                    body=body,
                    headers=tuple(response.headers.items()),
                ),
            )
        return response

    return wrapper  # type: ignore[return-value]


def end_of_minute(moment: datetime) -> datetime:
    """The start of the minute after `moment` (in its own time zone)."""
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def valid_until(moment: datetime | None) -> None:
    """The answer being built changes by itself at `moment` (a deadline passes): keep it until
    then at most. No effect outside a kept view."""
    if moment is None or not g.get(_BUILDING):
        return
    current = g.get(_VALID_UNTIL)
    if current is None or moment < current:
        setattr(g, _VALID_UNTIL, moment)
