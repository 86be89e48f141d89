"""Capturing audited changes from every SQLAlchemy session.

`after_flush` turns each new, changed or deleted instance of a model with `__audit__` into an
unsealed record, inserted with one Core statement on the flush's own connection: a rolled-back
savepoint or transaction takes its records with it, and the commit takes no lock shared with other
writers. The outbox worker seals committed records into the chain (binjai_api.audit.chain) a
moment later, in the order they were written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

import click
import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import Session, UOWTransaction
from werkzeug.local import LocalProxy

from binjai_api import direct_sql
from binjai_api.audit import chain, pseudonyms
from binjai_api.audit.policy import PERSONAL_MARK, SECRET_MARK, AuditPolicy
from binjai_api.db import utcnow

# This transaction's records by object, for folding later updates of the same object into them.
OPEN_RECORDS_KEY = "audit_open_records"
# The instant of this transaction's last record: the next one is later, so that sealing by
# occurred_at keeps the order they were written in.
LAST_INSTANT_KEY = "audit_last_instant"
_TICK = timedelta(microseconds=1)


def json_safe(value: Any) -> Any:
    """A column value as JSON: uuids, instants (RFC 3339, UTC), dates and decimals as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    return str(value)


# What a column's value is recorded as (a column of `identities` is a pseudonym while the row is
# anonymous, else what its other kind says).
_PLAIN, _SECRET, _PERSONAL = 0, 1, 2


@lru_cache(maxsize=512)
def _audited_columns(mapper: Any, policy: AuditPolicy) -> tuple[tuple[str, int, bool], ...]:
    """(key, kind, identity) of each column of an audited model that is not ignored: worked out
    once per model, not at every flush."""
    columns = []
    for attr in mapper.column_attrs:
        key = attr.key
        if policy.is_ignored(key):
            continue
        kind = (
            _SECRET if policy.is_secret(key) else _PERSONAL if policy.is_personal(key) else _PLAIN
        )
        columns.append((key, kind, key in policy.identities))
    return tuple(columns)


def _recorded(kind: int, value: Any, *, pseudonymous: bool = False) -> Any:
    if value is None:
        return None
    if pseudonymous:
        return pseudonyms.pseudonym(value)
    if kind == _SECRET:
        return SECRET_MARK
    if kind == _PERSONAL:
        return PERSONAL_MARK
    return json_safe(value)


def current_actor() -> dict[str, Any]:
    """Who is acting: the caller of the request (account or API client), an anonymous caller
    (registration, public forms), or the system (a CLI command, a worker)."""
    if has_request_context():
        principal = g.get("principal")
        if type(principal) is LocalProxy:  # access keeps `current_user`: read through it once
            principal = principal._get_current_object()
        actor: dict[str, Any] = {"request_id": g.get("request_id")}
        if principal is None:
            return {**actor, "actor_type": "anonymous", "actor_id": None, "actor_role": None}
        if principal.is_user and pseudonyms.acting_pseudonymously(principal.id):
            return {
                **actor,
                "actor_type": pseudonyms.ACTOR_TYPE,
                "actor_id": pseudonyms.pseudonym(principal.id),
                "actor_role": None,
            }
        if principal.is_user:
            return {
                **actor,
                "actor_type": "user",
                "actor_id": str(principal.id),
                "actor_role": principal.role,
            }
        return {
            **actor,
            "actor_type": "api_client",
            "actor_id": str(principal.id),
            "actor_role": None,
        }
    context = click.get_current_context(silent=True)
    command = context.info_name if context is not None else None
    return {"request_id": None, "actor_type": "system", "actor_id": command, "actor_role": None}


def new_record(
    *,
    action: str,
    object_type: str,
    object_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: dict[str, Any],
    occurred_at: datetime,
) -> dict[str, Any]:
    """One unsealed record, as a row of audit_records."""
    return {
        "id": uuid.uuid4(),
        "occurred_at": occurred_at,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": before,
        "after": after,
        **actor,
    }


def insert_records(session: Session, records: list[dict[str, Any]]) -> None:
    """Insert unsealed records in the session's transaction, each later than the one before."""
    if not records:
        return
    last = session.info.get(LAST_INSTANT_KEY)
    for record in records:
        if last is not None and record["occurred_at"] <= last:
            record["occurred_at"] = last + _TICK
        last = record["occurred_at"]
    session.info[LAST_INSTANT_KEY] = last
    direct_sql.execute(session.connection(), _INSERT_RECORDS, records)


