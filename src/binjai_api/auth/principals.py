"""Who is calling: the principal behind an access token, read at most once per request.

A logout, a password change, a deactivation or a role change must hold at once on every
instance, so every request checks the session against shared state. What that check costs:

- With REDIS_URL, each instance keeps the principals it has read, per session, beside the
  account's *version*: a random value in Redis that every change ending or altering the account's
  sessions replaces, right after its commit (`invalidate_after_commit`). A request reads the
  version (one Redis round trip, no SQL); while it is unchanged the kept principal is current.
  The version is read before the database, so a change committed meanwhile leaves a newer
  version behind and the next request reads afresh. A Redis that lost its keys (restarted,
  flushed) starts a new *epoch*, which no kept principal matches. If Redis is unreachable the
  database is read on every request, as without Redis.
- Without Redis (the embedded default, several gunicorn workers and nothing shared but the
  database), each request reads its session and account from the database in one statement.

That statement is compiled once per database and sent on a pooled DBAPI connection of its own,
outside the request's ORM session (`direct_sql.Compiled`): through the session it cost ten times the
query itself (a session, a transaction begun and rolled back, the statement's cache key, the
result's rows), on every authenticated request. A request that then uses the database opens its
session as before. On PostgreSQL the read runs in autocommit (one round trip, no BEGIN and
ROLLBACK); on SQLite a single SELECT outside a transaction already reads one snapshot, on a
connection each thread keeps for this read alone (taken from the pool once and detached: a
pool checkout and checkin per request cost about a twentieth of `GET /me`). A connection that
fails is dropped and the read sent again through SQLAlchemy (a lost database answers 503 as any
statement does). The engine's SQLAlchemy events do not see this read.

`GET /me` shows the account the same statement read (`shows_caller_account`), without an ORM
object; the views that change the caller's account (`reads_caller_account`) load it as an ORM
object into the request's session, in that session's one statement.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session, lazyload

from binjai_api import direct_sql
from binjai_api.agencies.models import Agency
from binjai_api.auth.models import ApiClient, AuthSession, User
from binjai_api.db import utcnow
from binjai_api.extensions import db

log = logging.getLogger(__name__)

KEY_PREFIX = "binjai:principal:"
EPOCH_KEY = KEY_PREFIX + "epoch"
# Key of `Session.info`: accounts whose kept principals a commit of this session invalidates.
_INVALIDATE = "binjai.principals_to_invalidate"
_EXTENSION = "binjai_principals"
# Sessions one process keeps (a worker serves a few thousand residents at most per hour).
_KEPT_MAX = 20_000


def _version_key(user_id: uuid.UUID) -> str:
    return f"{KEY_PREFIX}v:{user_id}"


@dataclass(frozen=True)
class KeptPrincipal:
    """What a session's principal was when read, and the shared state it was read under."""

    user_id: uuid.UUID
    role: str
    agency_id: uuid.UUID | None
    session_expires_at: datetime
    epoch: object  # Redis values, compared for equality only
    version: object


class PrincipalCache:
    """Each app's kept principals (one per app, so that two apps in one process, as in the tests,
    keep nothing in common, as two instances)."""

    def __init__(self) -> None:
        self.kept: OrderedDict[uuid.UUID, KeptPrincipal] = OrderedDict()
        self.lock = threading.Lock()
        self.clients: dict[str, redis.Redis] = {}

    def redis(self, url: str) -> redis.Redis:
        client = self.clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            self.clients[url] = client
        return client

    def get(self, session_id: uuid.UUID) -> KeptPrincipal | None:
        return self.kept.get(session_id)

    def keep(self, session_id: uuid.UUID, entry: KeptPrincipal) -> None:
        with self.lock:
            self.kept[session_id] = entry
            self.kept.move_to_end(session_id)
            while len(self.kept) > _KEPT_MAX:
                self.kept.popitem(last=False)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = PrincipalCache()


def _cache() -> PrincipalCache:
    cache: PrincipalCache = current_app.extensions[_EXTENSION]
    return cache


# --- reading -----------------------------------------------------------------------------------


def load_principal(jwt_data: dict[str, Any]) -> Any:
    """The caller behind a verified access token, or None when its session or account has
    ended."""
    from binjai_api.auth.service import Principal

    if jwt_data.get("typ") == "client":
        client = db.session.scalar(
            sa.select(ApiClient).where(ApiClient.client_id == jwt_data.get("client_id"))
        )
        if client is None or not client.is_active:
            return None
        granted = frozenset(jwt_data.get("scopes") or ()) & frozenset(client.scopes)
        return Principal(kind="client", id=client.id, scopes=granted)
    try:
        session_id = uuid.UUID(jwt_data["sid"])
        user_id = uuid.UUID(jwt_data["sub"])
    except (KeyError, ValueError, TypeError):
        return None
    entry = _current_entry(session_id, user_id)
    if entry is None or entry.session_expires_at <= utcnow():
        return None
    return Principal(
        kind="user",
        id=user_id,
        role=entry.role,  # the current role, so a demotion takes effect at once
        agency_id=entry.agency_id,
        session_id=session_id,
        fresh=bool(jwt_data.get("fresh")),
    )


