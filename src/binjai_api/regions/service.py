"""Kecamatan and kelurahan of Kota Binjai (Kemendagri codes 12.75.KK.1NNN)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from binjai_api.extensions import db
from binjai_api.regions.models import Kecamatan, Kelurahan


def list_kecamatan() -> Sequence[Kecamatan]:
    return db.session.scalars(sa.select(Kecamatan).order_by(Kecamatan.code)).all()


def find_kecamatan(code: str) -> Kecamatan | None:
    return db.session.get(Kecamatan, code)


def find_kelurahan(code: str) -> Kelurahan | None:
    return db.session.get(Kelurahan, code)
