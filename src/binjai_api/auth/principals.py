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
  database), each request reads its session and account from the database in one statement,
  which loads the account itself, so `/me` and the other reads of the caller's own account find
  it in the session instead of reading it again.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session, lazyload

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
    """The statement `_read` sends, built once: building it (columns, conditions, the loader
    option) cost more CPU than running it, on every request that reads the database."""
    return (
        sa.select(User, AuthSession.expires_at)
        .options(lazyload(User.agency))  # read only by the views that show it
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == sa.bindparam("session_id", type_=AuthSession.id.type),
            User.id == sa.bindparam("user_id", type_=User.id.type),
            User.is_active.is_(True),
            AuthSession.revoked_at.is_(None),
        )
    )


@cache
def _session_and_account_columns() -> sa.Select[str, uuid.UUID | None, datetime]:
    """`_session_and_account` reading only the principal's columns (no ORM object), for the
    views that do not read the caller's account."""
    return (
        sa.select(User.role, User.agency_id, AuthSession.expires_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == sa.bindparam("session_id", type_=AuthSession.id.type),
            User.id == sa.bindparam("user_id", type_=User.id.type),
            User.is_active.is_(True),
            AuthSession.revoked_at.is_(None),
        )
    )


# Set on a view that reads the caller's own account (`reads_caller_account`).
_READS_ACCOUNT_ATTRIBUTE = "binjai_reads_caller_account"
_reads_account: dict[tuple[Any, str], bool] = {}


def reads_caller_account(view: Any) -> Any:
    """Mark a view (outermost decorator) that reads the caller's own account: the session check
    loads the account as an ORM object in its one statement, which the view then finds in the
    request's session. Every other view's check reads only the principal's columns, which costs
    less than building the object; an unmarked view reading the account pays one statement."""
    setattr(view, _READS_ACCOUNT_ATTRIBUTE, True)
    return view


def _view_reads_account() -> bool:
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint) if endpoint else None
    key = (view, request.method)
    answer = _reads_account.get(key)
    if answer is None:
        view_class = getattr(view, "view_class", None)
        handler = getattr(view_class, request.method.lower(), None) if view_class else view
        answer = _reads_account[key] = bool(getattr(handler, _READS_ACCOUNT_ATTRIBUTE, False))
    return answer


def _read(
    session_id: uuid.UUID, user_id: uuid.UUID, *, epoch: object, version: object
) -> KeptPrincipal | None:
    """The session and its account from the database in one statement. For a view that reads
    the caller's account (`reads_caller_account`) it also loads the account into the request's
    session, so reading it costs nothing more; the others read only the principal's columns."""
    parameters = {"session_id": session_id, "user_id": user_id}
    if not _view_reads_account():
        found = (
            db.session.connection()
            .execute(_session_and_account_columns(), parameters)
            .one_or_none()
        )
        if found is None:
            return None
        role, agency_id, expires_at = found
    else:
        row = db.session.execute(_session_and_account(), parameters).one_or_none()
        if row is None:
            return None
        user, expires_at = row
        # Held for the request: the session's identity map keeps only weak references, and the
        # caller's own account is what `/me` and the profile views read next.
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