def _current_entry(session_id: uuid.UUID, user_id: uuid.UUID) -> KeptPrincipal | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return _read(session_id, user_id, epoch=b"", version=None)
    cache = _cache()
    epoch: object
    version: object
    try:
        epoch, version = cache.redis(url).mget(EPOCH_KEY, _version_key(user_id))
    except redis.RedisError:
        log.warning("principal cache: Redis unreachable, reading the session from the database")
        return _read(session_id, user_id, epoch=b"", version=None)
    if epoch is None:
        epoch = _start_epoch(cache.redis(url))
        if epoch is None:
            return _read(session_id, user_id, epoch=b"", version=None)
    kept = cache.get(session_id)
    if (
        kept is not None
        and kept.user_id == user_id
        and kept.epoch == epoch
        and kept.version == version
    ):
        return kept
    entry = _read(session_id, user_id, epoch=epoch, version=version)
    if entry is not None:
        cache.keep(session_id, entry)
    return entry


def _start_epoch(client: redis.Redis) -> object:
    """The epoch after a fresh (or emptied) Redis: this instance's new one, or another's that
    was set first."""
    try:
        client.set(EPOCH_KEY, secrets.token_hex(8), nx=True)
        epoch: object = client.get(EPOCH_KEY)
    except redis.RedisError:
        log.warning("principal cache: could not start an epoch in Redis", exc_info=True)
        return None
    return epoch


@cache
def _session_and_account() -> sa.Select[User, datetime]:
    """The statement the views that change the caller's account check the session with, built
    once: it loads the account into the request's session."""
    return (
        sa.select(User, AuthSession.expires_at)
        .options(lazyload(User.agency))  # read only by the views that show it
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(*_SESSION_IS_CURRENT)
    )


# The session of the token, of the token's account, neither ended.
_SESSION_IS_CURRENT = (
    AuthSession.id == sa.bindparam("session_id", type_=AuthSession.id.type),
    User.id == sa.bindparam("user_id", type_=User.id.type),
    User.is_active.is_(True),
    AuthSession.revoked_at.is_(None),
)

# What `GET /me` shows of the account (AccountSchema), in this order.
ACCOUNT_SHOWN = (
    User.id,
    User.full_name,
    User.nik,
    User.phone,
    User.email,
    User.role,
    User.agency_id,
    User.kelurahan_code,
    User.language,
    User.is_active,
    User.created_at,
    User.updated_at,
    Agency.code,
    Agency.name,
)


