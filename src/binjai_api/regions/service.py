"""Kecamatan and kelurahan of Kota Binjai (Kemendagri codes 12.75.KK.1NNN)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import g, has_request_context

from binjai_api.extensions import db
from binjai_api.regions.models import Kecamatan, Kelurahan


def list_kecamatan() -> Sequence[Kecamatan]:
    return db.session.scalars(sa.select(Kecamatan).order_by(Kecamatan.code)).all()


def find_kecamatan(code: str) -> Kecamatan | None:
    return db.session.get(Kecamatan, code)


def find_kelurahan(code: str) -> Kelurahan | None:
    """A kelurahan by code, or None. Found once per request: the request holds it, so a second
    lookup (a form checked, then stored) is answered from the session instead of the database,
    which keeps only weak references."""
    kelurahan = db.session.get(Kelurahan, code)
    if kelurahan is not None and has_request_context():
        g.setdefault("binjai_kelurahan_seen", []).append(kelurahan)
    return kelurahan
