"""Kecamatan and kelurahan of Kota Binjai, keyed by their Kemendagri codes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binjai_api.db import Base


class Kecamatan(Base):
    __tablename__ = "kecamatan"

    code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)  # e.g. 12.75.01
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)

    kelurahan: Mapped[list[Kelurahan]] = relationship(
        back_populates="kecamatan", order_by="Kelurahan.code", lazy="selectin"
    )


class Kelurahan(Base):
    __tablename__ = "kelurahan"

    code: Mapped[str] = mapped_column(sa.String(13), primary_key=True)  # e.g. 12.75.01.1001
    name: Mapped[str] = mapped_column(sa.String(80))
    kecamatan_code: Mapped[str] = mapped_column(
        sa.ForeignKey("kecamatan.code", ondelete="RESTRICT"), index=True
    )

    kecamatan: Mapped[Kecamatan] = relationship(back_populates="kelurahan")
