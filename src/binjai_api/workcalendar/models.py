"""Local days off the city declares on top of the national holidays."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.audit.policy import AuditPolicy
from binjai_api.db import Base, Timestamps, UUIDPrimaryKey


class DayOff(UUIDPrimaryKey, Timestamps, Base):
    """A local day off (a city holiday, a cuti bersama the package does not know yet)."""

    __tablename__ = "days_off"
    __audit__ = AuditPolicy()

    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
