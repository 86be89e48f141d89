"""Webhook endpoints, their secrets and their delivery log."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.schemas import StrictSchema, UTCDateTime, enum_field
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.webhooks.models import MAX_URL_LENGTH

DELIVERY_STATUSES = ("pending", "sent", "failed", "dropped")
EXAMPLE_ID = "3f1d6c2a-7b8e-4f10-9a2b-5c6d7e8f9a01"
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0dmiO5rPuNk="


class WebhookEndpointCreateSchema(StrictSchema):
    url = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=8, max=MAX_URL_LENGTH),
        metadata={
            "description": "Where events are POSTed: https, a public address (checked after "
            "DNS resolution at every delivery). Development also allows http and private "
            "addresses.",
            "example": "https://lapor.example.go.id/hooks/binjai",
        },
    )
    event_types = ma.fields.List(
        enum_field(WebhookEventType),
        required=True,
        validate=ma.validate.Length(min=1, max=len(WebhookEventType)),
        metadata={
            "description": "Each needs its scope: complaint.* complaints:read, "
            "permit_application.* and permit.* permits:verify, queue_session.* "
            "facilities:read, deadline.missed ops:read."
        },
    )
    description = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=200)
    )


class WebhookEndpointSchema(ma.Schema):
    id = ma.fields.UUID()
    url = ma.fields.String(metadata={"example": "https://lapor.example.go.id/hooks/binjai"})
    description = ma.fields.String(allow_none=True)
    event_types = ma.fields.List(enum_field(WebhookEventType))
    is_enabled = ma.fields.Boolean(
        metadata={"description": "False once disabled after failing for days (see disabled_*)."}
    )
    disabled_at = UTCDateTime(allow_none=True)
    disabled_reason = ma.fields.String(
        allow_none=True, metadata={"description": "`failing` when disabled for failures."}
    )
    failing_since = UTCDateTime(
        allow_none=True, metadata={"description": "First failure of the current streak."}
    )
    last_success_at = UTCDateTime(allow_none=True)
    previous_secret_expires_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "Until then the previous secret also signs (after a rotation)."},
    )
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class WebhookEndpointCreatedSchema(WebhookEndpointSchema):
    secret = ma.fields.String(
        metadata={
            "description": "The signing secret (Standard Webhooks `whsec_…`). Shown only in "
            "this answer; verify each request's `webhook-signature` with it.",
            "example": EXAMPLE_SECRET,
        }
    )


class WebhookDeliverySchema(ma.Schema):
    id = ma.fields.UUID()
    message_id = ma.fields.String(
        metadata={"description": "The `webhook-id` header, the same on every attempt."}
    )
    event_type = enum_field(WebhookEventType)
    status = enum_field(DELIVERY_STATUSES)
    attempts = ma.fields.Integer()
    next_attempt_at = UTCDateTime()
    last_attempt_at = UTCDateTime(allow_none=True)
    last_status_code = ma.fields.Integer(allow_none=True, metadata={"example": 503})
    last_error = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Why the last attempt failed (`HTTP 503`, `refused: "
            "private_address`, a connection error) or why it was dropped (`endpoint_disabled`, "
            "`scope_withdrawn`, `client_inactive`).",
        },
    )
    payload = ma.fields.Dict(
        metadata={"description": "The body sent: `type`, `timestamp` and `data`."}
    )
    created_at = UTCDateTime()
    sent_at = UTCDateTime(allow_none=True)


class WebhookDeliveryQueryArgsSchema(ma.Schema):
    status = enum_field(DELIVERY_STATUSES)


ENDPOINT_EXAMPLE = {
    "url": "https://lapor.example.go.id/hooks/binjai",
    "event_types": ["complaint.created", "complaint.status_changed"],
    "description": "SP4N-LAPOR! bridge",
}
CREATED_EXAMPLE = {
    "id": EXAMPLE_ID,
    **ENDPOINT_EXAMPLE,
    "event_types": ["complaint.created", "complaint.status_changed"],
    "is_enabled": True,
    "disabled_at": None,
    "disabled_reason": None,
    "failing_since": None,
    "last_success_at": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-12-04T03:00:00.000000Z",
    "updated_at": "2026-12-04T03:00:00.000000Z",
    "secret": EXAMPLE_SECRET,
}
DELIVERY_EXAMPLE = {
    "id": "9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
    "message_id": "msg_9b2f0c1e6d1a4a368f0e2f4c1b7a5d10",
    "event_type": "complaint.status_changed",
    "status": "pending",
    "attempts": 2,
    "next_attempt_at": "2026-12-04T03:02:10.000000Z",
    "last_attempt_at": "2026-12-04T03:01:05.000000Z",
    "last_status_code": 503,
    "last_error": "HTTP 503",
    "payload": {
        "type": "complaint.status_changed",
        "timestamp": "2026-12-04T03:00:00.123456Z",
        "data": {
            "id": "9b2f0c1e-6d1a-4a36-8f0e-2f4c1b7a5d10",
            "tracking_number": "BJI-2026-000123",
            "status": "in_progress",
            "previous_status": "dispatched",
        },
    },
    "created_at": "2026-12-04T03:00:00.123456Z",
    "sent_at": None,
}
