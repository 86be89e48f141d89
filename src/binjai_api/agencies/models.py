"""City agencies (OPD, Organisasi Perangkat Daerah)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey


class Agency(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "agencies"
    __audit__ = AuditPolicy()

    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The official who signs the permits this agency issues, printed on each permit (kept by
    # admins; a permit shows whoever holds the post when it is downloaded).
    official_name: Mapped[str | None] = mapped_column(sa.String(120))
    official_nip: Mapped[str | None] = mapped_column(sa.String(18))
    official_position: Mapped[str | None] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
