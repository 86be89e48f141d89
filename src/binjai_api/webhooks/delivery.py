"""The webhook side of the outbox worker: claims due deliveries, signs and POSTs them, records
the outcome; run by `flask outbox-worker` beside the pushes (notifications/dispatcher.py).

At least once, as pushes: a batch is claimed in one short transaction (rows pushed into the
future by OUTBOX_LEASE_SECONDS, `FOR UPDATE SKIP LOCKED`), sent with no transaction open, and the
outcomes recorded in a second transaction, only on the rows this worker still holds. A worker
killed in between leaves rows that fall due again when the lease ends; receivers deduplicate on
`webhook-id`, the same on every attempt. Signed per the Standard Webhooks specification.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from standardwebhooks.webhooks import Webhook

from binjai_api import metrics
from binjai_api.auth import service as auth_service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.notifications.dispatcher import DispatchReport, claim_due, retry_delay
from binjai_api.webhooks import events, safety
from binjai_api.webhooks.models import WebhookDelivery, WebhookEndpoint
from binjai_api.webhooks.service import signing_secrets

log = logging.getLogger(__name__)

deliveries = cast(sa.Table, WebhookDelivery.__table__)
endpoints = cast(sa.Table, WebhookEndpoint.__table__)
USER_AGENT = "Binjai-Webhooks/1"


@dataclass
class Outgoing:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    body: bytes
    headers: dict[str, str]
    attempt: int


@dataclass
class Outcome:
    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _Batch:
    outgoing: list[Outgoing] = field(default_factory=list)
    settled: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)


def sign(*, message_id: str, body: bytes, secrets: list[str], at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: one `v1,` signature per secret, space-separated."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body) for secret in secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _prepare(claim_id: uuid.UUID, ids: list[uuid.UUID]) -> _Batch:
    """Sign each claimed delivery. One whose endpoint was disabled, or whose client is no longer
    active or no longer holds the event's scope, is dropped unsent."""
    rows = list(
        db.session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claim_id == claim_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)  # oldest event first
        ).unique()
    )
    clients = auth_service.api_clients_by_id(row.endpoint.api_client_id for row in rows)
    batch = _Batch()
    now = datetime.now(UTC)
    for row in rows:
        endpoint = row.endpoint
        client = clients.get(endpoint.api_client_id)
        scope = events.REQUIRED_SCOPE.get(row.event_type)
        if not endpoint.is_enabled:
            batch.settled[row.id] = ("dropped", "endpoint_disabled")
        elif client is None or not client.is_active:
            batch.settled[row.id] = ("dropped", "client_inactive")
        elif scope is None or scope.value not in client.scopes:
            batch.settled[row.id] = ("dropped", "scope_withdrawn")
        else:
            body = json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False).encode()
            headers = sign(
                message_id=row.message_id,
                body=body,
                secrets=signing_secrets(endpoint, now),
                at=now,
            )
            batch.outgoing.append(
                Outgoing(row.id, endpoint.id, endpoint.url, body, headers, row.attempts)
            )
    return batch


def send(outgoing: Outgoing) -> Outcome:
    """Resolve, check and POST one delivery (never to a refused address)."""
    config = current_app.config
    try:
        destination = safety.resolve_destination(
            outgoing.url, allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"])
        )
    except safety.UnsafeDestination as refused:
        return Outcome(error=f"refused: {refused}")
    try:
        status = safety.post(
            destination,
            outgoing.body,
            outgoing.headers,
            timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
        )
    except (OSError, ValueError) as error:  # refused, reset, timed out, TLS
        return Outcome(error=f"{type(error).__name__}: {error}"[:200])
    return Outcome(status_code=status, error=None if 200 <= status < 300 else f"HTTP {status}")


def deliver_due() -> DispatchReport:
    """Send one batch of due webhook deliveries (claimed == 0: nothing due)."""
    config = current_app.config
    report = DispatchReport()
    began = time.perf_counter()
    claim_id, ids = claim_due(
        batch_size=config["WEBHOOK_BATCH_SIZE"],
        lease_seconds=config["OUTBOX_LEASE_SECONDS"],
        table=deliveries,
        last_attempt_at=utcnow(),
    )
    report.claimed = len(ids)
    if not ids:
        report.db_seconds = time.perf_counter() - began
        return report
    batch = _prepare(claim_id, ids)
    db.session.rollback()  # no transaction stays open while receivers answer
    report.db_seconds = time.perf_counter() - began
    began = time.perf_counter()
    outcomes = [send(outgoing) for outgoing in batch.outgoing]
    report.send_seconds = time.perf_counter() - began
    began = time.perf_counter()
    _record(claim_id, batch, outcomes, report)
    report.db_seconds += time.perf_counter() - began
    return report