# The reads of a session check, by name: its principal's columns; the account `GET /me` shows,
# with the session's expiry; the account alone (when a kept principal answered the check).
_READS: dict[str, Callable[[], sa.Select[*tuple[Any, ...]]]] = {
    "principal": lambda: (
        sa.select(User.role, User.agency_id, AuthSession.expires_at)
        .select_from(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(*_SESSION_IS_CURRENT)
    ),
    "account_and_session": lambda: (
        sa.select(*ACCOUNT_SHOWN, AuthSession.expires_at)
        .select_from(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(*_SESSION_IS_CURRENT)
    ),
    "account": lambda: (
        sa.select(*ACCOUNT_SHOWN)
        .select_from(User)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(User.id == sa.bindparam("user_id", type_=User.id.type))
    ),
}


@cache
def _prepared(name: str, dialect: sa.Dialect) -> direct_sql.Compiled:
    """A read compiled once per database, its values and columns converted by SQLAlchemy's own
    type processors (direct_sql.Compiled), to be sent on a DBAPI cursor."""
    return direct_sql.Compiled(_READS[name](), dialect, ())


def _row(prepared: direct_sql.Compiled, values: Sequence[Any] | None) -> tuple[Any, ...] | None:
    return None if values is None else prepared.row(values)


def _fetch_one(name: str, values: dict[str, Any]) -> tuple[Any, ...] | None:
    """One row of a prepared read, sent on a connection of its own from the pool of the
    request's session (in the tests, on the connection their sessions join)."""
    bind = db.session.session_factory.kw.get("bind") or db.engine
    prepared = _prepared(name, bind.dialect)
    parameters = prepared.values(values)
    if isinstance(bind, sa.Connection):
        return _row(prepared, _execute(bind.connection.dbapi_connection, prepared.sql, parameters))
    dbapi_error = bind.dialect.loaded_dbapi.Error
    if bind.dialect.name == "sqlite":
        try:
            return _row(prepared, _execute(_sqlite_reader(bind), prepared.sql, parameters))
        except dbapi_error:
            _drop_sqlite_reader(bind)
            return _fetch_through_sqlalchemy(bind, name, values)
    try:
        pooled = bind.raw_connection()
    except dbapi_error:
        return _fetch_through_sqlalchemy(bind, name, values)
    try:
        driver: Any = pooled.driver_connection
        autocommit = bind.dialect.name == "postgresql"
        if autocommit:
            driver.autocommit = True  # client-side: the SELECT alone, no BEGIN and ROLLBACK
        row = _execute(driver, prepared.sql, parameters)
        if autocommit:
            driver.autocommit = False
    except dbapi_error:
        pooled.invalidate()  # never back into the pool in an unknown state
        return _fetch_through_sqlalchemy(bind, name, values)
    finally:
        pooled.close()
    return _row(prepared, row)


# SQLite: per engine, each thread's connection for the session check (and the process it was
# opened in: a forked child opens its own rather than use its parent's).
_sqlite_readers: weakref.WeakKeyDictionary[sa.Engine, threading.local] = weakref.WeakKeyDictionary()


def _sqlite_reader(engine: sa.Engine) -> Any:
    """This thread's SQLite connection for the session check: opened by the engine's pool (with
    its settings: WAL, foreign keys, busy timeout), then detached from it and kept. Outside a
    transaction (`isolation_level` None, db.tune_sqlite), each SELECT reads the latest commit."""
    local = _sqlite_readers.get(engine)
    if local is None:
        local = _sqlite_readers.setdefault(engine, threading.local())
    kept = getattr(local, "reader", None)
    if kept is not None and kept[0] == os.getpid():
        return kept[1]
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    pooled.detach()  # this thread's own from now on; never handed to another
    local.reader = (os.getpid(), connection)
    return connection


def _drop_sqlite_reader(engine: sa.Engine) -> None:
    local = _sqlite_readers.get(engine)
    kept = getattr(local, "reader", None) if local is not None else None
    if kept is not None:
        local.reader = None  # type: ignore[union-attr]
        if kept[0] == os.getpid():
            try:
                kept[1].close()
            except Exception:  # already unusable: dropping it is all that is left
                log.debug("session check: closing a failed SQLite connection failed")


def _fetch_through_sqlalchemy(
    bind: sa.Engine, name: str, values: dict[str, Any]
) -> tuple[Any, ...] | None:
    """The read again through SQLAlchemy after its connection failed (PostgreSQL restarted):
    on a new connection, or failing as every other statement does (a lost or unreachable
    database answers 503 with Retry-After)."""
    log.warning("session check: the pooled connection failed, reading through SQLAlchemy")
    with bind.connect() as connection:
        found = connection.execute(_READS[name](), values).one_or_none()
    return None if found is None else tuple(found)


def _execute(dbapi_connection: Any, sql: str, parameters: Any) -> Sequence[Any] | None:
    """The statement's first row (the tests count the reads sent here)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, parameters)
        row: Sequence[Any] | None = cursor.fetchone()
    finally:
        cursor.close()
    return row


# Set on a view that reads the caller's own account (`reads_caller_account`) or shows it
# (`shows_caller_account`).
_ACCOUNT_USE_ATTRIBUTE = "binjai_caller_account_use"
_ORM, _SHOWN = "orm", "shown"
_account_use: dict[tuple[Any, str], str | None] = {}
# Key of `g`: the caller's account as the session check read it for `GET /me`.
_SHOWN_ROW = "binjai_caller_account_shown"


def reads_caller_account(view: Any) -> Any:
    """Mark a view (outermost decorator) that reads the caller's own account as an ORM object
    (to change it): the session check loads it into the request's session in its one statement.
    Every other view's check reads only the principal's columns; an unmarked view reading the
    account pays one statement."""
    setattr(view, _ACCOUNT_USE_ATTRIBUTE, _ORM)
    return view


def shows_caller_account(view: Any) -> Any:
    """Mark a view (outermost decorator) that shows the caller's own account as read
    (`caller_account_shown`): the session check reads it as plain values in its one statement."""
    setattr(view, _ACCOUNT_USE_ATTRIBUTE, _SHOWN)
    return view


def _view_account_use() -> str | None:
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint else None
    key = (view, request.method)
    try:
        return _account_use[key]
    except KeyError:
        view_class = getattr(view, "view_class", None)
        handler = getattr(view_class, request.method.lower(), None) if view_class else view
        if handler is None and view_class is not None and request.method == "HEAD":
            handler = getattr(view_class, "get", None)  # as MethodView answers HEAD
        use = _account_use[key] = getattr(handler, _ACCOUNT_USE_ATTRIBUTE, None)
        return use


def caller_account_shown(user_id: uuid.UUID) -> tuple[Any, ...] | None:
    """The caller's account, columns as `ACCOUNT_SHOWN`: as this request's session check read
    it, or, when a kept principal answered the check (Redis), read now (None: no such account)."""
    row: tuple[Any, ...] | None = g.pop(_SHOWN_ROW, None)
    if row is not None and row[0] == user_id:
        return row
    return _fetch_one("account", {"user_id": user_id})


def _read(
    session_id: uuid.UUID, user_id: uuid.UUID, *, epoch: object, version: object
) -> KeptPrincipal | None:
    """The session and its account from the database in one statement: the principal's columns,
    or for a view that shows the caller's account (`shows_caller_account`) that account too, or
    for a view that changes it (`reads_caller_account`) the account loaded into the request's
    session."""
    parameters = {"session_id": session_id, "user_id": user_id}
    use = _view_account_use()
    if use is None:
        found = _fetch_one("principal", parameters)
        if found is None:
            return None
        role, agency_id, expires_at = found
    elif use == _SHOWN:
        found = _fetch_one("account_and_session", parameters)
        if found is None:
            return None
        setattr(g, _SHOWN_ROW, found[:-1])
        role, agency_id, expires_at = found[5], found[6], found[-1]
    else:
        row = db.session.execute(_session_and_account(), parameters).one_or_none()
        if row is None:
            return None
        user, expires_at = row
        # Held for the request: the session's identity map keeps only weak references, and the
        # caller's own account is what the view reads next.
        g.binjai_caller_account = user
        role, agency_id = user.role, user.agency_id
    return KeptPrincipal(
        user_id=user_id,
        role=role,
        agency_id=agency_id,
        session_expires_at=expires_at,
        epoch=epoch,
        version=version,
    )


# --- invalidating ------------------------------------------------------------------------------


def invalidate_after_commit(user_id: uuid.UUID) -> None:
    """Once the request's transaction commits, every instance reads this account's sessions
    afresh (a logout, a password change, a deactivation, a role change). Called before the
    commit: a change that rolls back invalidates nothing."""
    db.session().info.setdefault(_INVALIDATE, set()).add(user_id)


def _bump_versions(session: Session) -> None:
    user_ids = session.info.pop(_INVALIDATE, None)
    if not user_ids:
        return
    url = current_app.config.get("REDIS_URL")
    if not url:
        return  # every request reads the database: nothing is kept
    ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"] + timedelta(days=1)
    client = _cache().redis(url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.set(_version_key(user_id), secrets.token_hex(8), ex=ttl)
            pipe.execute()
    except redis.RedisError:
        # The change is committed. Other instances either cannot reach Redis either (they read
        # the database on every request) or are told by a new epoch, which no kept principal
        # matches.
        log.error("principal cache: could not publish an account change", exc_info=True)
        try:
            client.delete(EPOCH_KEY)
        except redis.RedisError:
            log.error("principal cache: could not end the epoch either", exc_info=True)


def _forget_on_rollback(session: Session, *_args: Any) -> None:
    session.info.pop(_INVALIDATE, None)


def _account_changed(_mapper: Any, _connection: Any, user: User) -> None:
    state = sa.inspect(user)
    if any(state.attrs[name].history.has_changes() for name in _USER_ATTRIBUTES_KEPT):
        _mark(state.session, user.id)


def _session_changed(_mapper: Any, _connection: Any, auth_session: AuthSession) -> None:
    state = sa.inspect(auth_session)
    if any(state.attrs[name].history.has_changes() for name in ("revoked_at", "expires_at")):
        _mark(state.session, auth_session.user_id)


def _mark(session: Session | None, user_id: uuid.UUID) -> None:
    if session is not None:
        session.info.setdefault(_INVALIDATE, set()).add(user_id)


# What a kept principal holds of the account: a change to any of them invalidates it.
_USER_ATTRIBUTES_KEPT = ("role", "agency_id", "is_active")


def listen(session_class: type[Session]) -> None:
    """Publish the versions after each commit of the app's sessions. Changes made through the
    ORM (a role, an agency, deactivation, a session revoked on refresh-token reuse) are noticed
    here; bulk UPDATEs of sessions call `invalidate_after_commit` themselves."""
    for target, event, handler in (
        (session_class, "after_commit", _bump_versions),
        (session_class, "after_soft_rollback", _forget_on_rollback),
        (User, "after_update", _account_changed),
        (AuthSession, "after_update", _session_changed),
    ):
        if not sa.event.contains(target, event, handler):
            sa.event.listen(target, event, handler)
