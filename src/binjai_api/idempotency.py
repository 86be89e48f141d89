"""Idempotency-Key for every POST that creates something (CONVENTIONS: writes and retries).

A mobile client on a flaky network retries with the same key. On PostgreSQL the first request
claims the key in its own transaction with one upsert (a unique row and the key's advisory lock,
so that a duplicate arriving on any instance while it runs is answered 409 at once); the claim,
the work and the response commit together, and the response is replayed to every retry for
`IDEMPOTENCY_TTL_HOURS`. A request that fails leaves nothing behind: its transaction, claim
included, rolls back.

On SQLite (the embedded default) a write transaction holds the database's only write lock from
its start (db.tune_sqlite), so no other request can store the key while one runs: the key and
the response are stored by one upsert after the work, in the same transaction. Finding the key
already stored then, the request rolls its work back and answers for the stored one (replay,
422 or 409), as it does when its work failed: a retry costs its work once more, a first request
one statement less.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from copy import deepcopy
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Response, current_app, request
from flask_jwt_extended import current_user
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api import direct_sql
from binjai_api.db import Base, UTCDateTime, UUIDPrimaryKey, commits_deferred, utcnow
from binjai_api.errors import Problem
from binjai_api.extensions import db
from binjai_api.i18n import lazy_gettext

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_REPLAYED_RESPONSE_HEADERS = ("Location", "ETag", "Content-Language")

HEADER_DOC = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Unique key for this write (a UUID). A retry with the same key and body "
    "replays the first response with `Idempotent-Replayed: true`; the same key with another "
    "body answers 422 `idempotency_key_reuse`; a retry while the first is still running "
    "answers 409 `idempotency_in_flight`. Keys are kept 24 hours, per account or API client. "
    "A key that is blank, longer than 255 characters or not printable answers 400 "
    "`invalid_idempotency_key`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


class IdempotencyRecord(UUIDPrimaryKey, Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(sa.String(80))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    locked_at: Mapped[datetime | None]
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def _request_fingerprint() -> str:
    """Hash of what the request asks for; multipart boundaries differ between retries, so files
    are hashed by content."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"form:{name}={value}\n".encode())
        for name, storage in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = storage.stream.read()
            storage.stream.seek(0)
            digest.update(f"file:{name}:{storage.filename}:".encode())
            digest.update(hashlib.sha256(content).digest())
    elif request.is_json:
        body = request.get_json(silent=True)
        digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _scope() -> str:
    principal = current_user if _has_principal() else None
    return principal.idempotency_scope if principal is not None else "anonymous"


def _has_principal() -> bool:
    from flask_jwt_extended.utils import get_jwt_request_location

    return get_jwt_request_location() is not None


def _replay(record: IdempotencyRecord) -> Response:
    response = current_app.response_class(
        record.response_body or "", status=record.response_status or 200
    )
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _in_flight() -> Problem:
    return Problem(
        409,
        "idempotency_in_flight",
        lazy_gettext("A request with this Idempotency-Key is still being processed."),
        headers={"Retry-After": "1"},
    )


def _lock_id(scope: str, key: str) -> int:
    """The PostgreSQL advisory lock of one key: a signed 64-bit number from its hash."""
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# PostgreSQL: take the key's advisory lock without waiting and, if taken, insert the claim unless
# the key is already stored: one round trip. The lock is held until the request's transaction
# ends, so a duplicate arriving meanwhile, on any instance, finds it taken (409) instead of
# waiting on the unique index for the first request's outcome.
_CLAIM_POSTGRESQL = sa.text(
    """
    WITH lock AS (SELECT pg_try_advisory_xact_lock(:lock_id) AS taken),
    claim AS (
        INSERT INTO idempotency_records
            (id, scope, key, fingerprint, locked_at, created_at, expires_at)
        SELECT :id, :scope, :key, :fingerprint, :now, :now, :expires_at FROM lock WHERE taken
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING id
    )
    SELECT (SELECT taken FROM lock) AS taken, (SELECT count(*) FROM claim) AS claimed
    """
)


def _insert_claim(scope: str, key: str, fingerprint: str, now: datetime) -> tuple[bool, bool]:
    """PostgreSQL: insert the in-flight row in the request's transaction: (key free of other
    requests in flight, row inserted)."""
    values = {
        "id": uuid.uuid4(),
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "now": now,
        "expires_at": now + timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"]),
        "lock_id": _lock_id(scope, key),
    }
    # On the session's connection: a Core statement needs none of the ORM's execution.
    taken, claimed = direct_sql.execute(db.session.connection(), _CLAIM_POSTGRESQL, values).one()
    return bool(taken), bool(claimed)


