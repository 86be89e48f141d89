"""Tables of the licensing domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey, utcnow


class PermitType(UUIDPrimaryKey, Timestamps, Base):
    """A kind of permit the city issues, as configured by admins."""

    __tablename__ = "permit_types"
    __audit__ = AuditPolicy()
    __table_args__ = (
        sa.CheckConstraint("levy_idr IS NULL OR levy_idr > 0", name="levy_positive"),
        sa.CheckConstraint("validity_months > 0", name="validity_positive"),
    )

    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    issuing_agency_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    technical_agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    # [{code, label, label_en, type, required, choices, on_permit}]; `on_permit` fields are
    # printed on the permit as its object (pdf.py), in this order.
    form_fields: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # [{code, name, name_en, required, accepted_types, max_size_bytes}]
    document_requirements: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # {step: working days}, steps as in workflow.Step
    step_deadlines: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    levy_idr: Mapped[int | None] = mapped_column(sa.BigInteger)
    validity_months: Mapped[int]
    # The conditions printed on every permit of this type (Indonesian, as the permit is).
    conditions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)


class PermitApplication(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "permit_applications"
    __audit__ = AuditPolicy(personal=("form_data",))

    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    permit_type_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("permit_types.id", ondelete="RESTRICT"), index=True
    )
    applicant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # The holder's earlier permit this one renews (no foreign key: permits refer to applications).
    replaces_permit_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(sa.String(40), default="draft", index=True)
    form_data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)  # command-center periods
    decided_at: Mapped[datetime | None]
    # The current officer step's deadline (kept while the clock is paused, extended on resume).
    step_due_at: Mapped[datetime | None]
    # When whoever must act next (officer, applicant or payer) must have acted.
    action_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # The whole service's deadline (sum of the officer steps), extended by every pause.
    sla_due_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    technical_review_result: Mapped[str | None] = mapped_column(sa.String(30))
    # The reason given with the latest step that needs one (rejection, correction, revocation).
    status_reason: Mapped[str | None] = mapped_column(sa.Text)

    permit_type: Mapped[PermitType] = relationship(lazy="joined")
    # The timeline, oldest first; list views load it for a whole page at once (selectinload).
    events: Mapped[list[PermitApplicationEvent]] = relationship(
        viewonly=True,
        order_by="(PermitApplicationEvent.created_at, PermitApplicationEvent.id)",
    )


class PermitDocument(UUIDPrimaryKey, Base):
    """One uploaded version of a required document; a re-upload adds a version."""

    __tablename__ = "permit_documents"
    __table_args__ = (sa.UniqueConstraint("application_id", "requirement_code", "version"),)

    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    requirement_code: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    storage_key: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    media_type: Mapped[str] = mapped_column(sa.String(60))
    size_bytes: Mapped[int]
    original_filename: Mapped[str | None] = mapped_column(sa.String(200))
    review_status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PermitApplicationEvent(UUIDPrimaryKey, Base):
    """The audit trail and the applicant's timeline: every step, who took it, and why."""

    __tablename__ = "permit_application_events"
    __table_args__ = (
        # Command-center statistics: a period's verifications, issuances and decisions.
        sa.Index("ix_permit_application_events_action_created_at", "action", "created_at"),
        sa.Index("ix_permit_application_events_to_status_created_at", "to_status", "created_at"),
    )

    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str | None] = mapped_column(sa.String(40))
    to_status: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    actor_kind: Mapped[str] = mapped_column(sa.String(30))
    actor_agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PermitBill(UUIDPrimaryKey, Timestamps, Base):
    """The regional levy bill (SKRD) issued on approval."""

    __tablename__ = "permit_bills"
    __audit__ = AuditPolicy()

    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("permit_applications.id", ondelete="CASCADE"), unique=True
    )
    payment_code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    amount_idr: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(20), default="unpaid")
    due_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    payment_reference: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    payment_channel: Mapped[str | None] = mapped_column(sa.String(40))


class Permit(UUIDPrimaryKey, Timestamps, Base):
    """An issued permit."""

    __tablename__ = "permits"
    __audit__ = AuditPolicy(secret=("verification_code",))

    application_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("permit_applications.id", ondelete="RESTRICT"), unique=True
    )
    permit_type_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("permit_types.id", ondelete="RESTRICT"), index=True
    )
    holder_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    permit_number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    issued_at: Mapped[datetime]
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.Text)
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("permits.id", ondelete="SET NULL")
    )
    verification_code: Mapped[str] = mapped_column(sa.String(64), unique=True)

    permit_type: Mapped[PermitType] = relationship(lazy="joined")
