"""Webhook endpoints of API clients, and `emit()`: the one call by which a domain publishes an
event. `emit()` writes one outbox row per subscribed endpoint in the caller's transaction, so a
rolled-back change publishes nothing and a committed one always does; the outbox worker delivers
them (webhooks/delivery.py), never a request.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.sql.dml import ReturningInsert

from binjai_api import direct_sql
from binjai_api.auth.models import ApiClient
from binjai_api.db import UTCDateTime, utcnow
from binjai_api.errors import field_errors, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.notifications.service import database_uuid
from binjai_api.webhooks import events, safety
from binjai_api.webhooks.models import WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_ENDPOINTS_PER_CLIENT = 20

deliveries = cast(sa.Table, WebhookDelivery.__table__)


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def allow_private_addresses() -> bool:
    """http and private, loopback or link-local receivers: development and test only."""
    return bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"])


def _check_url(url: str) -> None:
    try:
        safety.check_url_shape(url, allow_private=allow_private_addresses())
    except safety.UnsafeDestination as refused:
        if str(refused) == "scheme":
            message = gettext("The address must start with https://.")
        else:
            message = gettext("This is not a valid web address.")
        raise field_errors({"url": [message]}) from refused
    if allow_private_addresses():
        return
    try:
        safety.resolve_destination(url, allow_private=False)
    except safety.UnsafeDestination as refused:
        if str(refused) == "private_address":
            raise field_errors(
                {"url": [gettext("Webhooks are only sent to public internet addresses.")]}
            ) from refused
        # Not resolvable yet: accepted; every delivery resolves and checks again.


def _check_event_types(event_types: Iterable[str], scopes: frozenset[str]) -> list[str]:
    chosen = sorted(set(event_types))
    unknown = [name for name in chosen if name not in events.REQUIRED_SCOPE]
    if unknown:
        raise field_errors(
            {"event_types": [gettext("Unknown event type: %(event)s", event=unknown[0])]}
        )
    for name in chosen:
        scope = events.REQUIRED_SCOPE[name]
        if scope.value not in scopes:
            raise field_errors(
                {
                    "event_types": [
                        gettext(
                            "Receiving %(event)s needs the %(scope)s scope.",
                            event=name,
                            scope=scope.value,
                        )
                    ]
                }
            )
    return chosen


# --- endpoints ---------------------------------------------------------------------------------


def create_endpoint(
    *,
    api_client_id: uuid.UUID,
    scopes: frozenset[str],
    url: str,
    event_types: list[str],
    description: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the calling client; its signing secret is returned (shown once
    in the answer, kept to sign)."""
    _check_url(url)
    chosen = _check_event_types(event_types, scopes)
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.api_client_id == api_client_id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_CLIENT:
        raise field_errors(
            {
                "url": [
                    gettext(
                        "A client may register at most %(n)s endpoints.", n=MAX_ENDPOINTS_PER_CLIENT
                    )
                ]
            }
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        api_client_id=api_client_id,
        url=url,
        description=description,
        event_types=chosen,
        secret=secret,
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, secret


def endpoints_query(*, api_client_id: uuid.UUID) -> sa.Select[WebhookEndpoint]:
    return (
        sa.select(WebhookEndpoint)
        .where(WebhookEndpoint.api_client_id == api_client_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )


def get_endpoint(
    *, api_client_id: uuid.UUID, endpoint_id: uuid.UUID, lock: bool = False
) -> WebhookEndpoint:
    """The client's own endpoint; another client's is answered as not found."""
    query = sa.select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.api_client_id == api_client_id
    )
    if lock:
        query = query.with_for_update()
    endpoint = db.session.scalar(query)
    if endpoint is None:
        raise not_found(gettext("Webhook endpoint not found."))
    return endpoint


def delete_endpoint(*, api_client_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """Remove the endpoint and its delivery log."""
    endpoint = get_endpoint(api_client_id=api_client_id, endpoint_id=endpoint_id)
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(
    *, api_client_id: uuid.UUID, endpoint_id: uuid.UUID
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, returned once. During the overlap
    (WEBHOOK_SECRET_OVERLAP_HOURS) each message carries both signatures, space-separated as
    Standard Webhooks allows, so the receiver can switch secrets without losing one."""
    endpoint = get_endpoint(api_client_id=api_client_id, endpoint_id=endpoint_id, lock=True)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = utcnow() + timedelta(
        hours=current_app.config["WEBHOOK_SECRET_OVERLAP_HOURS"]
    )
    endpoint.secret = secret
    db.session.commit()
    return endpoint, secret


def enable_endpoint(*, api_client_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """Deliver to the endpoint again (after it was disabled for failing); its failure streak
    starts afresh."""
    endpoint = get_endpoint(api_client_id=api_client_id, endpoint_id=endpoint_id, lock=True)
    endpoint.is_enabled = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.failing_since = None
    db.session.commit()
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a message now: the current one, and the previous one during the
    overlap after a rotation."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        keys.append(endpoint.previous_secret)
    return keys


# --- the delivery log ----------------------------------------------------------------------------


def deliveries_query(
    *, api_client_id: uuid.UUID, endpoint_id: uuid.UUID, status: str | None = None
) -> sa.Select[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    get_endpoint(api_client_id=api_client_id, endpoint_id=endpoint_id)
    query = sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())


def redeliver(
    *, api_client_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send a delivery again, soon, with the same `webhook-id` (receivers deduplicate on it);
    one a worker is sending at this moment is left to it."""
    get_endpoint(api_client_id=api_client_id, endpoint_id=endpoint_id)
    delivery = db.session.scalar(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        .with_for_update(of=WebhookDelivery)
    )
    if delivery is None:
        raise not_found(gettext("Webhook delivery not found."))
    if delivery.status == "pending" and delivery.claim_id is not None:
        db.session.rollback()
        return delivery  # a worker is sending it right now
    now = utcnow()
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.claim_id = None
    delivery.updated_at = now
    db.session.commit()
    return delivery


def prune_finished_deliveries(*, days: int) -> int:
    """Delete webhook deliveries sent or dropped more than `days` days ago; failed ones stay in
    their endpoint's log for a redelivery until the endpoint is removed."""
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        sa.delete(WebhookDelivery).where(
            WebhookDelivery.status.in_(("sent", "dropped")), WebhookDelivery.updated_at < cutoff
        )
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- emit: the one entry point for the domains ---------------------------------------------------


def emit(event_type: str, subject: Any, **context: Any) -> int:
    """Publish an event about `subject` (a complaint, a permit, ...) to every enabled endpoint
    subscribed to it whose client holds the event's scope, in the caller's transaction (the
    caller commits). `data` is the subject's public view (events.VIEWS). Returns how many
    deliveries were queued."""
    if event_type not in events.REQUIRED_SCOPE:
        raise ValueError(f"unknown webhook event {event_type!r}; add it to webhooks/events.py")
    now = utcnow()
    connection = db.session.connection()  # a Core statement: no ORM execution around it
    queued = direct_sql.execute(
        connection,
        _queue_deliveries(connection.dialect.name),
        {"event_type": event_type, "scope": events.REQUIRED_SCOPE[event_type].value, "now": now},
    ).scalars()
    if queued:
        # The view is built only when someone listens: the rows were queued without it.
        payload = {
            "type": event_type,
            "timestamp": events.rfc3339(now),
            "data": events.VIEWS[event_type](subject, **context),
        }
        db.session.execute(
            sa.update(deliveries).where(deliveries.c.id.in_(queued)).values(payload=payload)
        )
    return len(queued)


def _holds(dialect: str, json_list: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    """The JSON list (a column) holds `value`."""
    if dialect == "postgresql":
        items = sa.func.json_array_elements_text(json_list).table_valued("value").render_derived()
    else:
        items = sa.func.json_each(json_list).table_valued("value")
    return sa.exists().where(items.c.value == value)


@cache
def _queue_deliveries(dialect: str) -> ReturningInsert[tuple[uuid.UUID]]:
    """One pending delivery (its payload still empty) for each enabled endpoint subscribed to
    the event (`event_type`) whose client is active and holds its `scope`, in one INSERT ...
    SELECT: no round trip to read the endpoints and their clients first. Built once per
    dialect; the values are bound at each execution."""
    endpoints = cast(sa.Table, WebhookEndpoint.__table__)
    clients = cast(sa.Table, ApiClient.__table__)
    event_type = sa.bindparam("event_type", type_=sa.String())
    at = sa.bindparam("now", type_=UTCDateTime())
    targets = (
        sa.select(
            database_uuid(dialect),
            endpoints.c.id,
            event_type,
            sa.bindparam("empty_payload", {}, type_=sa.JSON()),
            sa.literal_column("'pending'"),
            sa.literal_column("0"),
            at,
            at,
            at,
        )
        .select_from(endpoints.join(clients, clients.c.id == endpoints.c.api_client_id))
        .where(
            endpoints.c.is_enabled.is_(True),
            clients.c.is_active.is_(True),
            _holds(dialect, endpoints.c.event_types, event_type),
            _holds(dialect, clients.c.scopes, sa.bindparam("scope", type_=sa.String())),
        )
    )
    columns = ("id", "endpoint_id", "event_type", "payload", "status", "attempts")
    return (
        sa.insert(deliveries)
        .from_select([*columns, "next_attempt_at", "created_at", "updated_at"], targets)
        .returning(deliveries.c.id)
    )
