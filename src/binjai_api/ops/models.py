"""Tables of the command center."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.db import Base, UUIDPrimaryKey


class Escalation(UUIDPrimaryKey, Base):
    """A missed deadline reported to the responsible agency and the BCC. The unique key makes it
    once per item per deadline, however many workers look at the same item at once."""

    __tablename__ = "ops_escalations"
    __table_args__ = (sa.UniqueConstraint("item_type", "item_id", "deadline"),)

    item_type: Mapped[str] = mapped_column(
        sa.String(30)
    )  # complaint | permit_application | queue_session
    item_id: Mapped[uuid.UUID]
    deadline: Mapped[datetime]
    step: Mapped[str] = mapped_column(sa.String(40))
    # What people quote and where to open it, as they were when escalated: the list and its CSV
    # name the item without a query into each domain (a queue session has no id of its own to
    # open, only its facility's queue on a date).
    reference: Mapped[str] = mapped_column(sa.String(60))
    title: Mapped[str] = mapped_column(sa.String(200))
    link: Mapped[str] = mapped_column(sa.String(300))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL"), index=True
    )
    escalated_at: Mapped[datetime] = mapped_column(index=True)
    notified_count: Mapped[int] = mapped_column(default=0)
