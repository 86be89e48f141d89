"""The outbox dispatcher: claims due deliveries, pushes them, records the outcome.

Delivery is at least once. A batch is claimed in one short transaction (rows pushed into the
future by `OUTBOX_LEASE_SECONDS`, `FOR UPDATE SKIP LOCKED` so concurrent workers take disjoint
rows), sent with no transaction open, and its outcome recorded in a second transaction. A worker
that dies in between leaves rows that fall due again when the lease ends; the inbox entries were
written long before, by `notify()`, and are never touched here.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from binjai_api import metrics
from binjai_api.auth import service as auth_service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications import fcm, kinds
from binjai_api.notifications.models import Delivery, Device
from binjai_api.notifications.service import deep_link, record_broadcast_batch, render_texts

log = logging.getLogger(__name__)

deliveries = cast(sa.Table, Delivery.__table__)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    db_seconds: float = 0.0
    send_seconds: float = 0.0
    recorded: int = 0  # inbox entries written for broadcasts

    @property
    def did_work(self) -> bool:
        return bool(self.claimed or self.recorded)

    def add(self, other: DispatchReport) -> None:
        for name in ("claimed", "sent", "retried", "failed", "dropped", "recorded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.db_seconds += other.db_seconds
        self.send_seconds += other.send_seconds


def outbox_backlog(*, now: datetime) -> tuple[int, int, datetime | None]:
    """The outbox's pending deliveries, how many of them are due now, and the oldest due
    instant (None: none due); for the metrics."""
    is_due = deliveries.c.next_attempt_at <= now
    depth, due, oldest = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((is_due, 1), else_=0)), 0),
            sa.func.min(sa.case((is_due, deliveries.c.next_attempt_at), else_=None)),
        ).where(deliveries.c.status == "pending")
    ).one()
    return int(depth), int(due), oldest


def claim_due(
    *,
    batch_size: int,
    lease_seconds: int,
    table: sa.Table = deliveries,
    **claimed_values: Any,
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Claim up to `batch_size` due rows of an outbox `table` (pushes by default; webhooks use
    theirs) for this worker, and commit the claim: each row's lease runs `lease_seconds`, its
    attempt is counted, and `claimed_values` are set beside."""
    now = utcnow()
    claim_id = uuid.uuid4()
    due = (
        sa.select(table.c.id)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    claimed = db.session.execute(
        sa.update(table)
        .where(table.c.id.in_(sa.select(due.c.id)))
        .values(
            claim_id=claim_id,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
            attempts=table.c.attempts + 1,
            updated_at=now,
            **claimed_values,
        )
        .returning(table.c.id)
    )
    ids = list(claimed.scalars())
    db.session.commit()
    return claim_id, ids


def dispatch_due(sender: fcm.PushSender) -> DispatchReport:
    """Push one batch of due deliveries. Returns what happened (claimed == 0: nothing due)."""
    config = current_app.config
    report = DispatchReport()
    began = time.perf_counter()
    claimed_at = time.monotonic()
    claim_id, ids = claim_due(
        batch_size=config["OUTBOX_BATCH_SIZE"], lease_seconds=config["OUTBOX_LEASE_SECONDS"]
    )
    report.claimed = len(ids)
    if not ids:
        report.db_seconds = time.perf_counter() - began
        return report
    pushes, settled, attempts = _prepare(claim_id, ids)
    db.session.rollback()  # no transaction stays open while we wait for FCM
    report.db_seconds = time.perf_counter() - began

    began = time.perf_counter()
    results = sender.send(pushes) if pushes else []
    report.send_seconds = time.perf_counter() - began

    began = time.perf_counter()
    _record_while_leased(
        lambda: _record(claim_id, pushes, results, settled, attempts, report),
        claimed_at=claimed_at,
        count=len(pushes),
    )
    report.db_seconds += time.perf_counter() - began
    return report


def _record_while_leased(record: Callable[[], None], *, claimed_at: float, count: int) -> None:
    """Run `record` (the batch's outcomes); while the database cannot be reached, keep trying
    for most of the lease. FCM already has these pushes: rows that went back to the outbox
    unrecorded would be sent a second time when the lease ends."""
    config = current_app.config
    give_up_at = claimed_at + 0.8 * config["OUTBOX_LEASE_SECONDS"]
    while True:
        try:
            record()
            return
        except sa.exc.DBAPIError:
            db.session.rollback()
            if time.monotonic() + config["OUTBOX_POLL_SECONDS"] >= give_up_at:
                raise
            log.warning(
                "outbox: could not record %s outcomes (database unavailable); retrying", count
            )
            time.sleep(config["OUTBOX_POLL_SECONDS"])


def _prepare(
    claim_id: uuid.UUID, ids: list[uuid.UUID]
) -> tuple[list[fcm.OutgoingPush], dict[uuid.UUID, tuple[str, str]], dict[uuid.UUID, int]]:
    """Build each push in its reader's language. A device removed or handed to another user since
    the notification was written is not pushed: a case update must never reach someone else.
    Rows settled without sending are returned with their (status, reason)."""
    rows = list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.id.in_(ids), Delivery.claim_id == claim_id)
        ).unique()
    )
    languages = auth_service.languages_of(row.notification.user_id for row in rows)
    pushes: list[fcm.OutgoingPush] = []
    settled: dict[uuid.UUID, tuple[str, str]] = {}
    attempts = {row.id: row.attempts for row in rows}
    for row in rows:
        notification, device = row.notification, row.device
        if device is None:
            settled[row.id] = ("dropped", "device_removed")
            continue
        if device.user_id != notification.user_id:
            settled[row.id] = ("dropped", "device_reassigned")
            continue
        language = device.language or languages.get(notification.user_id)
        try:
            title, body = render_texts(notification, language)
            kind = kinds.KINDS[notification.kind]
        except (KeyError, ValueError, TypeError) as error:
            # One unrenderable row (a kind retired from kinds.py) must not stop the worker.
            settled[row.id] = ("failed", f"cannot render {notification.kind}: {error!r}"[:200])
            continue
        pushes.append(
            fcm.OutgoingPush(
                delivery_id=row.id,
                token=device.token,
                title=title,
                body=body,
                data={
                    "kind": notification.kind,
                    "notification_id": str(notification.id),
                    "resource_type": notification.resource_type or "",
                    "resource_id": notification.resource_id or "",
                    "link": deep_link(notification),
                },
                android_channel=kind.android_channel,
                ios_category=kind.ios_category,
                high_priority=kind.high_priority,
            )
        )
    return pushes, settled, attempts