def _claim(scope: str, key: str, fingerprint: str) -> Response | None:
    """PostgreSQL: claim the key in the request's transaction (None: this request runs), or
    answer for it: the stored response replayed, 422 for another body, 409 while another is in
    flight."""
    now = utcnow()
    for _attempt in range(2):
        free, inserted = _insert_claim(scope, key, fingerprint, now)
        if not free:
            raise _in_flight()
        if inserted:
            return None
        existing = db.session.scalar(
            sa.select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )
        if existing is None:  # released by the other request meanwhile: claim again
            continue
        if existing.expires_at <= now:
            db.session.delete(existing)
            db.session.flush()
            continue
        _refuse_reuse(existing, fingerprint)
        if existing.response_status is not None:
            return _replay(existing)
        if existing.locked_at is not None and existing.locked_at < _stale_before(now):
            # An in-flight row left committed by an earlier version of this code whose process
            # died mid-request: this retry takes it over.
            existing.locked_at = now
            db.session.flush()
            return None
        raise _in_flight()
    raise _in_flight()


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["IDEMPOTENCY_IN_FLIGHT_SECONDS"])


def _refuse_reuse(existing: IdempotencyRecord, fingerprint: str) -> None:
    if existing.fingerprint != fingerprint:
        raise Problem(
            422,
            "idempotency_key_reuse",
            lazy_gettext("This Idempotency-Key was already used for a different request."),
        )


def _stored_headers(response: Response) -> dict[str, str]:
    headers = {
        name: response.headers[name]
        for name in _REPLAYED_RESPONSE_HEADERS
        if name in response.headers
    }
    headers["Content-Type"] = response.content_type or "application/json"
    return headers