def _record(
    claim_id: uuid.UUID, batch: _Batch, outcomes: list[Outcome], report: DispatchReport
) -> None:
    """Record each outcome on the rows this worker still holds, then each endpoint's streak."""
    config = current_app.config
    now = utcnow()
    sent: list[dict[str, Any]] = []
    retried: list[dict[str, Any]] = []
    succeeded: set[uuid.UUID] = set()
    failing: set[uuid.UUID] = set()
    for outgoing, outcome in zip(batch.outgoing, outcomes, strict=True):
        if outcome.ok:
            sent.append({"b_id": outgoing.delivery_id, "b_code": outcome.status_code})
            succeeded.add(outgoing.endpoint_id)
            continue
        failing.add(outgoing.endpoint_id)
        error = (outcome.error or "failed")[:200]
        if outgoing.attempt >= config["WEBHOOK_MAX_ATTEMPTS"]:
            batch.settled[outgoing.delivery_id] = ("failed", error)
            continue
        delay = retry_delay(
            attempt=outgoing.attempt,
            retry_after=None,
            base_seconds=config["WEBHOOK_RETRY_BASE_SECONDS"],
            max_seconds=config["WEBHOOK_RETRY_MAX_SECONDS"],
        )
        retried.append(
            {
                "b_id": outgoing.delivery_id,
                "b_code": outcome.status_code,
                "b_error": error,
                "b_next": now + timedelta(seconds=delay),
            }
        )
    codes = {o.delivery_id: c.status_code for o, c in zip(batch.outgoing, outcomes, strict=True)}
    held = sa.and_(deliveries.c.id == sa.bindparam("b_id"), deliveries.c.claim_id == claim_id)

    def update_held(rows: list[dict[str, Any]], **values: Any) -> None:
        if rows:
            statement = sa.update(deliveries).where(held)
            db.session.execute(statement.values(claim_id=None, updated_at=now, **values), rows)

    update_held(
        sent,
        status="sent",
        sent_at=now,
        last_error=None,
        last_status_code=sa.bindparam("b_code"),
    )
    update_held(
        retried,
        last_status_code=sa.bindparam("b_code"),
        last_error=sa.bindparam("b_error"),
        next_attempt_at=sa.bindparam("b_next"),
    )
    update_held(
        [
            {"b_id": k, "b_status": v[0], "b_error": v[1], "b_code": codes.get(k)}
            for k, v in batch.settled.items()
        ],
        status=sa.bindparam("b_status"),
        last_error=sa.bindparam("b_error"),
        last_status_code=sa.bindparam("b_code"),
    )
    _update_streaks(succeeded, failing - succeeded, now)
    db.session.commit()
    report.sent, report.retried = len(sent), len(retried)
    statuses = [status for status, _ in batch.settled.values()]
    report.failed, report.dropped = statuses.count("failed"), statuses.count("dropped")
    metrics.count_push_outcomes(
        channel="webhook",
        sent=report.sent,
        retried=report.retried,
        failed=report.failed,
        dropped=report.dropped,
    )


def _update_streaks(succeeded: set[uuid.UUID], failing: set[uuid.UUID], now: datetime) -> None:
    """A success ends an endpoint's failure streak; a failure starts one (if none runs). An
    endpoint failing for WEBHOOK_DISABLE_AFTER_DAYS is disabled and its owner told."""
    if succeeded:
        db.session.execute(
            sa.update(endpoints)
            .where(endpoints.c.id.in_(succeeded))
            .values(failing_since=None, last_success_at=now)
        )
    if not failing:
        return
    db.session.execute(
        sa.update(endpoints)
        .where(endpoints.c.id.in_(failing), endpoints.c.failing_since.is_(None))
        .values(failing_since=now)
    )
    cutoff = now - timedelta(days=current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"])
    disabled = list(
        db.session.execute(
            sa.update(endpoints)
            .where(
                endpoints.c.id.in_(failing),
                endpoints.c.is_enabled.is_(True),
                endpoints.c.failing_since <= cutoff,
            )
            .values(is_enabled=False, disabled_at=now, disabled_reason="failing", updated_at=now)
            .returning(endpoints.c.id, endpoints.c.api_client_id, endpoints.c.url)
        )
    )
    if not disabled:
        return
    disabled_ids = [row.id for row in disabled]
    # What was still queued for them is dropped; the owner may redeliver it from the log.
    db.session.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.endpoint_id.in_(disabled_ids),
            deliveries.c.status == "pending",
            deliveries.c.claim_id.is_(None),
        )
        .values(status="dropped", last_error="endpoint_disabled", updated_at=now)
    )
    _tell_owners(disabled, now)


def _tell_owners(disabled: list[Any], now: datetime) -> None:
    """An inbox entry (and push) to the admin who registered each endpoint's API client: API
    clients have no contact of their own, and that admin answers for the integration."""
    clients = auth_service.api_clients_by_id(row.api_client_id for row in disabled)
    days = str(current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"])
    for row in disabled:
        client = clients.get(row.api_client_id)
        log.warning("webhooks: endpoint %s disabled after %s days of failures", row.id, days)
        if client is None or client.created_by_id is None:
            continue
        notifications_service.notify(
            recipients=[client.created_by_id],
            kind=kinds.WEBHOOK_ENDPOINT_DISABLED,
            params={"client": client.name[:80], "url": row.url[:120], "days": days},
        )
