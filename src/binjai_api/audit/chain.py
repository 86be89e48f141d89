"""The hash chain: sealing records into it, and verifying it.

Records are written unsealed in the change's own transaction (binjai_api.audit.capture), so no
writer waits for another; the outbox worker seals them into the chain a moment later, in the
order they were written (`seal_next`).

Each sealed record carries `seq` (1, 2, 3 ... without gaps), the hash of the record before it
(`prev_hash`) and its own hash: SHA-256 over a canonical JSON of every field, the position and
the previous hash included. Editing a record changes its hash; removing one leaves a gap or
cuts the end the head row still remembers; moving one breaks the link to its predecessor.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from binjai_api.audit.models import AuditChainHead, AuditRecord

HEAD_ID = 1  # the one row of audit_chain_head (inserted by migration 0007)
SEAL_BATCH = 500  # records sealed per transaction

records_table: sa.Table = AuditRecord.__table__  # type: ignore[assignment]
head_table: sa.Table = AuditChainHead.__table__  # type: ignore[assignment]


def _instant(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(record: Mapping[Any, Any], *, seq: int, prev_hash: str | None) -> str:
    """SHA-256 (hex) of the record's canonical JSON, at position `seq` after `prev_hash`."""
    canonical = {
        "id": str(record["id"]),
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_at": _instant(record["occurred_at"]),
        "actor_type": record["actor_type"],
        "actor_id": record["actor_id"],
        "actor_role": record["actor_role"],
        "action": record["action"],
        "object_type": record["object_type"],
        "object_id": record["object_id"],
        "request_id": record["request_id"],
        "before": record["before"],
        "after": record["after"],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_next(connection: sa.Connection, now: datetime, *, limit: int = SEAL_BATCH) -> int:
    """Seal up to `limit` committed, unsealed records into the chain; returns how many.

    Runs off the request path (the outbox worker's job, `flask audit-seal`), one batch per
    transaction, which the caller commits. The head row is written first, so concurrent sealers
    queue on it (a row lock on PostgreSQL, the write lock on SQLite) and each sees what the one
    before sealed. Records are taken in the order they were written: by `occurred_at`, which
    capture keeps strictly increasing within a transaction, then by id."""
    connection.execute(
        sa.update(head_table).where(head_table.c.id == HEAD_ID).values(updated_at=now)
    )
    head = connection.execute(
        sa.select(head_table.c.last_seq, head_table.c.last_hash).where(head_table.c.id == HEAD_ID)
    ).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row 1: run the database migrations")
    rows = (
        connection.execute(
            sa.select(records_table)
            .where(records_table.c.seq.is_(None))
            .order_by(records_table.c.occurred_at, records_table.c.id)
            .limit(limit)
        )
        .mappings()
        .all()
    )
    if not rows:
        return 0
    seq, prev_hash = head.last_seq, head.last_hash
    updates = []
    for row in rows:
        seq += 1
        digest = record_hash(row, seq=seq, prev_hash=prev_hash)
        updates.append({"b_id": row["id"], "b_seq": seq, "b_prev": prev_hash, "b_hash": digest})
        prev_hash = digest
    connection.execute(
        sa.update(records_table)
        .where(records_table.c.id == sa.bindparam("b_id"))
        .values(
            seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")
        ),
        updates,
    )
    connection.execute(
        sa.update(head_table)
        .where(head_table.c.id == HEAD_ID)
        .values(last_seq=seq, last_hash=prev_hash, updated_at=now)
    )
    return len(updates)


def pending(connection: sa.Connection) -> tuple[int, datetime | None]:
    """How many committed records wait to be sealed, and when the oldest was written."""
    count, oldest = connection.execute(
        sa.select(sa.func.count(), sa.func.min(records_table.c.occurred_at)).where(
            records_table.c.seq.is_(None)
        )
    ).one()
    return count, oldest


@dataclass(frozen=True)
class ChainProblem:
    """The first thing wrong with the chain.

    `kind`: `altered` (a record's content no longer matches its hash), `removed` (a position of
    the chain has no record), `reordered` (a record does not follow the one before it: moved,
    replaced, or altered with its hash recomputed). Records not sealed yet are no problem: they
    are counted as pending."""

    kind: str
    seq: int | None
    record_id: uuid.UUID | None
    detail: str


@dataclass(frozen=True)
class ChainReport:
    records: int
    problem: ChainProblem | None
    pending: int = 0  # committed records the worker has not sealed yet

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(connection: sa.Connection) -> ChainReport:
    """Walk the chain by seq up to the head's end and report the first problem, or that it is
    intact; records sealed while it walks (beyond the end it read first) wait for the next run."""
    head = connection.execute(
        sa.select(head_table.c.last_seq, head_table.c.last_hash).where(head_table.c.id == HEAD_ID)
    ).one_or_none()
    expected, prev_hash, count = 1, None, 0
    query = sa.select(records_table).where(records_table.c.seq.is_not(None))
    if head is not None:
        query = query.where(records_table.c.seq <= head.last_seq)
    result = connection.execute(
        query.order_by(records_table.c.seq).execution_options(yield_per=1000)
    )
    problem: ChainProblem | None = None
    for row in result.mappings():
        problem = _check(row, expected=expected, prev_hash=prev_hash)
        if problem is not None:
            break
        prev_hash, expected, count = row["hash"], expected + 1, count + 1
    result.close()
    if problem is None and head is not None:
        if head.last_seq > count:
            problem = ChainProblem(
                "removed",
                expected,
                None,
                f"records {expected} to {head.last_seq} are missing from the end of the chain",
            )
        elif head.last_hash != prev_hash:
            problem = ChainProblem(
                "altered", count or None, None, "the chain's end does not match its head row"
            )
    return ChainReport(records=count, problem=problem, pending=pending(connection)[0])


def _check(row: Mapping[Any, Any], *, expected: int, prev_hash: str | None) -> ChainProblem | None:
    seq = row["seq"]
    if seq != expected:
        return ChainProblem(
            "removed", expected, None, f"record {expected} is missing (the next one is {seq})"
        )
    if row["prev_hash"] != prev_hash:
        return ChainProblem(
            "reordered", seq, row["id"], f"record {seq} does not follow record {seq - 1}"
        )
    if record_hash(row, seq=seq, prev_hash=row["prev_hash"]) != row["hash"]:
        return ChainProblem("altered", seq, row["id"], f"record {seq} was altered")
    return None
