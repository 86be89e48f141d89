"""Idempotency-Key for every POST that creates something (CONVENTIONS: writes and retries).

A mobile client on a flaky network retries with the same key. The first request claims the key
in its own transaction with one upsert (a unique row and, on PostgreSQL, the key's advisory
lock, so that a duplicate arriving on any instance while it runs is answered 409 at once); the
claim, the work and the response commit together, and the response is replayed to every retry
for `IDEMPOTENCY_TTL_HOURS`. A request that fails leaves nothing behind: its transaction, claim
included, rolls back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from copy import deepcopy
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Response, current_app, request
from flask_jwt_extended import current_user
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.db import Base, UUIDPrimaryKey, commits_deferred, utcnow
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
    """Insert the in-flight row in the request's transaction: (key free of other requests in
    flight, row inserted). On SQLite a write transaction holds the database's only write lock
    from its start (db.tune_sqlite), so a duplicate waits for the first to end, then replays."""
    values = {
        "id": uuid.uuid4(),
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "now": now,
        "expires_at": now + timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"]),
    }
    if db.session.get_bind().dialect.name == "postgresql":
        row = db.session.execute(
            _CLAIM_POSTGRESQL, {**values, "lock_id": _lock_id(scope, key)}
        ).one()
        return bool(row.taken), bool(row.claimed)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    statement = (
        sqlite_insert(IdempotencyRecord)
        .values(
            id=values["id"],
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            locked_at=now,
            created_at=now,
            expires_at=values["expires_at"],
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    return True, bool(db.session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _claim(scope: str, key: str, fingerprint: str) -> Response | None:
    """Claim the key in the request's transaction (None: this request runs), or answer for it:
    the stored response replayed, 422 for another body, 409 while another is in flight."""
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
        if existing.fingerprint != fingerprint:
            raise Problem(
                422,
                "idempotency_key_reuse",
                lazy_gettext("This Idempotency-Key was already used for a different request."),
            )
        if existing.response_status is not None:
            return _replay(existing)
        stale_after = timedelta(seconds=current_app.config["IDEMPOTENCY_IN_FLIGHT_SECONDS"])
        if existing.locked_at is not None and existing.locked_at < now - stale_after:
            # An in-flight row left committed by an earlier version of this code whose process
            # died mid-request: this retry takes it over.
            existing.locked_at = now
            db.session.flush()
            return None
        raise _in_flight()
    raise _in_flight()


def _release() -> None:
    """Forget a claim whose request failed, with its work: the client may retry with the key."""
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        log.warning("could not roll back a failed idempotent request", exc_info=True)


def _complete(claim: tuple[str, str], response: Response) -> None:
    """Store the response, and commit it together with the view's work and the claim."""
    headers = {
        name: response.headers[name]
        for name in _REPLAYED_RESPONSE_HEADERS
        if name in response.headers
    }
    headers["Content-Type"] = response.content_type or "application/json"
    db.session.execute(
        sa.update(IdempotencyRecord)
        .where(IdempotencyRecord.scope == claim[0], IdempotencyRecord.key == claim[1])
        .values(
            response_status=response.status_code,
            response_body=response.get_data(as_text=True),
            response_headers=headers,
            locked_at=None,
        )
    )
    db.session.commit()


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
            _complete((scope, key), response)
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
