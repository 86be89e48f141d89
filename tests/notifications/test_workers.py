"""`flask outbox-worker` as real processes: killed mid-batch, and several at once.

These tests commit for real (`committed_db`): the workers are separate processes that share
only the database with the test, and send through the real SDK to the fake FCM.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications import service
from binjai_api.notifications.kinds import PASSWORD_CHANGED
from binjai_api.notifications.models import Delivery, Device, Notification
from tests import factories
from tests.fake_fcm import FakeFcm
from tests.notifications.helpers import DEVICE_TOKEN, count, notify_and_commit, register_device

pytestmark = pytest.mark.usefixtures("committed_db")

ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    database_url: str, service_account: Path | None, fake: FakeFcm | None, **settings: Any
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "BINJAI_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_FORMAT": "json",
        "FIREBASE_CREDENTIALS": str(service_account) if service_account else "",
        "FCM_ENDPOINT": fake.base_url if fake else "",
        **{name: str(value) for name, value in settings.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "binjai_api", "outbox-worker", "--drain"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(worker: subprocess.Popen[str]) -> tuple[str, str]:
    stdout, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 0, stderr
    return stdout, stderr


def claimed_by(stderr: str) -> int:
    return sum(int(n) for n in re.findall(r"claimed=(\d+)", stderr))


def test_the_worker_command_sends_through_firebase_and_says_so(
    app: Flask, database_url: str, fake_fcm: FakeFcm, service_account: Path
) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "cli")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    stdout, _ = finish(start_worker(database_url, service_account, fake_fcm))
    assert f"Firebase project binjai-test via {fake_fcm.base_url}" in stdout
    assert fake_fcm.successful_tokens() == [DEVICE_TOKEN + "cli"]


def test_without_credentials_the_worker_says_it_only_logs(app: Flask, database_url: str) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "cli-dev")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    stdout, stderr = finish(start_worker(database_url, None, None))
    assert "log only: FIREBASE_CREDENTIALS is not set" in stdout
    assert "pushes are written to the log, not sent" in stderr
    assert "push (not sent, no Firebase credentials)" in stderr
    with app.app_context():
        assert list(db.session.scalars(sa.select(Delivery.status))) == ["sent"]


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_no_inbox_entry(
    app: Flask, database_url: str, fake_fcm: FakeFcm, service_account: Path
) -> None:
    accounts = [factories.make_account(app, "citizen") for _ in range(3)]
    tokens = [DEVICE_TOKEN + f"killed-{i}" for i in range(3)]
    for account, token in zip(accounts, tokens, strict=True):
        register_device(app, account.id, token)
    notify_and_commit(app, [a.id for a in accounts], PASSWORD_CHANGED)

    lease = 3
    victim = start_worker(database_url, service_account, fake_fcm, OUTBOX_LEASE_SECONDS=lease)
    killed = threading.Event()

    def kill_the_worker(_request: dict[str, Any]) -> None:
        if not killed.is_set():
            killed.set()
            os.kill(victim.pid, signal.SIGKILL)

    fake_fcm.on_send = kill_the_worker
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    fake_fcm.on_send = None
    with app.app_context():
        statuses = list(db.session.scalars(sa.select(Delivery.status)))
    assert statuses == ["pending"] * 3, "claimed, sent perhaps, but never recorded"

    time.sleep(lease + 0.5)
    finish(start_worker(database_url, service_account, fake_fcm))
    delivered = Counter(fake_fcm.successful_tokens())
    assert set(delivered) == set(tokens), "at least once: every push arrived"
    with app.app_context():
        assert list(db.session.scalars(sa.select(Delivery.status))) == ["sent"] * 3
    assert count(app, Notification) == 3, "each inbox entry exactly once"


def _devices_for(app: Flask, user_ids: list[str], per_user: int) -> list[str]:
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "token": f"{DEVICE_TOKEN}bulk-{user_id}-{n}",
            "user_id": uuid.UUID(user_id),
            "platform": "android",
            "created_at": now,
            "refreshed_at": now,
        }
        for user_id in user_ids
        for n in range(per_user)
    ]
    with app.app_context():
        db.session.execute(sa.insert(Device.__table__), rows)
        db.session.commit()
    return [row["token"] for row in rows]


@pytest.mark.postgres_only
def test_two_workers_at_once_deliver_2000_pushes_exactly_once(
    app: Flask, database_url: str, service_account: Path
) -> None:
    accounts = [factories.make_account(app, "citizen") for _ in range(100)]
    tokens = _devices_for(app, [a.id for a in accounts], per_user=20)
    notify_and_commit(app, [a.id for a in accounts], PASSWORD_CHANGED)
    assert count(app, Delivery) == 2000

    with FakeFcm(project_id="binjai-test", latency=0.02) as fake:
        fake.write_service_account(service_account)
        workers = [
            start_worker(database_url, service_account, fake, OUTBOX_BATCH_SIZE=50)
            for _ in range(2)
        ]
        outputs = [finish(worker) for worker in workers]
        delivered = Counter(fake.successful_tokens())
        assert len(fake.requests) == 2000
    assert delivered == Counter(tokens), "each push exactly once"
    shares = [claimed_by(stderr) for _, stderr in outputs]
    assert sum(shares) == 2000
    assert all(share > 0 for share in shares), f"both workers took rows: {shares}"
    with app.app_context():
        statuses = Counter(db.session.scalars(sa.select(Delivery.status)))
    assert statuses == {"sent": 2000}


def _in_threads(app: Flask, work: Any, times: int) -> list[Any]:
    results: list[Any] = [None] * times
    start = threading.Barrier(times)

    def run(index: int) -> None:
        with app.app_context():
            start.wait()
            try:
                results[index] = work()
            except Exception as error:  # reported, not swallowed: the test asserts on it
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
def test_concurrent_fan_out_writes_each_inbox_entry_once(app: Flask) -> None:
    accounts = [factories.make_account(app, "citizen") for _ in range(60)]
    operator = factories.make_account(app, "operator")
    _devices_for(app, [a.id for a in accounts], per_user=1)
    with app.app_context():
        broadcast = service.create_broadcast(
            created_by_id=uuid.UUID(operator.id), title_id="Info", body_id="Isi", audience="all"
        )
        broadcast_id = broadcast.id

    def record_until_done() -> int:
        written = 0
        while batch := service.record_broadcast_batch(batch_size=7):
            written += batch
        return written

    results = _in_threads(app, record_until_done, 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 61  # 60 residents and the operator
    assert count(app, Notification, Notification.broadcast_id == broadcast_id) == 61
    assert count(app, Delivery) == 60


@pytest.mark.postgres_only
def test_concurrent_registrations_of_one_token_make_one_device(app: Flask) -> None:
    accounts = [factories.make_account(app, "citizen") for _ in range(6)]
    token = DEVICE_TOKEN + "race"
    users = iter(accounts)
    lock = threading.Lock()

    def register() -> bool:
        with lock:
            user = uuid.UUID(next(users).id)
        return service.register_device(user_id=user, token=token, platform="android")[1]

    results = _in_threads(app, register, 6)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(True) == 1, "exactly one request created it"
    assert count(app, Device, Device.token == token) == 1


def test_prune_deliveries_keeps_failed_and_recent_rows_and_every_inbox_entry(app: Flask) -> None:
    accounts = [factories.make_account(app, "citizen") for _ in range(3)]
    for index, account in enumerate(accounts):
        register_device(app, account.id, DEVICE_TOKEN + f"prune-{index}")
    notify_and_commit(app, [a.id for a in accounts], PASSWORD_CHANGED)
    long_ago = utcnow() - timedelta(days=31)
    with app.app_context():
        ids = list(db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id)))
        for delivery_id, status, updated in zip(
            ids, ("sent", "failed", "sent"), (long_ago, long_ago, utcnow()), strict=True
        ):
            db.session.execute(
                sa.update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(status=status, updated_at=updated)
            )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["prune-deliveries"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 push deliveries" in result.output
    with app.app_context():
        assert list(db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id))) == ids[1:]
    assert count(app, Notification) == 3