def _record(
    claim_id: uuid.UUID,
    pushes: list[fcm.OutgoingPush],
    results: list[fcm.PushResult],
    settled: dict[uuid.UUID, tuple[str, str]],
    attempts: dict[uuid.UUID, int],
    report: DispatchReport,
) -> None:
    """Record each outcome, only on rows this worker still holds (`claim_id`)."""
    config = current_app.config
    now = utcnow()
    sent: list[dict[str, Any]] = []
    retried: list[dict[str, Any]] = []
    invalid_tokens: list[str] = []
    for push, result in zip(pushes, results, strict=True):
        if result.outcome == fcm.SENT:
            sent.append({"b_id": push.delivery_id, "b_name": result.message_name})
        elif result.outcome == fcm.INVALID_TOKEN:
            invalid_tokens.append(push.token)
            settled[push.delivery_id] = ("dropped", (result.error or "invalid token")[:200])
        elif attempts.get(push.delivery_id, 0) >= config["OUTBOX_MAX_ATTEMPTS"]:
            settled[push.delivery_id] = ("failed", result.error or "failed")
        else:
            delay = retry_delay(
                attempt=attempts.get(push.delivery_id, 1),
                retry_after=result.retry_after_seconds,
                base_seconds=config["OUTBOX_RETRY_BASE_SECONDS"],
                max_seconds=config["OUTBOX_RETRY_MAX_SECONDS"],
            )
            retried.append(
                {
                    "b_id": push.delivery_id,
                    "b_error": result.error,
                    "b_next": now + timedelta(seconds=delay),
                }
            )
    held = sa.and_(deliveries.c.id == sa.bindparam("b_id"), deliveries.c.claim_id == claim_id)

    def update_held(rows: list[dict[str, Any]], **values: Any) -> None:
        if rows:
            statement = sa.update(deliveries).where(held)
            db.session.execute(statement.values(claim_id=None, updated_at=now, **values), rows)

    update_held(
        sent, status="sent", sent_at=now, last_error=None, fcm_message_name=sa.bindparam("b_name")
    )
    update_held(retried, last_error=sa.bindparam("b_error"), next_attempt_at=sa.bindparam("b_next"))
    update_held(
        [{"b_id": k, "b_status": v[0], "b_error": v[1]} for k, v in settled.items()],
        status=sa.bindparam("b_status"),
        last_error=sa.bindparam("b_error"),
    )
    if invalid_tokens:
        db.session.execute(sa.delete(Device).where(Device.token.in_(invalid_tokens)))
    db.session.commit()
    report.sent, report.retried = len(sent), len(retried)
    statuses = [status for status, _ in settled.values()]
    report.failed, report.dropped = statuses.count("failed"), statuses.count("dropped")
    metrics.count_push_outcomes(
        sent=report.sent, retried=report.retried, failed=report.failed, dropped=report.dropped
    )


