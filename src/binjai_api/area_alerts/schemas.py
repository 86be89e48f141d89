"""Request and response shapes of area subscriptions."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.area_alerts.models import AREA_TYPES
from binjai_api.area_alerts.service import MAX_CATEGORIES
from binjai_api.schemas import StrictSchema, UTCDateTime, enum_field

AREA_SUBSCRIPTION_EXAMPLE = {
    "area_type": "kelurahan",
    "area_code": "12.75.02.1001",
    "category_codes": ["road_damage", "drainage"],
}


class AreaSubscriptionCreateSchema(StrictSchema):
    area_type = enum_field(AREA_TYPES, required=True)
    area_code = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^12\.75\.\d{2}(\.\d{4})?$"),
        metadata={
            "description": "Kemendagri code: `12.75.KK` for a kecamatan, `12.75.KK.1NNN` for a "
            "kelurahan (GET /api/v1/regions).",
            "example": "12.75.02.1001",
        },
    )
    category_codes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_CATEGORIES),
        metadata={
            "description": "Complaint category codes to hear about; empty or absent: every "
            "category."
        },
    )


class AreaSubscriptionSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    area_type = enum_field(AREA_TYPES)
    area_code = ma.fields.String(metadata={"example": "12.75.02.1001"})
    category_codes = ma.fields.List(ma.fields.String())
    created_at = UTCDateTime()
