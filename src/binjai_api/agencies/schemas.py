"""Request and response shapes of agencies (OPD)."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.i18n import lazy_gettext
from binjai_api.pagination import sort_field
from binjai_api.schemas import StrictSchema, UpdatedAfterQueryArgsSchema, UTCDateTime


class AgencySchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "PUPR"})
    name = ma.fields.String(metadata={"example": "Dinas Pekerjaan Umum dan Penataan Ruang"})
    name_en = ma.fields.String(metadata={"example": "Public Works and Spatial Planning Agency"})
    description = ma.fields.String(allow_none=True)
    official_name = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The official who signs the permits this agency issues (printed on "
            "each permit).",
            "example": "Drs. Ahmad Sitepu, M.Si.",
        },
    )
    official_nip = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The official's NIP (civil servant number).",
            "example": "197003151995031002",
        },
    )
    official_position = ma.fields.String(
        allow_none=True,
        metadata={"example": "Kepala Dinas Penanaman Modal dan PTSP"},
    )
    is_active = ma.fields.Boolean()
    is_demo = ma.fields.Boolean(metadata={"description": "Demo data, not verified facts"})
    updated_at = UTCDateTime()


class AgencyCreateSchema(StrictSchema):
    code = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=2, max=20), ma.validate.Regexp(r"^[A-Za-z0-9_-]+$")],
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))
    description = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=2000)
    )
    official_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=2, max=120))
    official_nip = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^[0-9]{18}$", error=lazy_gettext("A NIP has 18 digits.")),
        metadata={"example": "197003151995031002"},
    )
    official_position = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=2, max=200)
    )


class AgencyPatchSchema(StrictSchema):
    code = ma.fields.String(
        validate=[ma.validate.Length(min=2, max=20), ma.validate.Regexp(r"^[A-Za-z0-9_-]+$")]
    )
    name = ma.fields.String(validate=ma.validate.Length(min=2, max=200))
    name_en = ma.fields.String(validate=ma.validate.Length(min=2, max=200))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
    official_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=2, max=120))
    official_nip = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^[0-9]{18}$", error=lazy_gettext("A NIP has 18 digits.")),
        metadata={"example": "197003151995031002"},
    )
    official_position = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=2, max=200)
    )
    is_active = ma.fields.Boolean()


class AgencyQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    include_inactive = ma.fields.Boolean(load_default=False)
    sort = sort_field("code", "name", "updated_at", default="code")


AGENCY_EXAMPLE = {
    "code": "BAPPEDA",
    "name": "Badan Perencanaan Pembangunan Daerah",
    "name_en": "Regional Development Planning Agency",
    "description": "Perencanaan pembangunan kota",
    "official_name": "Ir. Rahmat Ginting, M.T.",
    "official_nip": "197508122000031004",
    "official_position": "Kepala Badan Perencanaan Pembangunan Daerah",
}