def _store_after(scope: str, key: str, fingerprint: str, response: Response) -> bool:
    """SQLite: store the key with the response after the work, in its transaction (True), unless
    the key is already stored, unexpired, and not a dead first attempt of this request (False).
    Nobody else writes meanwhile: the transaction holds the write lock (db.tune_sqlite)."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "response_status": response.status_code,
        "response_body": response.get_data(as_text=True),
        "response_headers": _stored_headers(response),
        "now": now,
        "expires_at": now + timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"]),
        "stale_before": _stale_before(now),
    }
    stored = direct_sql.execute(db.session.connection(), _store_statement(), values)
    return bool(stored.rowcount)


@cache
def _store_statement() -> sa.Insert:
    """The upsert of _store_after, built once (its values are bound at each execution)."""
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    table = cast(sa.Table, IdempotencyRecord.__table__)
    now = sa.bindparam("now", type_=UTCDateTime())
    fingerprint = sa.bindparam("fingerprint", type_=sa.String())
    statement = sqlite_insert(table).values(
        id=sa.bindparam("id", type_=sa.Uuid()),
        scope=sa.bindparam("scope", type_=sa.String()),
        key=sa.bindparam("key", type_=sa.String()),
        fingerprint=fingerprint,
        locked_at=None,
        response_status=sa.bindparam("response_status", type_=sa.Integer()),
        response_body=sa.bindparam("response_body", type_=sa.Text()),
        response_headers=sa.bindparam("response_headers", type_=sa.JSON()),
        created_at=now,
        expires_at=sa.bindparam("expires_at", type_=UTCDateTime()),
    )
    replaced = statement.excluded
    kept = ("fingerprint", "locked_at", "response_status", "response_body", "response_headers")
    return statement.on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={column: replaced[column] for column in (*kept, "created_at", "expires_at")},
        # An expired key is free again; an attempt left in flight by an earlier version of
        # this code whose process died is taken over by its retry.
        where=(table.c.expires_at <= now)
        | (
            table.c.response_status.is_(None)
            & (table.c.locked_at < sa.bindparam("stale_before", type_=UTCDateTime()))
            & (table.c.fingerprint == fingerprint)
        ),
    )


def _answer_stored(scope: str, key: str, fingerprint: str) -> Response | None:
    """SQLite, after the work was rolled back: the answer for the key as stored (a replay, 422
    for another body, 409 while in flight), or None when it is not stored (or expired)."""
    existing = db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
    db.session.commit()  # ends the read transaction
    if existing is None or existing.expires_at <= utcnow():
        return None
    _refuse_reuse(existing, fingerprint)
    if existing.response_status is not None:
        return _replay(existing)
    raise _in_flight()


def _run_then_store(work: Callable[[], Any], scope: str, key: str, fingerprint: str) -> Any:
    """SQLite: the work, then the key and its response stored in the same transaction."""
    try:
        with commits_deferred(db.session()):
            response = current_app.make_response(work())
    except Exception:
        _release()
        # The work failed: perhaps because the first request with this key did it already
        # (an account registered, say), whose answer is then the one to give.
        stored = _answer_stored(scope, key, fingerprint)
        if stored is not None:
            return stored
        raise
    except BaseException:
        _release()
        raise
    if response.status_code >= 500:
        _release()
        return response
    try:
        if _complete((scope, key, fingerprint), response):
            return response
        _release()  # the key was stored before this request began: its work is undone
    except BaseException:
        _release()
        raise
    stored = _answer_stored(scope, key, fingerprint)
    if stored is None:  # stored, then pruned meanwhile: the client may retry
        raise _in_flight()
    return stored


def _release() -> None:
    """Forget a claim whose request failed, with its work: the client may retry with the key."""
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        log.warning("could not roll back a failed idempotent request", exc_info=True)


def _complete(claim: tuple[str, str, str], response: Response) -> bool:
    """Store the response, and commit it together with the view's work and the claim. SQLite:
    the key is stored with it here, unless it was already (False: nothing committed)."""
    scope, key, fingerprint = claim
    if db.session.get_bind().dialect.name == "sqlite":
        if not _store_after(scope, key, fingerprint, response):
            return False
    else:
        values = {
            "claimed_scope": scope,
            "claimed_key": key,
            "status": response.status_code,
            "body": response.get_data(as_text=True),
            "headers": _stored_headers(response),
        }
        direct_sql.execute(db.session.connection(), _response_statement(), values)
    db.session.commit()
    return True


@cache
def _response_statement() -> sa.Update:
    """PostgreSQL: the claimed row given its response, built once (values bound at each use)."""
    table = cast(sa.Table, IdempotencyRecord.__table__)
    return (
        sa.update(table)
        .where(
            table.c.scope == sa.bindparam("claimed_scope", type_=sa.String()),
            table.c.key == sa.bindparam("claimed_key", type_=sa.String()),
        )
        .values(
            response_status=sa.bindparam("status", type_=sa.Integer()),
            response_body=sa.bindparam("body", type_=sa.Text()),
            response_headers=sa.bindparam("headers", type_=sa.JSON()),
            locked_at=None,
        )
    )


def idempotent(func: F) -> F:
    """Make a create endpoint safe to retry with an Idempotency-Key header."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return func(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise Problem(
                400,
                "invalid_idempotency_key",
                lazy_gettext("Idempotency-Key must be 1 to 255 printable characters."),
            )
        scope = _scope()
        fingerprint = _request_fingerprint()
        if db.session.get_bind().dialect.name == "sqlite":
            return _run_then_store(lambda: func(*args, **kwargs), scope, key, fingerprint)
        try:
            # The claim, the view's work and the stored response commit in one transaction
            # (the view's commits only flush), or not at all: a retry finds all or nothing.
            with commits_deferred(db.session()):
                replay = _claim(scope, key, fingerprint)
                if replay is None:
                    response = current_app.make_response(func(*args, **kwargs))
            if replay is not None:
                db.session.commit()  # ends the read transaction
                return replay
        except BaseException:
            _release()
            raise
        if response.status_code >= 500:
            _release()
            return response
        try:
            _complete((scope, key, fingerprint), response)
        except BaseException:
            _release()  # nothing was committed: the key is free for the retry
            raise
        return response

    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    # Listed with the arguments' parameters: a manual "parameters" list would replace them.
    apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(deepcopy(HEADER_DOC))
    responses = apidoc.setdefault("response", {}).setdefault("responses", {})
    # 400 `invalid_idempotency_key`, also on operations that take no body.
    responses.setdefault(400, []).append("BAD_REQUEST")
    responses.setdefault(409, []).append("CONFLICT")
    responses.setdefault(422, []).append("UNPROCESSABLE_ENTITY")
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def prune_expired() -> int:
    """Delete records past their retention; returns how many."""
    result = db.session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
