"""Kecamatan and kelurahan of Kota Binjai (Kemendagri codes 12.75.KK.1NNN)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app, g, has_request_context

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


def kecamatan_code_of(kelurahan_code: str) -> str | None:
    """The kecamatan of a kelurahan, or None for an unknown code. Kota Binjai's regions are
    reference data (seeded, never changed through the API), so a known code is remembered by
    the app for the life of the process: a report names its kelurahan without a lookup."""
    known: dict[str, str] = current_app.extensions.setdefault("binjai_kecamatan_of", {})
    kecamatan_code = known.get(kelurahan_code)
    if kecamatan_code is None:
        kelurahan = db.session.get(Kelurahan, kelurahan_code)
        if kelurahan is None:
            return None
        kecamatan_code = known[kelurahan_code] = kelurahan.kecamatan_code
    return kecamatan_code
