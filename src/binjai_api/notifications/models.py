"""Devices, the in-app inbox, the delivery outbox, broadcasts and preferences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey, utcnow

MAX_TOKEN_LENGTH = 512


class Device(UUIDPrimaryKey, Base):
    """A phone or browser of a user, known by its FCM registration token."""

    __tablename__ = "devices"
    __table_args__ = (
        sa.CheckConstraint("platform IN ('android', 'ios', 'web')", name="platform_known"),
    )

    token: Mapped[str] = mapped_column(sa.String(MAX_TOKEN_LENGTH), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The login session the app registered it under: ending that session (logout, logout of
    # every session, a password change, a deactivation) unbinds the device, so no push reaches a
    # phone whose user has logged out. No foreign key: sessions are revoked, never deleted, and
    # adding one to this table on SQLite would mean copying it (see migration 0008).
    session_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    platform: Mapped[str] = mapped_column(sa.String(10))
    app_version: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last time the app registered the token; tokens not refreshed for 60 days are pruned.
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Broadcast(UUIDPrimaryKey, Timestamps, Base):
    """A city announcement from the Command Center, fanned out to each inbox in batches."""

    __tablename__ = "broadcasts"
    __audit__ = AuditPolicy(ignore=("fan_out_cursor", "recipients_count", "deliveries_count"))
    __table_args__ = (
        sa.CheckConstraint("audience IN ('all', 'kecamatan', 'topic')", name="audience_known"),
        sa.CheckConstraint("status IN ('queued', 'recorded')", name="status_known"),
    )

    title_id: Mapped[str] = mapped_column(sa.String(120))
    body_id: Mapped[str] = mapped_column(sa.String(1000))
    title_en: Mapped[str | None] = mapped_column(sa.String(120))
    body_en: Mapped[str | None] = mapped_column(sa.String(1000))
    audience: Mapped[str] = mapped_column(sa.String(12))
    kecamatan_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("kecamatan.code", ondelete="RESTRICT")
    )
    topic: Mapped[str | None] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(12), default="queued", index=True)
    # Fan-out walks the recipients in id order; the cursor moves in the same transaction as each
    # batch's inbox rows, so a worker that dies mid-way resumes without duplicating any.
    fan_out_cursor: Mapped[uuid.UUID | None]
    recipients_count: Mapped[int] = mapped_column(default=0)
    deliveries_count: Mapped[int] = mapped_column(default=0)
    recorded_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    def texts(self, language: str) -> dict[str, str]:
        return broadcast_texts(self.title_id, self.body_id, self.title_en, self.body_en, language)


def broadcast_texts(
    title_id: str, body_id: str, title_en: str | None, body_en: str | None, language: str
) -> dict[str, str]:
    """A broadcast's title and body in `language`: English when it was written in English too,
    else Indonesian."""
    if language == "en" and title_en and body_en:
        return {"title": title_en, "body": body_en}
    return {"title": title_id, "body": body_id}


class Notification(UUIDPrimaryKey, Base):
    """One entry of a user's inbox. Written once, in the transaction of the change it reports."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "user_id"),
        sa.Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    resource_type: Mapped[str | None] = mapped_column(sa.String(40))
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    broadcast_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    read_at: Mapped[datetime | None]

    broadcast: Mapped[Broadcast | None] = relationship(lazy="joined")


class Delivery(UUIDPrimaryKey, Base):
    """The outbox: one push of one notification to one device.

    `next_attempt_at` is also the claim lease: a worker claims a row by pushing it into the
    future, so a worker that dies mid-batch leaves rows that fall due again (at least once).
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'dropped')", name="status_known"
        ),
        sa.Index("ix_notification_deliveries_status_due", "status", "next_attempt_at"),
    )

    notification_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    # Kept after the device is removed (SET NULL) so the row says why it was not delivered.
    device_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_id: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    fcm_message_name: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]

    notification: Mapped[Notification] = relationship(lazy="joined")
    device: Mapped[Device | None] = relationship(lazy="joined")


class TopicSubscription(Base):
    __tablename__ = "notification_topic_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)


class MutedKind(Base):
    __tablename__ = "notification_muted_kinds"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
