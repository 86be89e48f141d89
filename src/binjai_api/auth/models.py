"""Accounts, login sessions (refresh-token families) and integrators' API clients."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.agencies.models import Agency
from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey, utcnow


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __audit__ = AuditPolicy(
        personal=("full_name", "nik", "phone", "email", "kelurahan_code"),
        secret=("password_hash",),
    )
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('citizen', 'officer', 'operator', 'admin')", name="role_known"
        ),
        sa.CheckConstraint("role <> 'officer' OR agency_id IS NOT NULL", name="officer_has_agency"),
        sa.CheckConstraint("nik IS NOT NULL OR role <> 'citizen'", name="citizen_has_nik"),
    )

    full_name: Mapped[str] = mapped_column(sa.String(120))
    nik: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="citizen", index=True)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    kelurahan_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("kelurahan.code", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(5), default="id")
    is_active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]

    agency: Mapped[Agency | None] = relationship(lazy="joined")


class AuthSession(UUIDPrimaryKey, Base):
    """One login: the family of refresh tokens that descend from it.

    Only `refresh_jti` is current. Presenting an older token of the family means it leaked,
    so the whole family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    refresh_jti: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(40))
    # The last rotation, kept so that the token it spent, presented again within
    # REFRESH_REUSE_GRACE_SECONDS, gets the very same successor pair back (an app resuming with
    # two refreshes in flight) instead of ending the session. The pair is sealed with a key
    # derived from the spent token itself, so the database alone cannot open it.
    previous_refresh_jti: Mapped[str | None] = mapped_column(sa.String(64))
    rotated_at: Mapped[datetime | None]
    successor_sealed: Mapped[str | None] = mapped_column(sa.Text)


class ApiClient(UUIDPrimaryKey, Timestamps, Base):
    """A third-party system (another government service) using client credentials."""

    __tablename__ = "api_clients"
    __audit__ = AuditPolicy(secret=("secret_hash",), ignore=("last_used_at",))

    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    secret_hash: Mapped[str] = mapped_column(sa.String(255))
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None]
