"""The outbox dispatcher, driving the real firebase-admin SDK against a fake FCM on 127.0.0.1."""

from __future__ import annotations

import io
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications import dispatcher, service
from binjai_api.notifications.fcm import FirebaseSender, LoggingSender
from binjai_api.notifications.kinds import ANNOUNCEMENT, PASSWORD_CHANGED
from binjai_api.notifications.models import Delivery, Notification
from tests import factories
from tests.fake_fcm import FakeFcm
from tests.notifications.helpers import (
    DEVICE_TOKEN,
    count,
    deliveries,
    device_exists,
    notify_and_commit,
    register_device,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


def drain(app: Flask, sender: Any) -> dispatcher.DispatchReport:
    with app.app_context():
        return dispatcher.drain(sender)


def make_due_now(app: Flask) -> None:
    """Let time pass: every pending delivery falls due."""
    with app.app_context():
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.status == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_pushes_are_the_exact_fcm_v1_requests(
    app: Flask, client: Any, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    token = DEVICE_TOKEN + "exact"
    register_device(app, account.id, token, language="en")
    [notification_id] = notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    report = drain(app, sender)
    assert (report.claimed, report.sent) == (1, 1)

    [request] = fake_fcm.requests
    assert request["path"] == "/v1/projects/binjai-test/messages:send"
    assert request["headers"]["Authorization"].removeprefix("Bearer ") in fake_fcm.issued_tokens
    assert request["body"] == {
        "message": {
            "token": token,
            "notification": {
                "title": "Your password was changed",
                "body": "The password of your Binjai account was just changed and every device "
                "was signed out. If this was not you, contact the Binjai Command Center at once.",
            },
            "data": {
                "kind": "password_changed",
                "notification_id": notification_id,
                "resource_type": "",
                "resource_id": "",
                "link": f"binjai://notifications/{notification_id}",
            },
            "android": {
                "priority": "high",
                "notification": {"channel_id": "akun", "tag": notification_id},
            },
            "apns": {
                "headers": {"apns-priority": "10", "apns-collapse-id": notification_id},
                "payload": {
                    "aps": {
                        "sound": "default",
                        "thread-id": "password_changed",
                        "category": "ACCOUNT",
                    }
                },
            },
        }
    }
    [row] = deliveries(app)
    assert row["status"] == "sent"


def test_the_push_is_in_the_language_of_the_device_else_of_the_account(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "no-language")
    register_device(app, account.id, DEVICE_TOKEN + "english", language="en")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    drain(app, sender)
    titles = {
        r["body"]["message"]["token"]: r["body"]["message"]["notification"]["title"]
        for r in fake_fcm.requests
    }
    assert titles == {
        DEVICE_TOKEN + "no-language": "Kata sandi Anda telah diubah",
        DEVICE_TOKEN + "english": "Your password was changed",
    }


def test_an_unregistered_token_removes_its_device(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    dead, alive = DEVICE_TOKEN + "uninstalled", DEVICE_TOKEN + "alive"
    register_device(app, account.id, dead)
    register_device(app, account.id, alive)
    fake_fcm.respond(dead, 404, "NOT_FOUND", fcm_error_code="UNREGISTERED")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    report = drain(app, sender)
    assert (report.sent, report.dropped) == (1, 1)
    assert not device_exists(app, dead)
    assert device_exists(app, alive)
    statuses = sorted((r["status"], r["last_error"] or "") for r in deliveries(app))
    assert statuses[0][0] == "dropped"
    assert statuses[0][1].startswith("UnregisteredError (NOT_FOUND)")
    assert statuses[1] == ("sent", "")


def test_an_invalid_token_removes_its_device(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    bad = DEVICE_TOKEN + "malformed"
    register_device(app, account.id, bad)
    fake_fcm.respond(bad, 400, "INVALID_ARGUMENT", fcm_error_code="INVALID_ARGUMENT")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    drain(app, sender)
    assert not device_exists(app, bad)
    assert [r["status"] for r in deliveries(app)] == ["dropped"]


@pytest.mark.parametrize(
    ("status", "error_status"), [(503, "UNAVAILABLE"), (429, "RESOURCE_EXHAUSTED")]
)
def test_unavailable_and_quota_are_retried_later_after_retry_after(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender, status: int, error_status: str
) -> None:
    account = factories.make_account(app, "citizen")
    token = DEVICE_TOKEN + f"busy-{status}"
    register_device(app, account.id, token)
    fake_fcm.respond(token, status, error_status, retry_after=900, times=1)
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)

    began = time.monotonic()
    report = drain(app, sender)
    # The SDK's own retry would sleep the 900 s Retry-After inside send_each; ours does not.
    assert time.monotonic() - began < 10
    assert (report.sent, report.retried) == (0, 1)
    assert len(fake_fcm.requests) == 1
    [row] = deliveries(app)
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    assert row["next_attempt_at"] >= utcnow() + timedelta(seconds=890)
    assert f"({error_status})" in row["last_error"]

    assert drain(app, sender).claimed == 0, "not due before Retry-After has passed"
    make_due_now(app)
    assert drain(app, sender).sent == 1
    assert fake_fcm.successful_tokens() == [token]
    assert [r["status"] for r in deliveries(app)] == ["sent"]


def test_retries_back_off_exponentially_with_jitter(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    token = DEVICE_TOKEN + "flaky"
    register_device(app, account.id, token)
    fake_fcm.respond(token, 500, "INTERNAL")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    base = app.config["OUTBOX_RETRY_BASE_SECONDS"]
    for attempt in (1, 2, 3):
        before = utcnow()
        drain(app, sender)
        [row] = deliveries(app)
        assert row["attempts"] == attempt
        delay = (row["next_attempt_at"] - before).total_seconds()
        ceiling = base * 2 ** (attempt - 1)
        assert ceiling / 2 - 1 <= delay <= ceiling + 1
        make_due_now(app)


def test_after_the_last_attempt_the_delivery_fails_and_operators_see_it(
    app: Flask, client: Any, auth_headers: Any, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    token = DEVICE_TOKEN + "always-down"
    register_device(app, account.id, token)
    fake_fcm.respond(token, 503, "UNAVAILABLE")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
        drain(app, sender)
        make_due_now(app)
    [row] = deliveries(app)
    assert row["status"] == "failed"
    assert row["attempts"] == app.config["OUTBOX_MAX_ATTEMPTS"]
    assert drain(app, sender).claimed == 0

    operator = auth_headers("operator")
    failed = client.get("/api/v1/notification-deliveries?status=failed", headers=operator)
    assert failed.status_code == 200
    assert [d["id"] for d in failed.json] == [str(row["id"])]
    assert failed.json[0]["kind"] == "password_changed"
    assert failed.json[0]["platform"] == "android"
    citizen = auth_headers("citizen")
    forbidden = client.get("/api/v1/notification-deliveries", headers=citizen)
    assert_problem(forbidden, 403, "forbidden")

    # FCM is back; the operator queues it again.
    fake_fcm.respond(token, 200)
    retried = client.post(f"/api/v1/notification-deliveries/{row['id']}/retry", headers=operator)
    assert retried.status_code == 200
    assert retried.json["status"] == "pending"
    assert drain(app, sender).sent == 1
    again = client.post(f"/api/v1/notification-deliveries/{row['id']}/retry", headers=operator)
    assert_problem(again, 409, "delivery_not_failed")


def test_a_device_handed_to_another_user_does_not_get_the_previous_owners_push(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    previous, new_owner = (factories.make_account(app, "citizen") for _ in range(2))
    token = DEVICE_TOKEN + "second-hand"
    register_device(app, previous.id, token)
    notify_and_commit(app, [previous.id], PASSWORD_CHANGED)
    register_device(app, new_owner.id, token)  # before the worker got to it
    report = drain(app, sender)
    assert (report.sent, report.dropped) == (0, 1)
    assert fake_fcm.requests == []
    assert [r["last_error"] for r in deliveries(app)] == ["device_reassigned"]


def test_a_logged_out_device_gets_nothing_more(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    token = DEVICE_TOKEN + "logged-out"
    register_device(app, account.id, token)
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    with app.app_context():
        service.unregister_device(user_id=uuid.UUID(account.id), token=token)
    drain(app, sender)
    assert fake_fcm.requests == []
    assert [r["last_error"] for r in deliveries(app)] == ["device_removed"]
    assert count(app, Notification, Notification.user_id == uuid.UUID(account.id)) == 1


def test_a_muted_kind_is_kept_in_the_inbox_but_not_pushed(
    app: Flask, client: Any, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    headers = factories.login_headers(client, account)
    register_device(app, account.id, DEVICE_TOKEN + "quiet")
    muted = client.put(
        "/api/v1/me/notification-preferences",
        json={"muted_kinds": ["announcement"], "topics": []},
        headers=headers,
    )
    assert muted.status_code == 200
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "Info", "body": "Isi"})
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    drain(app, sender)
    assert [r["body"]["message"]["data"]["kind"] for r in fake_fcm.requests] == [PASSWORD_CHANGED]
    kinds = {n["kind"] for n in client.get("/api/v1/notifications", headers=headers).json}
    assert kinds == {ANNOUNCEMENT, PASSWORD_CHANGED}


def test_a_crash_between_sending_and_recording_loses_and_duplicates_nothing(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [factories.make_account(app, "citizen") for _ in range(3)]
    for index, account in enumerate(accounts):
        register_device(app, account.id, DEVICE_TOKEN + f"crash-{index}")
    notify_and_commit(app, [a.id for a in accounts], PASSWORD_CHANGED)

    class WorkerKilled(BaseException):
        """Stands for the process dying: nothing after the send runs."""

    def die(*_args: Any) -> None:
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr(dispatcher, "_record", die)
        with pytest.raises(WorkerKilled):
            drain(app, sender)
    assert len(fake_fcm.successful_tokens()) == 3, "FCM got them, but nothing was recorded"
    with app.app_context():
        db.session.rollback()
    assert {r["status"] for r in deliveries(app)} == {"pending"}
    assert drain(app, sender).claimed == 0, "claimed rows stay with the dead worker's lease"

    make_due_now(app)  # the lease ends
    assert drain(app, sender).sent == 3
    assert sorted(fake_fcm.successful_tokens()) == sorted(
        DEVICE_TOKEN + f"crash-{i}" for i in (0, 1, 2, 0, 1, 2)
    ), "at least once: each delivered again after the crash"
    assert {r["status"] for r in deliveries(app)} == {"sent"}
    for account in accounts:
        assert count(app, Notification, Notification.user_id == uuid.UUID(account.id)) == 1


def test_outcomes_are_recorded_once_the_database_is_back_so_nothing_is_sent_twice(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL restarts while a batch is at FCM: the worker keeps the outcomes and records
    them when the database answers again, instead of letting the rows return to the outbox."""
    accounts = [factories.make_account(app, "citizen") for _ in range(3)]
    for index, account in enumerate(accounts):
        register_device(app, account.id, DEVICE_TOKEN + f"outage-{index}")
    notify_and_commit(app, [a.id for a in accounts], PASSWORD_CHANGED)
    record = dispatcher._record
    calls = []

    def database_down_once(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))
        record(*args)

    monkeypatch.setattr(dispatcher, "_record", database_down_once)
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 0)
    assert drain(app, sender).sent == 3
    assert len(calls) == 2
    assert sorted(fake_fcm.successful_tokens()) == sorted(
        DEVICE_TOKEN + f"outage-{i}" for i in (0, 1, 2)
    ), "each push reached FCM once"
    assert {r["status"] for r in deliveries(app)} == {"sent"}


def test_outcomes_still_unrecorded_near_the_end_of_the_lease_are_left_to_it(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that stays away: the worker stops waiting before its lease ends, and the rows
    fall due again (delivered at least once), rather than recording over another worker."""
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "long-outage")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)

    def database_down(*_args: Any) -> None:
        raise sa.exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(dispatcher, "_record", database_down)
    monkeypatch.setitem(app.config, "OUTBOX_LEASE_SECONDS", 1)
    with pytest.raises(sa.exc.OperationalError):
        drain(app, sender)
    assert {r["status"] for r in deliveries(app)} == {"pending"}


def test_without_credentials_pushes_are_logged_not_sent(app: Flask, log_lines: io.StringIO) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "dev")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    report = drain(app, LoggingSender())
    assert report.sent == 1
    assert "not sent, no Firebase credentials" in log_lines.getvalue()
    assert "Kata sandi Anda telah diubah" in log_lines.getvalue()


def test_a_row_that_cannot_be_rendered_fails_alone_and_the_worker_goes_on(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "poison")
    [retired, current] = [
        notify_and_commit(app, [account.id], PASSWORD_CHANGED)[0] for _ in range(2)
    ]
    with app.app_context():
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id == uuid.UUID(retired))
            .values(kind="retired_kind")
        )
        db.session.commit()
    report = drain(app, sender)
    assert (report.sent, report.failed) == (1, 1)
    assert [r["body"]["message"]["data"]["notification_id"] for r in fake_fcm.requests] == [current]
    failed = [r for r in deliveries(app) if r["status"] == "failed"]
    assert failed[0]["last_error"].startswith("cannot render retired_kind")


def test_an_fcm_that_hangs_costs_one_timeout_then_the_push_is_retried_later(
    app: Flask, tmp_path: Any
) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "hung")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    with FakeFcm(project_id="binjai-test", latency=3.0) as slow:
        slow.write_service_account(tmp_path / "sa.json")
        hurried = FirebaseSender(
            str(tmp_path / "sa.json"), endpoint=slow.base_url, timeout_seconds=1
        )
        try:
            began = time.monotonic()
            report = drain(app, hurried)
            elapsed = time.monotonic() - began
        finally:
            hurried.close()
    assert elapsed < 2.9, "bounded by FCM_HTTP_TIMEOUT_SECONDS, not by the server"
    assert report.retried == 1
    [row] = deliveries(app)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"].startswith("DeadlineExceededError")


def test_retry_delays_are_jittered_and_never_sooner_than_retry_after() -> None:
    delays = [
        dispatcher.retry_delay(attempt=3, retry_after=None, base_seconds=30, max_seconds=3600)
        for _ in range(200)
    ]
    assert all(60 <= delay <= 120 for delay in delays), "base * 2^(attempt-1), halved at most"
    assert max(delays) - min(delays) > 20, "spread out, so retries of one outage do not align"
    capped = dispatcher.retry_delay(attempt=20, retry_after=None, base_seconds=30, max_seconds=3600)
    assert 1800 <= capped <= 3600
    assert (
        dispatcher.retry_delay(attempt=1, retry_after=900, base_seconds=30, max_seconds=3600) == 900
    )
    assert dispatcher.retry_delay(attempt=3, retry_after=1, base_seconds=30, max_seconds=3600) >= 60
