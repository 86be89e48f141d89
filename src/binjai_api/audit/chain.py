"""The hash chain: sealing new records into it, and verifying it.

Each sealed record carries `seq` (1, 2, 3 ... without gaps), the hash of the record before it
(`prev_hash`) and its own hash: SHA-256 over a canonical JSON of every field, the position and
the previous hash included. Editing a record changes its hash; removing one leaves a gap or
cuts the end the head row still remembers; moving one breaks the link to its predecessor.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from binjai_api.audit.models import AuditChainHead, AuditRecord

HEAD_ID = 1  # the one row of audit_chain_head (inserted by migration 0007)
_SEAL_BATCH = 500

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


def seal(
    connection: sa.Connection,
    records: Sequence[Mapping[Any, Any]],
    now: datetime,
    *,
    reread: bool = False,
) -> int:
    """Chain these unsealed records, in this order; returns how many.

    Hashes the records as the caller holds them (their values are what was inserted), unless
    `reread`: after a savepoint was rolled back, some may be gone, so the survivors are read
    back first. Locks the head row until the caller's transaction ends, so concurrent writers
    append one transaction after another, and only between this call and their commit."""
    head = connection.execute(
        sa.select(head_table.c.last_seq, head_table.c.last_hash)
        .where(head_table.c.id == HEAD_ID)
        .with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row 1: run the database migrations")
    rows = _surviving(connection, records) if reread else list(records)
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


def _surviving(
    connection: sa.Connection, records: Sequence[Mapping[Any, Any]]
) -> list[Mapping[Any, Any]]:
    """The records still in the database and unsealed, as stored, in the given order."""
    ids = [record["id"] for record in records]
    rows: list[Mapping[Any, Any]] = []
    for start in range(0, len(ids), _SEAL_BATCH):
        rows.extend(
            connection.execute(
                sa.select(records_table).where(
                    records_table.c.id.in_(ids[start : start + _SEAL_BATCH]),
                    records_table.c.seq.is_(None),
                )
            ).mappings()
        )
    position = {record_id: index for index, record_id in enumerate(ids)}
    return sorted(rows, key=lambda row: position[row["id"]])


@dataclass(frozen=True)
class ChainProblem:
    """The first thing wrong with the chain.

    `kind`: `altered` (a record's content no longer matches its hash), `removed` (a position of
    the chain has no record), `reordered` (a record does not follow the one before it: moved,
    replaced, or altered with its hash recomputed), `unsealed` (a committed record outside the
    chain, written around the sealing path)."""

    kind: str
    seq: int | None
    record_id: uuid.UUID | None
    detail: str


@dataclass(frozen=True)
class ChainReport:
    records: int
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(connection: sa.Connection) -> ChainReport:
    """Walk the chain by seq and report the first problem, or that it is intact."""
    head = connection.execute(
        sa.select(head_table.c.last_seq, head_table.c.last_hash).where(head_table.c.id == HEAD_ID)
    ).one_or_none()
    expected, prev_hash, count = 1, None, 0
    result = connection.execute(
        sa.select(records_table)
        .where(records_table.c.seq.is_not(None))
        .order_by(records_table.c.seq)
        .execution_options(yield_per=1000)
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
    if problem is None:
        unsealed = connection.execute(
            sa.select(records_table.c.id).where(records_table.c.seq.is_(None)).limit(1)
        ).scalar_one_or_none()
        if unsealed is not None:
            problem = ChainProblem(
                "unsealed", None, unsealed, "a committed record was never sealed into the chain"
            )
    return ChainReport(records=count, problem=problem)


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