def retry_delay(
    *, attempt: int, retry_after: float | None, base_seconds: float, max_seconds: float
) -> float:
    """Exponential backoff with jitter, never sooner than the server's Retry-After."""
    ceiling = min(max_seconds, base_seconds * 2 ** max(0, attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)  # equal jitter: spread out, never immediate
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def run_once(sender: fcm.PushSender) -> DispatchReport:
    """One round of the worker: record one broadcast batch, push one batch, then send one batch
    of webhooks (webhooks/delivery.py: the same outbox discipline, its own table)."""
    from binjai_api.webhooks import delivery as webhooks  # webhooks build on this module

    config = current_app.config
    began = time.perf_counter()
    recorded = record_broadcast_batch(batch_size=config["BROADCAST_BATCH_SIZE"])
    report = dispatch_due(sender)
    report.add(webhooks.deliver_due())
    report.recorded = recorded
    report.db_seconds = time.perf_counter() - began - report.send_seconds  # all but the sending
    return report


def make_sender() -> fcm.PushSender:
    """The Firebase sender when FIREBASE_CREDENTIALS is set, else the logging one."""
    config = current_app.config
    if not config["FIREBASE_CREDENTIALS"]:
        return fcm.LoggingSender()
    return fcm.FirebaseSender(
        config["FIREBASE_CREDENTIALS"],
        endpoint=config["FCM_ENDPOINT"],
        timeout_seconds=config["FCM_HTTP_TIMEOUT_SECONDS"],
    )


@dataclass
class PeriodicJob:
    """Other work the worker process does every `interval_seconds`, between two batches (the
    command center's escalation of missed deadlines). Wired in by `flask outbox-worker`, so that
    the outbox needs to know nothing of the domains."""

    name: str
    interval_seconds: float
    run: Callable[[], object]
    next_run: float = 0.0  # time.monotonic(); 0: at the first turn of the loop


def run_due_jobs(jobs: Sequence[PeriodicJob], *, raise_errors: bool = False) -> None:
    """Run the jobs whose time has come. A failing job is logged and tried again at its next
    interval; it never stops the pushes (unless `raise_errors`, when draining)."""
    for job in jobs:
        now = time.monotonic()
        if now < job.next_run:
            continue
        job.next_run = now + job.interval_seconds
        try:
            job.run()
        except Exception:
            db.session.rollback()
            if raise_errors:
                raise
            log.exception("worker: %s failed; next try in %s s", job.name, job.interval_seconds)


def run_worker(
    sender: fcm.PushSender,
    *,
    stop: threading.Event,
    drain_only: bool = False,
    periodic: Sequence[PeriodicJob] = (),
) -> DispatchReport:
    """The outbox worker's loop: work while there is work, poll when idle, stop on `stop`; with
    `drain_only`, return once nothing is due. `periodic` jobs run between batches when due (once,
    first, when draining). Returns what the outbox did.

    A database outage is waited out, not fatal: the rows stay in the outbox. Draining (tests,
    benchmarks, `--drain`) has no one to wait for, so there the error is raised.
    """
    poll_seconds = current_app.config["OUTBOX_POLL_SECONDS"]
    total = DispatchReport()
    while not stop.is_set():
        run_due_jobs(periodic, raise_errors=drain_only)
        try:
            report = run_once(sender)
        except sa.exc.DBAPIError:
            db.session.rollback()
            if drain_only:
                raise
            log.exception("outbox worker: database error; retrying in %s s", poll_seconds)
            stop.wait(poll_seconds)
            continue
        total.add(report)
        if report.did_work:
            log.info(
                "outbox: recorded=%s claimed=%s sent=%s retried=%s failed=%s dropped=%s",
                report.recorded,
                report.claimed,
                report.sent,
                report.retried,
                report.failed,
                report.dropped,
            )
        elif drain_only:
            break
        else:
            stop.wait(poll_seconds)
    return total


def drain(sender: fcm.PushSender) -> DispatchReport:
    """Work until nothing is due."""
    return run_worker(sender, stop=threading.Event(), drain_only=True)
