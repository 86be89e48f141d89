"""Tables of the health domain: facilities, their poli and sessions, and the online queue."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey

# Statuses in which a booking still holds its place in the queue (one per person per poli per day).
ACTIVE_STATUSES = ("booked", "checked_in", "called")
_ACTIVE_SQL = "status IN ('booked', 'checked_in', 'called')"


class Facility(UUIDPrimaryKey, Timestamps, Base):
    """A puskesmas, hospital or clinic."""

    __tablename__ = "health_facilities"
    __audit__ = AuditPolicy(ignore=("beds_updated_at",))
    __table_args__ = (
        sa.CheckConstraint("type IN ('puskesmas', 'hospital', 'clinic')", name="type_known"),
        sa.Index("ix_health_facilities_lat_lon", "lat", "lon"),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(20), index=True)
    address: Mapped[str] = mapped_column(sa.String(300))
    kelurahan_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("kelurahan.code", ondelete="SET NULL"), index=True
    )
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    # A 24-hour emergency department (IGD): the facility is open around the clock, every day.
    emergency_24h: Mapped[bool] = mapped_column(default=False)
    accepts_bpjs: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    beds_updated_at: Mapped[datetime | None]

    opening_hours: Mapped[list[OpeningHours]] = relationship(
        order_by="OpeningHours.weekday", cascade="all, delete-orphan"
    )
    services: Mapped[list[HealthService]] = relationship(
        order_by="HealthService.name", cascade="all, delete-orphan"
    )
    beds: Mapped[list[BedAvailability]] = relationship(
        order_by="BedAvailability.bed_class", cascade="all, delete-orphan"
    )


class OpeningHours(Base):
    """When a facility's doors are open on one weekday (0 = Monday); a missing day is closed."""

    __tablename__ = "health_opening_hours"
    __audit__ = AuditPolicy()
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        sa.CheckConstraint("opens_at < closes_at", name="opens_before_closing"),
    )

    facility_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_facilities.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    opens_at: Mapped[time] = mapped_column(sa.Time)
    closes_at: Mapped[time] = mapped_column(sa.Time)


class HealthService(UUIDPrimaryKey, Timestamps, Base):
    """A clinic unit (poli) of a facility: Poli Umum, Poli Gigi, KIA/KB ..."""

    __tablename__ = "health_services"
    __audit__ = AuditPolicy()
    __table_args__ = (sa.UniqueConstraint("facility_id", "code"),)

    facility_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_facilities.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(30), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # The name in English texts (notifications); the Indonesian name when not given.
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    is_active: Mapped[bool] = mapped_column(default=True)

    sessions: Mapped[list[QueueSession]] = relationship(
        order_by="QueueSession.weekday", cascade="all, delete-orphan"
    )


class QueueSession(UUIDPrimaryKey, Base):
    """A poli's weekly session: one per weekday, with its quotas and minutes per patient."""

    __tablename__ = "health_queue_sessions"
    __audit__ = AuditPolicy()
    __table_args__ = (
        sa.UniqueConstraint("service_id", "weekday"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_end"),
        sa.CheckConstraint("online_quota >= 0 AND walk_in_quota >= 0", name="quotas_positive"),
        sa.CheckConstraint("minutes_per_patient > 0", name="minutes_positive"),
    )

    service_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_services.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    starts_at: Mapped[time] = mapped_column(sa.Time)
    ends_at: Mapped[time] = mapped_column(sa.Time)
    online_quota: Mapped[int]
    walk_in_quota: Mapped[int]
    minutes_per_patient: Mapped[int]


class BedAvailability(Base):
    """Free beds of one class in a hospital, as its staff last reported."""

    __tablename__ = "health_beds"
    __table_args__ = (
        sa.CheckConstraint("available >= 0 AND available <= total", name="available_in_range"),
    )

    facility_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_facilities.id", ondelete="CASCADE"), primary_key=True
    )
    bed_class: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    total: Mapped[int]
    available: Mapped[int]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class FacilityStaff(Base):
    """Ties an officer's account to the one facility whose queues they run (set by admins)."""

    __tablename__ = "health_facility_staff"
    __audit__ = AuditPolicy()

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    facility_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_facilities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]


class QueueDay(UUIDPrimaryKey, Timestamps, Base):
    """One session on one date: the counter row that hands out queue numbers (locked per
    booking and per call), and what has been measured of the day so far."""

    __tablename__ = "health_queue_days"
    __audit__ = AuditPolicy(
        # Counters moved by every booking and call; the day's status is the event.
        ignore=(
            "last_number",
            "online_booked",
            "walk_ins",
            "now_calling",
            "served_count",
            "service_seconds",
        )
    )
    __table_args__ = (
        sa.UniqueConstraint("session_id", "day"),
        sa.CheckConstraint("status IN ('open', 'cancelled')", name="status_known"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_queue_sessions.id", ondelete="CASCADE")
    )
    service_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_services.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_facilities.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(12), default="open")
    last_number: Mapped[int] = mapped_column(default=0)
    online_booked: Mapped[int] = mapped_column(default=0)
    walk_ins: Mapped[int] = mapped_column(default=0)
    now_calling: Mapped[int | None]
    served_count: Mapped[int] = mapped_column(default=0)
    service_seconds: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))


class QueueBooking(UUIDPrimaryKey, Timestamps, Base):
    """A place in a poli's queue on one day: booked online by a resident, or a walk-in."""

    __tablename__ = "health_queue_bookings"
    __audit__ = AuditPolicy(
        personal=("patient_name", "patient_nik"), ignore=("three_ahead_notified",)
    )
    __table_args__ = (
        sa.UniqueConstraint("queue_day_id", "queue_number"),
        sa.Index(
            "uq_health_queue_bookings_active_person",
            "queue_day_id",
            "patient_nik",
            unique=True,
            sqlite_where=sa.text(_ACTIVE_SQL),
            postgresql_where=sa.text(_ACTIVE_SQL),
        ),
        sa.Index("ix_health_queue_bookings_queue", "queue_day_id", "status", "queue_number"),
    )

    queue_day_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_queue_days.id", ondelete="CASCADE")
    )
    facility_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_facilities.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("health_services.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(sa.Date, index=True)
    queue_number: Mapped[int]
    booking_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    source: Mapped[str] = mapped_column(sa.String(10))  # online | walk_in
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    patient_name: Mapped[str] = mapped_column(sa.String(120))
    patient_nik: Mapped[str | None] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(24), default="booked")
    checked_in_at: Mapped[datetime | None]
    called_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    three_ahead_notified: Mapped[bool] = mapped_column(default=False)

    facility: Mapped[Facility] = relationship(lazy="joined")
    service: Mapped[HealthService] = relationship(lazy="joined")
    queue_day: Mapped[QueueDay] = relationship(lazy="joined")
