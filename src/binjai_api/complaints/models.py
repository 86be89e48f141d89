"""Tables of the complaints domain: categories, reports, their photos, history, comments and
supporters (tracking numbers come from binjai_api.numbering)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.agencies.models import Agency
from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey, utcnow


class ComplaintCategory(UUIDPrimaryKey, Timestamps, Base):
    """A kind of report, routed to the agency responsible for it."""

    __tablename__ = "complaint_categories"
    __audit__ = AuditPolicy()

    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    agency_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    follow_up_days: Mapped[int] = mapped_column(default=5)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    # The category's intake form (complaints/questions.py): typed extra questions kept with the
    # category, so that a submission reads them with the category itself (no extra query); a
    # notice shown before submitting; a stop message that blocks every submission.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    notice: Mapped[str | None] = mapped_column(sa.String(1000))
    notice_en: Mapped[str | None] = mapped_column(sa.String(1000))
    stop_message: Mapped[str | None] = mapped_column(sa.String(500))
    stop_message_en: Mapped[str | None] = mapped_column(sa.String(500))

    agency: Mapped[Agency] = relationship(lazy="selectin")


class Complaint(UUIDPrimaryKey, Timestamps, Base):
    """A complaint, aspiration or information request (SP4N-LAPOR! report types)."""

    __tablename__ = "complaints"
    __audit__ = AuditPolicy(
        # Free text and whereabouts a resident wrote; lat/lon of a confidential report can
        # point at the reporter's home.
        personal=(
            "title",
            "description",
            "address",
            "lat",
            "lon",
            "contact_name",
            "contact_email",
            "contact_phone",
            "rating_feedback",
            "answers",
        ),
        ignore=("supporter_count",),
        # An anonymous report's reporter appears in the trail only as a keyed pseudonym.
        identities=("reporter_id",),
        anonymous_when=("privacy", "anonymous"),
    )
    __table_args__ = (
        sa.CheckConstraint(
            "type IN ('complaint', 'aspiration', 'information_request')", name="type_known"
        ),
        sa.CheckConstraint(
            "privacy IN ('public', 'anonymous', 'confidential')", name="privacy_known"
        ),
        sa.CheckConstraint("source IN ('app', 'open311')", name="source_known"),
        sa.CheckConstraint(
            "channel IN ('app', 'open311', 'walk_in', 'phone', 'whatsapp', 'sms', 'email')",
            name="channel_known",
        ),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        # The public feed: newest first, optionally narrowed by one of these filters.
        sa.Index("ix_complaints_created_at_id", "created_at", "id"),
        sa.Index("ix_complaints_category_id_created_at", "category_id", "created_at"),
        sa.Index("ix_complaints_status_created_at", "status", "created_at"),
        sa.Index("ix_complaints_kecamatan_code_created_at", "kecamatan_code", "created_at"),
        sa.Index("ix_complaints_lat_lon", "lat", "lon"),
        # The officers' queue and the overdue filter.
        sa.Index("ix_complaints_agency_id_status_due_at", "agency_id", "status", "due_at"),
        # The command center's open and overdue figures: the open reports only, read from the
        # index (complaints/statistics.py open_counts).
        sa.Index(
            "ix_complaints_open_agency_area",
            "agency_id",
            "kecamatan_code",
            "kelurahan_code",
            postgresql_include=["due_at", "status"],
            postgresql_where=sa.text(
                "status IN ('submitted', 'dispatched', 'in_progress', 'reopened')"
            ),
            sqlite_where=sa.text(
                "status IN ('submitted', 'dispatched', 'in_progress', 'reopened')"
            ),
        ),
    )

    tracking_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    type: Mapped[str] = mapped_column(sa.String(24))
    category_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaint_categories.id", ondelete="RESTRICT")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(sa.String(150))
    description: Mapped[str] = mapped_column(sa.Text)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    kelurahan_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("kelurahan.code", ondelete="RESTRICT"), index=True
    )
    kecamatan_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("kecamatan.code", ondelete="RESTRICT")
    )
    privacy: Mapped[str] = mapped_column(sa.String(12))
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")
    source: Mapped[str] = mapped_column(sa.String(10), default="app")
    # How the report reached the city (states.Channel); staff-filed reports keep source `app`.
    channel: Mapped[str] = mapped_column(sa.String(12), default="app")
    # The answers to the category's questions, with each question as it was asked
    # (complaints/questions.py); None when the category asked nothing.
    answers: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    api_client_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("api_clients.id", ondelete="SET NULL"), index=True
    )
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="SET NULL"), index=True
    )
    # The deadline now running: verification while the report waits for the BCC, the agency's
    # follow-up once dispatched; None once resolved, rejected, closed or a duplicate.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    dispatched_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    rating: Mapped[int | None]
    rating_feedback: Mapped[str | None] = mapped_column(sa.String(1000))
    rated_at: Mapped[datetime | None]
    supporter_count: Mapped[int] = mapped_column(default=0)

    # Loaded with every list in one extra query each, whatever the page size (no N+1).
    photos: Mapped[list[ComplaintPhoto]] = relationship(
        back_populates="complaint", order_by="ComplaintPhoto.created_at", lazy="selectin"
    )
    category: Mapped[ComplaintCategory] = relationship(lazy="selectin")
    agency: Mapped[Agency] = relationship(lazy="selectin")


class ComplaintPhoto(UUIDPrimaryKey, Base):
    """A photo of the problem (from the reporter) or of the fix (from the officer)."""

    __tablename__ = "complaint_photos"
    __table_args__ = (
        sa.CheckConstraint("purpose IN ('report', 'resolution')", name="purpose_known"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(12), default="report")
    storage_key: Mapped[str] = mapped_column(sa.String(64))
    media_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="photos")


class ComplaintEvent(UUIDPrimaryKey, Base):
    """One entry of a report's history: who did what, when, from which status to which."""

    __tablename__ = "complaint_events"
    __table_args__ = (
        sa.Index("ix_complaint_events_complaint_id_created_at", "complaint_id", "created_at"),
        # Command-center statistics: a period's verifications, resolutions and closings.
        sa.Index("ix_complaint_events_action_created_at", "action", "created_at"),
        sa.Index("ix_complaint_events_to_status_created_at", "to_status", "created_at"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(sa.String(24))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    from_agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL")
    )
    to_agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    # The deadline that was running when the action was taken: whether a report was verified or
    # resolved on time is read from the event that ended the step (command center statistics).
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintComment(UUIDPrimaryKey, Timestamps, Base):
    """A message in a report's thread; internal notes are for staff only."""

    __tablename__ = "complaint_comments"
    __table_args__ = (
        sa.Index("ix_complaint_comments_complaint_id_created_at", "complaint_id", "created_at"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE")
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    author_role: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    is_internal: Mapped[bool] = mapped_column(default=False)


class ComplaintSupporter(Base):
    """A resident who said "saya juga" (me too) on someone else's report."""

    __tablename__ = "complaint_supporters"

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


REPLY_TEMPLATE_ACTIONS = (
    "dispatch",
    "reject",
    "mark_duplicate",
    "transfer",
    "start",
    "resolve",
    "close",
    "comment",
)


class ComplaintReplyTemplate(UUIDPrimaryKey, Timestamps, Base):
    """A staff reply kept for reuse, per category and/or action, in Indonesian and English
    (complaints/reply_templates.py)."""

    __tablename__ = "complaint_reply_templates"
    __audit__ = AuditPolicy()
    __table_args__ = (
        sa.CheckConstraint(
            "action IS NULL OR action IN ("
            + ", ".join(f"'{action}'" for action in REPLY_TEMPLATE_ACTIONS)
            + ")",
            name="action_known",
        ),
        sa.CheckConstraint("auto_key IS NULL OR auto_apply", name="auto_key_only_when_auto"),
    )

    name: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str | None] = mapped_column(sa.String(24))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("complaint_categories.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    body_en: Mapped[str] = mapped_column(sa.Text)
    auto_apply: Mapped[bool] = mapped_column(default=False)
    # `action:category` (or `action:*`) of an active automatic template: at most one applies to
    # an action on a category, enforced by this unique column even under concurrent writers.
    auto_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