_INSERT_RECORDS = sa.insert(chain.records_table)


def _merged_into_earlier(session: Session, change: dict[str, Any]) -> bool:
    """Fold an update into this transaction's earlier record of the same object, so that one
    service call that flushes twice (a status, then its deadline) leaves one record. The earlier
    record is still unsealed, which the append-only trigger allows to change."""
    key = (change["object_type"], change["object_id"])
    earlier = session.info.get(OPEN_RECORDS_KEY, {}).get(key)
    if earlier is None or change["action"] != "update":
        return False
    before = (
        {**change["before"], **(earlier["before"] or {})} if earlier["before"] is not None else None
    )
    after = {**(earlier["after"] or {}), **change["after"]}
    table = chain.records_table
    updated = session.connection().execute(
        sa.update(table)
        .where(table.c.id == earlier["id"], table.c.seq.is_(None))
        .values(before=before, after=after)
    )
    if updated.rowcount != 1:  # its savepoint was rolled back
        return False
    earlier["before"], earlier["after"] = before, after
    return True


def _remember(session: Session, records: list[dict[str, Any]]) -> None:
    open_records = session.info.setdefault(OPEN_RECORDS_KEY, {})
    for record in records:
        if record["action"] in ("create", "update"):
            open_records[(record["object_type"], record["object_id"])] = record


def _object_id(mapper: Any, instance: Any) -> str:
    return ":".join(str(part) for part in mapper.primary_key_from_instance(instance))


def _change(instance: Any, policy: AuditPolicy, action: str) -> dict[str, Any] | None:
    """{action, object_type, object_id, before, after} of one instance, or None when only
    ignored columns changed."""
    state = sa.inspect(instance)
    mapper = state.mapper
    values = state.dict
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    columns = _audited_columns(mapper, policy)
    anonymous = policy.is_anonymous(values)
    if action == "create":
        get = values.get  # a new row's many empty columns are recorded as None without a call
        after = {
            key: None
            if (value := get(key)) is None
            else _recorded(kind, value, pseudonymous=anonymous and identity)
            for key, kind, identity in columns
        }
    elif action == "delete":
        before = {
            key: _recorded(kind, values.get(key), pseudonymous=anonymous and identity)
            for key, kind, identity in columns
            if key in values
        }
    else:
        before, after = {}, {}
        for key, kind, identity in columns:
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            before[key] = _recorded(kind, old, pseudonymous=anonymous and identity)
            after[key] = _recorded(kind, new, pseudonymous=anonymous and identity)
        if not after:
            return None
    return {
        "action": action,
        "object_type": mapper.local_table.name,
        "object_id": _object_id(mapper, instance),
        "before": before,
        "after": after,
    }


def _audited(instances: Iterable[Any]) -> Iterable[tuple[Any, AuditPolicy]]:
    for instance in instances:
        policy = getattr(type(instance), "__audit__", None)
        if policy is not None:
            yield instance, policy


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    changes = []
    for action, instances in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for instance, policy in _audited(instances):
            change = _change(instance, policy, action)
            if change is not None:
                changes.append(change)
    changes = [change for change in changes if not _merged_into_earlier(session, change)]
    if not changes:
        return
    actor, now = current_actor(), utcnow()
    records = [new_record(**change, actor=actor, occurred_at=now) for change in changes]
    insert_records(session, records)
    _remember(session, records)


def record_insert(session: Session, instance: Any) -> None:
    """The record of an audited row its service inserted with a Core statement (no flush, so
    `_after_flush` never sees it): the same record that flush would have written, in the same
    transaction. The instance holds every column's value as inserted."""
    policy = type(instance).__audit__
    change = _change(instance, policy, "create")
    assert change is not None
    records = [new_record(**change, actor=current_actor(), occurred_at=utcnow())]
    insert_records(session, records)
    _remember(session, records)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        for key in (OPEN_RECORDS_KEY, LAST_INSTANT_KEY):
            session.info.pop(key, None)


def install() -> None:
    """Listen on every session (the app's and the tests'); calling it again changes nothing."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not sa.event.contains(Session, name, listener):
            sa.event.listen(Session, name, listener)
