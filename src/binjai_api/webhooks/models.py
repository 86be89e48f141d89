"""Integrators' webhook endpoints and the webhook outbox (one row per event per endpoint)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey, utcnow

MAX_URL_LENGTH = 2000


class WebhookEndpoint(UUIDPrimaryKey, Timestamps, Base):
    """An address an API client asked us to POST chosen events to, signed with its secret."""

    __tablename__ = "webhook_endpoints"
    __audit__ = AuditPolicy(
        secret=("secret", "previous_secret"), ignore=("failing_since", "last_success_at")
    )

    api_client_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("api_clients.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.String(MAX_URL_LENGTH))
    description: Mapped[str | None] = mapped_column(sa.String(200))
    event_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Standard Webhooks signing secrets (`whsec_` + base64). Kept readable: we sign with them.
    secret: Mapped[str] = mapped_column(sa.String(100))
    # After a rotation the previous secret also signs until it expires (the overlap).
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    is_enabled: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(40))
    # Start of the current run of failed attempts (None: the last attempt succeeded).
    failing_since: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class WebhookDelivery(UUIDPrimaryKey, Base):
    """One event for one endpoint: the message (its `webhook-id` is `msg_` + this id's hex) and
    its delivery state. `next_attempt_at` is also the claim lease, as in the push outbox."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'dropped')", name="status_known"
        ),
        sa.Index("ix_webhook_deliveries_status_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(sa.String(60))
    # The body as sent: {"type", "timestamp", "data"}.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_id: Mapped[uuid.UUID | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")

    @property
    def message_id(self) -> str:
        return f"msg_{self.id.hex}"
