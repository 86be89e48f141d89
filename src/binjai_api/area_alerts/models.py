"""Tables of area alerts: who follows which area, the reports waiting to be fanned out to
them, and what each follower was told (the daily cap and the digest read it)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, UUIDPrimaryKey, utcnow

AREA_TYPES = ("kelurahan", "kecamatan")
EVENTS = ("filed", "resolved")


class AreaSubscription(UUIDPrimaryKey, Base):
    """A resident follows the public reports of one kelurahan or kecamatan, of some categories
    (none listed: every category)."""

    __tablename__ = "area_subscriptions"
    __audit__ = AuditPolicy()
    __table_args__ = (
        sa.UniqueConstraint("user_id", "area_type", "area_code"),
        sa.CheckConstraint("area_type IN ('kelurahan', 'kecamatan')", name="area_type_known"),
        sa.Index("ix_area_subscriptions_area", "area_type", "area_code"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    area_type: Mapped[str] = mapped_column(sa.String(10))
    area_code: Mapped[str] = mapped_column(sa.String(13))
    # Category codes followed; an empty list follows every category.
    category_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AreaAlertEvent(UUIDPrimaryKey, Base):
    """A public report filed or resolved, written in the report's own transaction and fanned
    out to the area's followers by the outbox worker (a busy kecamatan's thousand followers
    never slow a submission)."""

    __tablename__ = "area_alert_events"
    __table_args__ = (
        sa.CheckConstraint("event IN ('filed', 'resolved')", name="event_known"),
        sa.Index(
            "ix_area_alert_events_pending",
            "created_at",
            sqlite_where=sa.text("fanned_out_at IS NULL"),
            postgresql_where=sa.text("fanned_out_at IS NULL"),
        ),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fanned_out_at: Mapped[datetime | None]


class AreaAlertItem(UUIDPrimaryKey, Base):
    """One report event for one follower: pushed at once (`immediate`) while under the daily
    cap, otherwise held for the next daily digest. Unique per follower, report and event, so a
    fan-out run again after a crash tells nobody twice."""

    __tablename__ = "area_alert_items"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "complaint_id", "event"),
        sa.Index("ix_area_alert_items_user_day", "user_id", "day"),
        sa.Index(
            "ix_area_alert_items_undigested",
            "day",
            sqlite_where=sa.text("NOT immediate AND digested_at IS NULL"),
            postgresql_where=sa.text("NOT immediate AND digested_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(sa.String(10))
    day: Mapped[date] = mapped_column(sa.Date)  # the local (WIB) day it was counted on
    immediate: Mapped[bool]
    digested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
