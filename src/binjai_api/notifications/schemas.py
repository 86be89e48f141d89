"""Request and response shapes of devices, the inbox, preferences, broadcasts and deliveries."""

from __future__ import annotations

import marshmallow as ma

from binjai_api.auth.enums import Language
from binjai_api.fastdump import FastDump
from binjai_api.i18n import negotiated_language
from binjai_api.notifications import kinds
from binjai_api.notifications.models import MAX_TOKEN_LENGTH, Notification
from binjai_api.notifications.service import deep_link, delivery_counts, render_texts
from binjai_api.pagination import sort_field
from binjai_api.schemas import (
    ComputedNested,
    StrictSchema,
    UpdatedAfterQueryArgsSchema,
    UTCDateTime,
    enum_field,
)

PLATFORMS = ("android", "ios", "web")
DELIVERY_STATUSES = ("pending", "sent", "failed", "dropped")
AUDIENCES = ("all", "kecamatan", "topic")
EXAMPLE_TOKEN = "fKx9c2VhQ0mO1y3bT7uZ:APA91bH8kq0Jx4Zt2c5Lw9e_Rn1uVYb3pD6mQ0sA8fG"


class DeviceRegisterSchema(StrictSchema):
    token = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=20, max=MAX_TOKEN_LENGTH), ma.validate.Regexp(r"^\S+$")],
        metadata={"description": "The FCM registration token of the app on this device."},
    )
    platform = enum_field(PLATFORMS, required=True)
    app_version = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=40)
    )
    language = enum_field(
        Language,
        load_default=None,
        allow_none=True,
        metadata={"description": "Language of this device's pushes; else the account's."},
    )


DEVICE_EXAMPLE = {
    "token": EXAMPLE_TOKEN,
    "platform": "android",
    "app_version": "1.4.0",
    "language": "id",
}


class DeviceSchema(ma.Schema):
    id = ma.fields.UUID()
    token = ma.fields.String()
    platform = enum_field(PLATFORMS)
    app_version = ma.fields.String(allow_none=True)
    language = enum_field(Language, allow_none=True)
    created_at = UTCDateTime()
    refreshed_at = UTCDateTime()


class LinkSchema(ma.Schema):
    resource_type = ma.fields.String(allow_none=True, metadata={"example": "complaints"})
    resource_id = ma.fields.String(allow_none=True)
    url = ma.fields.String(
        metadata={
            "description": "Deep link the app opens: binjai://<resource_type>/<id>.",
            "example": "binjai://complaints/5f0c3c1e-8d1a-4a53-9a7e-0f3f6f0e2b11",
        }
    )


def _texts(notification: Notification) -> tuple[str, str]:
    """The entry's title and body in the negotiated language, rendered once for both fields:
    kept on the loaded entry (the session, and so the object, lives for one request)."""
    language = negotiated_language()
    kept = notification.__dict__.get("_rendered_texts")
    if kept is None or kept[0] != language:
        kept = (language, render_texts(notification, language))
        notification.__dict__["_rendered_texts"] = kept
    return kept[1]


class NotificationSchema(FastDump):
    """An inbox entry, its texts in the language of the request (Accept-Language). The inbox's
    page is written by `service.inbox_entries` in this form (tests hold the two equal)."""

    id = ma.fields.UUID()
    kind = enum_field(tuple(kinds.KINDS))
    title = ma.fields.Function(lambda n: _texts(n)[0], metadata={"type": "string"})
    body = ma.fields.Function(lambda n: _texts(n)[1], metadata={"type": "string"})
    link = ComputedNested(
        LinkSchema,
        compute=lambda n: {
            "resource_type": n.resource_type,
            "resource_id": n.resource_id,
            "url": deep_link(n),
        },
    )
    read = ma.fields.Function(lambda n: n.read_at is not None, metadata={"type": "boolean"})
    read_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class InboxQueryArgsSchema(UpdatedAfterQueryArgsSchema):
    unread = ma.fields.Boolean(
        metadata={"description": "true: only unread entries; false: only read ones."}
    )
    sort = sort_field("created_at", "updated_at", default="-created_at")


class ReadAllResultSchema(ma.Schema):
    marked_read = ma.fields.Integer(metadata={"description": "Entries that were unread."})
    unread_count = ma.fields.Integer()


