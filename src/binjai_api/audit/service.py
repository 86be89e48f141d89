"""The audit trail: staff access to personal data, the admins' list, and the chain's check."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from binjai_api.audit import capture, chain, pseudonyms
from binjai_api.audit.chain import ChainReport
from binjai_api.audit.models import AuditRecord
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.pagination import apply_sort

ACCESS_ACTION = "access_personal_data"
# Staff asked to see contact details shown masked by default, giving a reason.
REVEAL_ACTION = "reveal_contact"


def init_app(app: Flask) -> None:
    """Start recording: every session's changes to audited models from now on."""
    capture.install()


def act_pseudonymously(account_id: uuid.UUID) -> None:
    """For the rest of the request, this account's audited actions are recorded under its keyed
    pseudonym: an anonymous reporter acting on their own report (binjai_api.audit.pseudonyms)."""
    pseudonyms.act_pseudonymously(account_id)


def pseudonym_of(account_id: uuid.UUID) -> str:
    """The pseudonym an account's anonymous reports carry in the trail (needs the key)."""
    return pseudonyms.pseudonym(account_id)


def account_behind(pseudonym_hex: str, account_ids: Iterable[uuid.UUID]) -> uuid.UUID | None:
    """Which of these accounts carries this pseudonym (needs the key), or None."""
    return pseudonyms.find_account(pseudonym_hex, account_ids)


def record_access(
    *,
    object_type: str,
    object_ids: Sequence[uuid.UUID | str],
    fields: Sequence[str],
    action: str = ACCESS_ACTION,
    reason: str | None = None,
) -> None:
    """Record that the caller was shown these personal fields of these objects, and commit.

    One record per request: a list records every id it showed. Call it only where staff read
    someone else's personal data, not where residents read their own. The commit keeps what the
    caller already loaded (no expiry), so a list being serialized is not read again row by row.
    """
    ids = [str(object_id) for object_id in object_ids]
    if not ids:
        return
    after: dict[str, Any] = {"fields": sorted(set(fields))}
    if len(ids) > 1:
        after["object_ids"] = ids
    if reason is not None:
        after["reason"] = reason
    record = capture.new_record(
        action=action,
        object_type=object_type,
        object_id=ids[0] if len(ids) == 1 else None,
        before=None,
        after=after,
        actor=capture.current_actor(),
        occurred_at=utcnow(),
    )
    session = db.session()
    capture.insert_records(session, [record])
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


AUDIT_SORTABLE = {"seq": AuditRecord.seq}


def audit_records_query(
    *,
    actor_id: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
    sort: str = "-seq",
) -> sa.Select[Any]:
    """Sealed records matching the filters (times inclusive), newest first by default. Records
    waiting for the worker to seal them (a second or two) are left out, so that every record
    listed has its place in the chain."""
    query = apply_sort(
        sa.select(AuditRecord).where(AuditRecord.seq.is_not(None)),
        sort,
        AUDIT_SORTABLE,
        tiebreaker=AuditRecord.id,
    )
    for column, value in (
        (AuditRecord.actor_id, actor_id),
        (AuditRecord.object_type, object_type),
        (AuditRecord.object_id, object_id),
        (AuditRecord.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    if occurred_from is not None:
        query = query.where(AuditRecord.occurred_at >= occurred_from)
    if occurred_to is not None:
        query = query.where(AuditRecord.occurred_at <= occurred_to)
    return query


def audit_records(query: sa.Select[Any]) -> Any:
    """Every record of the query, streamed (CSV downloads)."""
    return db.session.execute(query.execution_options(yield_per=1000)).scalars()


def seal_pending(*, batch_size: int = chain.SEAL_BATCH) -> int:
    """Seal every committed record not sealed yet, in the order written, one batch per commit;
    returns how many (the outbox worker's job, and `flask audit-seal`)."""
    total = 0
    while True:
        sealed = chain.seal_next(db.session.connection(), utcnow(), limit=batch_size)
        db.session.commit()
        total += sealed
        if sealed < batch_size:
            return total


def pending_records() -> tuple[int, datetime | None]:
    """How many records wait to be sealed, and when the oldest of them was written."""
    found = chain.pending(db.session.connection())
    db.session.rollback()
    return found


def verify_chain() -> ChainReport:
    """Walk the whole chain, report the first altered, removed or moved record, and count the
    records still waiting to be sealed."""
    return chain.verify(db.session.connection())
