"""Shapes of the audit trail's list."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.audit.pseudonyms import ACTOR_TYPE as PSEUDONYM_ACTOR
from binjai_api.audit.service import ACCESS_ACTION, REVEAL_ACTION
from binjai_api.i18n import gettext
from binjai_api.pagination import sort_field
from binjai_api.schemas import UTCDateTime, enum_field

AUDIT_ACTIONS = ("create", "update", "delete", ACCESS_ACTION, REVEAL_ACTION)
ACTOR_TYPES = ("user", "api_client", "anonymous", PSEUDONYM_ACTOR, "system")
CSV_COLUMNS = (
    "seq",
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)
EXAMPLE_HASH = "9f2c6d0e4b1a7c3e5f8d2b6a0c4e7f1a3b5d9c2e6f0a4b8d1c5e9f3a7b2d6c0e"


class AuditRecordSchema(ma.Schema):
    """One record of the trail: who did what to which object, when, with the values before and
    after (personal values shown as "[personal data]", secrets as "[secret]")."""

    seq = ma.fields.Integer(
        metadata={"description": "Position in the hash chain, from 1 without gaps", "example": 1042}
    )
    id = ma.fields.UUID(metadata={"example": "0b6f4e2a-3c1d-4f5e-9a8b-7c6d5e4f3a2b"})
    occurred_at = UTCDateTime(metadata={"example": "2026-11-27T03:15:42.120000Z"})
    actor_type = enum_field(ACTOR_TYPES, metadata={"example": "user"})
    actor_id = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The account or API client id; a system actor's command name; "
            "for `pseudonym`, an anonymous reporter acting on their own report, a keyed hash "
            "that does not lead back to the account",
            "example": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        },
    )
    actor_role = ma.fields.String(allow_none=True, metadata={"example": "admin"})
    action = enum_field(AUDIT_ACTIONS, metadata={"example": "update"})
    object_type = ma.fields.String(
        metadata={"description": "The table of the object", "example": "users"}
    )
    object_id = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The object's id; none when one access record covers a list",
            "example": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        },
    )
    request_id = ma.fields.String(
        allow_none=True, metadata={"example": "4bf92f3577b34da6a3ce929d0e0e4736"}
    )
    before = ma.fields.Dict(
        allow_none=True, metadata={"example": {"role": "officer", "full_name": "[personal data]"}}
    )
    after = ma.fields.Dict(
        allow_none=True, metadata={"example": {"role": "operator", "full_name": "[personal data]"}}
    )
    prev_hash = ma.fields.String(allow_none=True, metadata={"example": EXAMPLE_HASH})
    hash = ma.fields.String(
        metadata={
            "description": "SHA-256 of the record's canonical JSON, its seq and prev_hash included",
            "example": EXAMPLE_HASH,
        }
    )


class AuditQueryArgsSchema(ma.Schema):
    actor_id = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"example": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
    )
    object_type = ma.fields.String(
        validate=ma.validate.Length(max=60), metadata={"example": "complaints"}
    )
    object_id = ma.fields.String(validate=ma.validate.Length(max=64))
    action = enum_field(AUDIT_ACTIONS)
    occurred_from = UTCDateTime(
        data_key="from",
        metadata={"description": "Only records at or after this instant (RFC 3339)"},
    )
    occurred_to = UTCDateTime(
        data_key="to", metadata={"description": "Only records at or before this instant (RFC 3339)"}
    )
    sort = sort_field("seq", default="-seq")

    @ma.validates_schema
    def _period_in_order(self, data: dict[str, object], **_kwargs: object) -> None:
        start, end = data.get("occurred_from"), data.get("occurred_to")
        if start is not None and end is not None and start > end:  # type: ignore[operator]
            raise ma.ValidationError(gettext("The period must not end before it starts."), "from")