class PreferencesSchema(StrictSchema):
    muted_kinds = ma.fields.List(
        enum_field(tuple(kinds.KINDS)),
        required=True,
        metadata={
            "description": "Kinds not pushed (still kept in the inbox). Only optional "
            f"kinds may be muted: {', '.join(kinds.OPTIONAL_KINDS)}."
        },
    )
    topics = ma.fields.List(
        enum_field(kinds.Topic),
        required=True,
        metadata={"description": "City announcement topics followed."},
    )


PREFERENCES_EXAMPLE = {"muted_kinds": ["announcement"], "topics": ["kesehatan", "lalu_lintas"]}


class BroadcastCreateSchema(StrictSchema):
    title_id = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=120))
    body_id = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=1000))
    title_en = ma.fields.String(load_default=None, validate=ma.validate.Length(min=3, max=120))
    body_en = ma.fields.String(load_default=None, validate=ma.validate.Length(min=3, max=1000))
    audience = enum_field(
        AUDIENCES,
        required=True,
        metadata={
            "description": "all: every account; kecamatan: residents of one kecamatan; "
            "topic: those who follow a topic."
        },
    )
    kecamatan_code = ma.fields.String(
        load_default=None, metadata={"description": "For audience kecamatan, e.g. 12.75.01."}
    )
    topic = enum_field(kinds.Topic, load_default=None)


BROADCAST_EXAMPLE = {
    "title_id": "Fogging DBD di Binjai Kota",
    "body_id": "Pengasapan nyamuk demam berdarah Sabtu pagi pukul 07.00 WIB. Tutup makanan dan "
    "minuman.",
    "title_en": "Dengue fogging in Binjai Kota",
    "body_en": "Mosquito fogging on Saturday at 07:00 WIB. Cover food and drinks.",
    "audience": "kecamatan",
    "kecamatan_code": "12.75.01",
}


class DeliveryCountsSchema(ma.Schema):
    pending = ma.fields.Integer()
    sent = ma.fields.Integer()
    failed = ma.fields.Integer()
    dropped = ma.fields.Integer()


class BroadcastSchema(ma.Schema):
    id = ma.fields.UUID()
    title_id = ma.fields.String()
    body_id = ma.fields.String()
    title_en = ma.fields.String(allow_none=True)
    body_en = ma.fields.String(allow_none=True)
    audience = enum_field(AUDIENCES)
    kecamatan_code = ma.fields.String(allow_none=True)
    topic = enum_field(kinds.Topic, allow_none=True)
    status = enum_field(
        ("queued", "recorded"),
        metadata={
            "description": "queued: being written to inboxes; recorded: every inbox has "
            "it (pushes may still be on their way, see deliveries)."
        },
    )
    recipients_count = ma.fields.Integer()
    deliveries_count = ma.fields.Integer()
    created_by_id = ma.fields.UUID(allow_none=True)
    created_at = UTCDateTime()
    recorded_at = UTCDateTime(allow_none=True)


class BroadcastProgressSchema(BroadcastSchema):
    """One broadcast with its pushes counted by status (item views only: one count query)."""

    deliveries = ComputedNested(
        DeliveryCountsSchema,
        compute=lambda b: delivery_counts(b.id),
        metadata={"description": "Pushes by status."},
    )


class BroadcastQueryArgsSchema(ma.Schema):
    sort = sort_field("created_at", default="-created_at")


class DeliverySchema(ma.Schema):
    id = ma.fields.UUID()
    notification_id = ma.fields.UUID()
    kind = ma.fields.Function(lambda d: d.notification.kind, metadata={"type": "string"})
    device_id = ma.fields.UUID(allow_none=True)
    platform = ma.fields.Function(
        lambda d: d.device.platform if d.device else None,
        metadata={"type": "string", "nullable": True},
    )
    status = enum_field(DELIVERY_STATUSES)
    attempts = ma.fields.Integer()
    next_attempt_at = UTCDateTime()
    last_error = ma.fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    sent_at = UTCDateTime(allow_none=True)


class DeliveryQueryArgsSchema(ma.Schema):
    status = enum_field(DELIVERY_STATUSES)
    kind = enum_field(tuple(kinds.KINDS))
    sort = sort_field("created_at", "updated_at", default="-updated_at")
