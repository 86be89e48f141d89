"""Tables of the audit trail: the records, and the head of their hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.db import Base, UUIDPrimaryKey


class AuditRecord(UUIDPrimaryKey, Base):
    """One audited event: who did what to which object, when, in which request, with the values
    before and after. Written unsealed inside the change's own transaction; sealed into the chain
    (seq, prev_hash, hash) a moment later by the outbox worker, in the order written."""

    __tablename__ = "audit_records"
    __table_args__ = (
        sa.Index("ix_audit_records_object_type_object_id", "object_type", "object_id"),
        sa.Index("ix_audit_records_actor_id_occurred_at", "actor_id", "occurred_at"),
        # What the sealer reads, oldest first: only the records not sealed yet.
        sa.Index(
            "ix_audit_records_unsealed",
            "occurred_at",
            "id",
            postgresql_where=sa.text("seq IS NULL"),
            sqlite_where=sa.text("seq IS NULL"),
        ),
    )

    # Position in the chain: 1, 2, 3 ... without gaps; NULL until sealed.
    seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_type: Mapped[str] = mapped_column(sa.String(16))  # user | api_client | system
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    action: Mapped[str] = mapped_column(sa.String(40))
    object_type: Mapped[str] = mapped_column(sa.String(60))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))


class AuditChainHead(Base):
    """The one row that says where the chain ends; sealing locks it, so the chain grows one
    transaction at a time and its end cannot be cut off unnoticed."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_hash: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime | None]
