"""Shapes of kecamatan and kelurahan."""

from __future__ import annotations

import marshmallow as ma


class KelurahanSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "12.75.01.1001"})
    name = ma.fields.String(metadata={"example": "Pahlawan"})


class KecamatanSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "12.75.01"})
    name = ma.fields.String(metadata={"example": "Binjai Utara"})
    kelurahan = ma.fields.List(ma.fields.Nested(KelurahanSchema))
