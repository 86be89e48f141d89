"""Tables of the command center."""

from __future__ import annotations

import uuid
from datetime import date, datetime

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


class StepFact(Base):
    """One step of a report or an application that the overview's closings and durations count:
    a closing, a (first) verification, a first resolution, an issuance. Written in the same
    transaction as the step's history event (ops/figures.py), so that a period's figures read
    this narrow table instead of walking every history; `previous_closing_at` lets a period
    count each closed item once without a DISTINCT over its rows."""

    __tablename__ = "ops_step_facts"
    __table_args__ = (
        # Covering on PostgreSQL: a period's figures are index-only scans of one range each.
        sa.Index(
            "ix_ops_step_facts_domain_step_ended_at",
            "domain",
            "step",
            "ended_at",
            postgresql_include=[
                "agency_id",
                "permit_type_id",
                "seconds",
                "has_deadline",
                "on_time",
                "previous_closing_at",
            ],
        ),
        sa.Index("ix_ops_step_facts_item_id", "item_id"),
        # A percentile's rank within one bucket of ops_step_days: the period's values of that
        # bucket's range, in order.
        sa.Index(
            "ix_ops_step_facts_domain_step_seconds",
            "domain",
            "step",
            "seconds",
            postgresql_include=["ended_at", "agency_id", "permit_type_id"],
        ),
        # Closings that were not an item's first (a reopened report, closed again): few, so a
        # period counts each closed item once by subtracting these from the closings' sum.
        sa.Index(
            "ix_ops_step_facts_reclosings",
            "domain",
            "step",
            "ended_at",
            postgresql_include=["previous_closing_at", "agency_id", "permit_type_id"],
            postgresql_where=sa.text("previous_closing_at IS NOT NULL"),
            sqlite_where=sa.text("previous_closing_at IS NOT NULL"),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(20))  # complaint | permit_application
    item_id: Mapped[uuid.UUID]
    # A report's agency (kept current when it is reassigned); an application's permit type.
    agency_id: Mapped[uuid.UUID | None]
    permit_type_id: Mapped[uuid.UUID | None]
    ended_at: Mapped[datetime]
    seconds: Mapped[float | None] = mapped_column(sa.Float)  # from submission, durations only
    has_deadline: Mapped[bool] = mapped_column(default=False)
    on_time: Mapped[bool] = mapped_column(default=False)
    previous_closing_at: Mapped[datetime | None]


class StepDay(Base):
    """The step rows of one local day summed: per (domain, step, scope, day, duration bucket),
    how many, with a deadline, on time. Kept current in the same transaction as the step rows
    (ops/figures.py: one UPSERT per flush), so that a year's figures add up a few thousand rows
    instead of reading a year of steps. `scope_id` is EVERY_SCOPE for the whole city, else a
    report's agency or an application's permit type (each step row counts in both). `bucket`
    is the duration's log-spaced bucket (figures.BUCKET_BOUNDS; 0 for closings): the buckets'
    counts locate a percentile's rank, then the step rows of that one bucket give its exact
    value."""

    __tablename__ = "ops_step_days"
    __table_args__ = (
        # A period's sums in one scope are one range of the key, which covers what they read.
        sa.PrimaryKeyConstraint(
            "scope_id",
            "day",
            "domain",
            "step",
            "bucket",
            postgresql_include=["count", "with_deadline", "on_time"],
        ),
    )

    domain: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    step: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    scope_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    bucket: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    with_deadline: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)


class ReportDay(Base):
    """Reports opened on one local day, counted by their current status, by channel and by
    area (kecamatan:kelurahan, '' where not given), in the whole city's scope (EVERY_SCOPE) and
    their agency's; and permit applications submitted that day by current status
    (`app_status`), in the city's scope and their permit type's. Kept current in the
    transaction that submits, moves or reassigns the item (ops/figures.py), so that a year's
    'opened' figures add up day rows instead of scanning the year's reports and applications."""

    __tablename__ = "ops_report_days"
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "scope_id", "day", "dimension", "key", postgresql_include=["count"]
        ),
    )

    scope_id: Mapped[uuid.UUID]
    day: Mapped[date]
    dimension: Mapped[str] = mapped_column(sa.String(10))  # status | channel | area
    key: Mapped[str] = mapped_column(sa.String(40))
    count: Mapped[int] = mapped_column(default=0)
