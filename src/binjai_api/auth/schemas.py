"""Request and response shapes of accounts, tokens and API clients."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.auth.enums import STAFF_ROLES, ApiScope, Language, Role
from binjai_api.auth.validation import PHONE_DESCRIPTION, PHONE_PATTERN
from binjai_api.fastdump import FastDump
from binjai_api.pagination import sort_field
from binjai_api.privacy import mask_tail
from binjai_api.schemas import (
    NIK_DESCRIPTION,
    NIK_PATTERN,
    StrictSchema,
    UpdatedAfterQueryArgsSchema,
    UTCDateTime,
    enum_field,
)

# An empty string clears a staff member's phone.
OPTIONAL_PHONE_PATTERN = f"^$|{PHONE_PATTERN}"


class RegisterSchema(StrictSchema):
    full_name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))
    nik = ma.fields.String(
        required=True,
        metadata={
            "description": NIK_DESCRIPTION,
            "pattern": NIK_PATTERN,
            "example": "1275014501900003",
        },
    )
    phone = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=20),
        metadata={
            "description": PHONE_DESCRIPTION,
            "pattern": PHONE_PATTERN,
            "example": "081234567890",
        },
    )
    email = ma.fields.Email(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=254)
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(max=128),
        metadata={"example": "Binjai-Sehat-2026"},
    )


REGISTER_EXAMPLE = {
    "full_name": "Siti Aminah",
    "nik": "1275014501900003",
    "phone": "081234567890",
    "email": "siti@example.com",
    "password": "Binjai-Sehat-2026",
}


class AgencyRefSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()


class AccountSchema(FastDump):
    """An account as its owner sees it: the NIK is masked even here, the phone is not. `GET /me`
    writes it in this form itself (`service.account_json`)."""

    id = ma.fields.UUID(dump_only=True)
    full_name = ma.fields.String()
    nik = ma.fields.Function(
        lambda user: mask_tail(user.nik),
        metadata={"type": "string", "nullable": True, "example": "************0003"},
    )
    phone = ma.fields.String(allow_none=True, metadata={"example": "+6281234567890"})
    email = ma.fields.String(allow_none=True)
    role = enum_field(Role)
    agency = ma.fields.Nested(AgencyRefSchema, allow_none=True)
    kelurahan_code = ma.fields.String(allow_none=True)
    language = enum_field(Language)
    is_active = ma.fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class StaffAccountSchema(AccountSchema):
    """An account as an admin sees it: personal data masked."""

    phone = ma.fields.Function(  # type: ignore[assignment]
        lambda user: mask_tail(user.phone),
        metadata={"type": "string", "nullable": True, "example": "**********7890"},
    )
    deactivated_at = UTCDateTime(allow_none=True)


class MePatchSchema(StrictSchema):
    full_name = ma.fields.String(validate=ma.validate.Length(min=2, max=120))
    phone = ma.fields.String(
        validate=ma.validate.Length(max=20),
        metadata={
            "description": PHONE_DESCRIPTION
            + " Staff may clear theirs with an empty string. Needs a fresh login (401 otherwise).",
            "pattern": OPTIONAL_PHONE_PATTERN,
        },
    )
    email = ma.fields.Email(
        allow_none=True,
        validate=ma.validate.Length(max=254),
        metadata={"description": "Needs a fresh login (401 otherwise)"},
    )
    language = enum_field(Language)
    kelurahan_code = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=13), metadata={"example": "12.75.01.1001"}
    )


class PasswordChangeSchema(StrictSchema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=128)
    )
    new_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=128)
    )


class LoginSchema(StrictSchema):
    username = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=254),
        metadata={"description": "Phone, email or NIK", "example": "081234567890"},
    )
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=128))


class RefreshSchema(StrictSchema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(max=4096))


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "Seconds", "example": 900})


class ClientCredentialsSchema(StrictSchema):
    """OAuth 2.0 client credentials (RFC 6749 §4.4), form-encoded; the client may instead
    authenticate with HTTP Basic."""

    grant_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["client_credentials"]))
    client_id = ma.fields.String(validate=ma.validate.Length(max=64))
    client_secret = ma.fields.String(load_only=True, validate=ma.validate.Length(max=256))
    scope = ma.fields.String(
        validate=ma.validate.Length(max=500), metadata={"description": "Space-separated scopes"}
    )


class ClientTokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(metadata={"example": 900})
    scope = ma.fields.String(metadata={"example": "complaints:read"})


class StaffCreateSchema(StrictSchema):
    full_name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    phone = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=20),
        metadata={"description": PHONE_DESCRIPTION, "pattern": OPTIONAL_PHONE_PATTERN},
    )
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=128))
    role = enum_field(tuple(role.value for role in STAFF_ROLES), required=True)
    agency_id = ma.fields.UUID(load_default=None, allow_none=True)


class AccountRolePatchSchema(StrictSchema):
    role = enum_field(tuple(role.value for role in STAFF_ROLES), required=True)
    agency_id = ma.fields.UUID(load_default=None, allow_none=True)


class AccountQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    role = enum_field(Role)
    agency_id = ma.fields.UUID()
    is_active = ma.fields.Boolean()
    sort = sort_field("created_at", "full_name", "updated_at", default="created_at")


class ApiClientCreateSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))
    scopes = ma.fields.List(
        enum_field(ApiScope),
        required=True,
        validate=ma.validate.Length(min=1),
    )


class ApiClientSchema(ma.Schema):
    id = ma.fields.UUID()
    client_id = ma.fields.String()
    name = ma.fields.String()
    scopes = ma.fields.List(ma.fields.String())
    is_active = ma.fields.Boolean()
    created_at = UTCDateTime()
    last_used_at = UTCDateTime(allow_none=True)


class ApiClientCreatedSchema(ApiClientSchema):
    client_secret = ma.fields.String(metadata={"description": "Shown once; store it safely."})
