"""`flask outbox-worker` as real processes: a worker killed with SIGKILL while a receiver holds
its webhook, then another worker finishes; two workers at once. These tests commit for real
(`committed_db`)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.auth import service as auth_service
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.webhooks.models import WebhookDelivery
from tests.notifications.test_workers import claimed_by, finish, start_worker
from tests.webhooks.receiver import Received, Receiver

pytestmark = pytest.mark.usefixtures("committed_db")


def missed_deadline(reference: str) -> OverdueItem:
    return OverdueItem(
        item_type=ItemType.COMPLAINT,
        item_id=uuid.uuid4(),
        reference=reference,
        title="Jalan berlubang",
        agency_id=None,
        step="follow_up",
        waiting_on=WaitingOn.AGENCY_OFFICER,
        due_at=datetime(2026, 12, 4, 2, 30, tzinfo=UTC),
        link="/api/v1/complaints/x",
    )


def test_a_worker_killed_mid_delivery_loses_no_webhook(
    app: Flask, database_url: str, receiver: Receiver
) -> None:
    with app.app_context():
        client, _ = auth_service.create_api_client(
            name="Dasbor kota", scopes=["webhooks:manage", "ops:read"], created_by_id=None
        )
        _, secret = webhooks_service.create_endpoint(
            api_client_id=client.id,
            scopes=frozenset(client.scopes),
            url=receiver.url,
            event_types=["deadline.missed"],
        )
        references = [f"BJI-2026-00000{i}" for i in range(3)]
        for reference in references:
            webhooks_service.emit(WebhookEventType.DEADLINE_MISSED, missed_deadline(reference))
        db.session.commit()

    lease = 3
    victim = start_worker(database_url, None, None, OUTBOX_LEASE_SECONDS=lease)
    killed = threading.Event()

    def kill_the_worker(_got: Received) -> None:
        if not killed.is_set():
            killed.set()
            os.kill(victim.pid, signal.SIGKILL)  # while it waits for our answer

    receiver.on_request = kill_the_worker
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    receiver.on_request = None
    with app.app_context():
        statuses = list(db.session.scalars(sa.select(WebhookDelivery.status)))
    assert statuses == ["pending"] * 3, "claimed, one received perhaps, none recorded"

    time.sleep(lease + 0.5)
    finish(start_worker(database_url, None, None))
    arrived = Counter(r.verified_with(secret)["data"]["reference"] for r in receiver.received)
    assert set(arrived) == set(references), "at least once: every event arrived, verified"
    assert max(arrived.values()) <= 2
    with app.app_context():
        rows = db.session.scalars(sa.select(WebhookDelivery)).all()
        assert [row.status for row in rows] == ["sent"] * 3
        by_message = {row.message_id for row in rows}
    assert {r.message_id for r in receiver.received} == by_message, "retries reuse webhook-id"


@pytest.mark.postgres_only
def test_two_workers_at_once_deliver_each_webhook_exactly_once(
    app: Flask, database_url: str, receiver: Receiver
) -> None:
    with app.app_context():
        client, _ = auth_service.create_api_client(
            name="Dasbor kota", scopes=["webhooks:manage", "ops:read"], created_by_id=None
        )
        for _ in range(2):
            webhooks_service.create_endpoint(
                api_client_id=client.id,
                scopes=frozenset(client.scopes),
                url=receiver.url,
                event_types=["deadline.missed"],
            )
        for number in range(150):
            item = missed_deadline(f"BJI-2026-{number:06d}")
            webhooks_service.emit(WebhookEventType.DEADLINE_MISSED, item)
        db.session.commit()

    receiver.on_request = lambda _got: time.sleep(0.01)  # a receiver's latency: both work
    workers = [start_worker(database_url, None, None, WEBHOOK_BATCH_SIZE=10) for _ in range(2)]
    shares = [claimed_by(finish(worker)[1]) for worker in workers]
    assert sum(shares) == 300 and all(share > 0 for share in shares), shares
    arrived = Counter(r.message_id for r in receiver.received)
    assert len(arrived) == 300 and set(arrived.values()) == {1}, "each webhook exactly once"
    with app.app_context():
        statuses = Counter(db.session.scalars(sa.select(WebhookDelivery.status)))
    assert statuses == {"sent": 300}
