"""Open311 GeoReport v2 shapes (http://wiki.open311.org/GeoReport_v2), for parsing and the docs.

Field names are the specification's, not ours (`long`, `service_code`, `attribute[code]`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import marshmallow as ma

from binjai_api.i18n import lazy_gettext
from binjai_api.open311.service import MAX_REQUESTS

_SPEC = "See the GeoReport v2 specification."
MAX_PAGE = 1000
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_OR_DATETIME = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$"


class DateOrDateTime(ma.fields.Field):
    """A w3 datetime with its zone, as GeoReport v2 has it (`2026-11-01T00:00:00Z`), or a
    calendar date (`2026-11-01`), which many clients send: a date is a whole day in Binjai (WIB)."""

    default_error_messages = {
        "invalid": lazy_gettext(
            "Not a date (YYYY-MM-DD) or a date and time with its zone (2026-11-01T08:00:00Z)."
        )
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            if _DATE_ONLY.fullmatch(value):
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise self.make_error("invalid") from error
        if moment.tzinfo is None:  # the specification: the zone must be included
            raise self.make_error("invalid")
        return moment


class Open311ArgsSchema(ma.Schema):
    """GeoReport v2, "Optional Arguments": a parameter sent empty is the same as one not sent."""

    @ma.pre_load
    def _empty_is_absent(self, data: Any, **_kwargs: Any) -> Any:
        return {key: value for key, value in data.items() if value != ""}


class JurisdictionQueryArgsSchema(Open311ArgsSchema):
    jurisdiction_id = ma.fields.String(
        metadata={
            "description": "Optional: this endpoint serves one jurisdiction, `binjaikota.go.id`.",
            "example": "binjaikota.go.id",
        }
    )


class RequestsQueryArgsSchema(JurisdictionQueryArgsSchema):
    service_request_id = ma.fields.String(
        validate=ma.validate.Length(max=2100),
        metadata={
            "description": "Comma-separated ids; when given, the other filters are ignored.",
            "example": "BJI-2026-000123,BJI-2026-000124",
        },
    )
    service_code = ma.fields.String(
        validate=ma.validate.Length(max=1000),
        metadata={"description": "Comma-separated service codes.", "example": "road_damage"},
    )
    start_date = DateOrDateTime(
        metadata={
            "type": "string",
            "pattern": _DATE_OR_DATETIME,
            "description": "Requests made on or after this instant: a datetime with its zone "
            "(`2026-11-01T00:00:00Z`) or a date (`2026-11-01`, from 00:00 WIB). Without dates: "
            "the last 90 days.",
            "example": "2026-11-01T00:00:00Z",
        }
    )
    end_date = DateOrDateTime(
        metadata={
            "type": "string",
            "pattern": _DATE_OR_DATETIME,
            "description": "Requests made on or before this instant: a datetime with its zone or "
            "a date (`2026-11-30`, to the end of that day in WIB); at most 90 days after "
            "`start_date`.",
            "example": "2026-11-30",
        }
    )
    status = ma.fields.String(
        validate=ma.validate.Regexp(r"^(open|closed)(,(open|closed))?$"),
        metadata={"description": "`open`, `closed` or both, comma-separated.", "example": "open"},
    )
    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=MAX_PAGE),
        metadata={
            "description": "An extension of GeoReport v2: the page of the matching requests, "
            f"{MAX_REQUESTS} per page by default. `X-Pagination` gives the total; "
            '`Link: <...>; rel="next"` the next page.'
        },
    )
    page_size = ma.fields.Integer(
        load_default=MAX_REQUESTS,
        validate=ma.validate.Range(min=1, max=MAX_REQUESTS),
        metadata={"description": f"Requests per page (1-{MAX_REQUESTS}, default {MAX_REQUESTS})."},
    )


class ServiceRequestFormSchema(Open311ArgsSchema):
    """POST requests: form-encoded, as the specification requires."""

    class Meta:
        unknown = ma.EXCLUDE  # integrators' extra fields are ignored, as Open311 servers do

    api_key = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=300),
        metadata={
            "description": "`<client_id>:<client_secret>` of an API client an admin "
            "issued with the `complaints:write` scope."
        },
    )
    jurisdiction_id = ma.fields.String(validate=ma.validate.Length(max=100))
    service_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    lat = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(-90, 90))
    long = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(-180, 180))
    address_string = ma.fields.String(validate=ma.validate.Length(max=300))
    address_id = ma.fields.String(validate=ma.validate.Length(max=100))
    email = ma.fields.Email(validate=ma.validate.Length(max=254))
    device_id = ma.fields.String(validate=ma.validate.Length(max=200))
    account_id = ma.fields.String(validate=ma.validate.Length(max=200))
    first_name = ma.fields.String(validate=ma.validate.Length(max=60))
    last_name = ma.fields.String(validate=ma.validate.Length(max=60))
    phone = ma.fields.String(validate=ma.validate.Length(max=20))
    description = ma.fields.String(
        validate=ma.validate.Length(max=4000),
        metadata={
            "description": "Optional, as in GeoReport v2 (empty is the same as absent): the "
            "report then reads as its title, `attribute[title]` or the service's name."
        },
    )
    media_url = ma.fields.Url(validate=ma.validate.Length(max=500))
    attribute_type = ma.fields.String(
        data_key="attribute[type]",
        metadata={"description": "`complaint` (default), `aspiration` or `information_request`"},
    )
    attribute_privacy = ma.fields.String(
        data_key="attribute[privacy]",
        metadata={"description": "`public` (default), `anonymous` or `confidential`"},
    )
    attribute_title = ma.fields.String(
        data_key="attribute[title]",
        metadata={"description": "A short title (default: the start of the description)"},
    )
    attribute_kelurahan_code = ma.fields.String(
        data_key="attribute[kelurahan_code]",
        metadata={"description": "Kemendagri kelurahan code (default: derived from lat/long)"},
    )


SERVICE_REQUEST_EXAMPLE = {
    "api_key": "bjc_0123456789abcdef01234567:s3cr3t-issued-by-the-admin",
    "service_code": "road_damage",
    "lat": 3.6001,
    "long": 98.4854,
    "address_string": "Jl. Sudirman depan Lapangan Merdeka, Binjai",
    "description": "Lubang besar di badan jalan, membahayakan pengendara motor.",
    "first_name": "Budi",
    "last_name": "Santoso",
    "email": "budi@example.id",
    "attribute[type]": "complaint",
    "attribute[privacy]": "public",
}


class EndpointSchema(ma.Schema):
    specification = ma.fields.String(metadata={"example": "http://wiki.open311.org/GeoReport_v2"})
    url = ma.fields.String(metadata={"example": "https://api.binjaikota.go.id/open311/v2"})
    changeset = ma.fields.String(metadata={"example": "2026-11-27T00:00:00Z"})
    type = ma.fields.String(metadata={"example": "production"})
    formats = ma.fields.List(
        ma.fields.String(), metadata={"example": ["text/xml", "application/json"]}
    )


class DiscoverySchema(ma.Schema):
    changeset = ma.fields.String(metadata={"example": "2026-11-27T00:00:00Z"})
    contact = ma.fields.String()
    key_service = ma.fields.String()
    endpoints = ma.fields.List(ma.fields.Nested(EndpointSchema))


class ServiceSchema(ma.Schema):
    service_code = ma.fields.String(metadata={"example": "road_damage"})
    service_name = ma.fields.String(metadata={"example": "Jalan rusak"})
    description = ma.fields.String(allow_none=True)
    metadata = ma.fields.Boolean(metadata={"description": "Whether the service has attributes"})
    type = ma.fields.String(metadata={"example": "realtime"})
    keywords = ma.fields.String(allow_none=True)
    group = ma.fields.String(metadata={"example": "Dinas PUPR"})


class AttributeValueSchema(ma.Schema):
    key = ma.fields.String(metadata={"example": "complaint"})
    name = ma.fields.String(metadata={"example": "Pengaduan"})


class AttributeSchema(ma.Schema):
    variable = ma.fields.Boolean()
    code = ma.fields.String(metadata={"example": "type"})
    datatype = ma.fields.String(metadata={"example": "singlevaluelist"})
    required = ma.fields.Boolean()
    datatype_description = ma.fields.String(allow_none=True)
    order = ma.fields.Integer()
    description = ma.fields.String()
    values = ma.fields.List(ma.fields.Nested(AttributeValueSchema))


class ServiceDefinitionSchema(ma.Schema):
    service_code = ma.fields.String(metadata={"example": "road_damage"})
    attributes = ma.fields.List(ma.fields.Nested(AttributeSchema))


class ServiceRequestSchema(ma.Schema):
    service_request_id = ma.fields.String(metadata={"example": "BJI-2026-000123"})
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "closed"]))
    status_notes = ma.fields.String(allow_none=True)
    service_name = ma.fields.String(metadata={"example": "Jalan rusak"})
    service_code = ma.fields.String(metadata={"example": "road_damage"})
    description = ma.fields.String()
    agency_responsible = ma.fields.String(
        metadata={"example": "Dinas Pekerjaan Umum dan Penataan Ruang"}
    )
    service_notice = ma.fields.String(allow_none=True)
    requested_datetime = ma.fields.String(metadata={"example": "2026-11-27T03:15:00Z"})
    updated_datetime = ma.fields.String(metadata={"example": "2026-11-27T05:00:00Z"})
    expected_datetime = ma.fields.String(
        allow_none=True, metadata={"example": "2026-12-02T16:59:59Z"}
    )
    address = ma.fields.String(allow_none=True)
    address_id = ma.fields.String(allow_none=True)
    zipcode = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(allow_none=True, metadata={"example": 3.6001})
    long = ma.fields.Float(allow_none=True, metadata={"example": 98.4854})
    media_url = ma.fields.String(allow_none=True)


class ServiceRequestCreatedSchema(ma.Schema):
    service_request_id = ma.fields.String(metadata={"example": "BJI-2026-000123"})
    token = ma.fields.String(metadata={"example": "8b0d7c4e-6a53-4c9e-9a55-2f1f0e3b6f11"})
    service_notice = ma.fields.String(allow_none=True)
    account_id = ma.fields.String(allow_none=True)


class TokenSchema(ma.Schema):
    service_request_id = ma.fields.String(metadata={"example": "BJI-2026-000123"})
    token = ma.fields.String(metadata={"example": "8b0d7c4e-6a53-4c9e-9a55-2f1f0e3b6f11"})


class Open311ErrorSchema(ma.Schema):
    code = ma.fields.Integer(metadata={"example": 404})
    description = ma.fields.String(metadata={"example": "service_request_id not found"})
