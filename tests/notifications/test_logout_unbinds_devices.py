"""Ending a session unbinds the devices registered under it: no push reaches a phone after its
user logged out. Proved at the far end: the outbox is drained through the real firebase-admin SDK
into the fake FCM, which records every message it receives."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.notifications import dispatcher
from binjai_api.notifications.fcm import FirebaseSender
from binjai_api.notifications.kinds import ANNOUNCEMENT
from binjai_api.notifications.models import Notification
from tests import factories
from tests.fake_fcm import FakeFcm
from tests.notifications.helpers import (
    DEVICE_TOKEN,
    count,
    deliveries,
    device_exists,
    notify_and_commit,
)
from tests.notifications.test_workers import finish, start_worker

PHONE = DEVICE_TOKEN + "phone"
TABLET = DEVICE_TOKEN + "tablet"


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def register(client: FlaskClient, tokens: dict[str, Any], device_token: str) -> None:
    response = client.post(
        "/api/v1/devices",
        headers=bearer(tokens),
        json={"token": device_token, "platform": "android", "language": "id"},
    )
    assert response.status_code == 201, response.get_json()


def phone_and_tablet(
    app: Flask, client: FlaskClient
) -> tuple[factories.Account, dict[str, Any], dict[str, Any]]:
    """One account logged in twice: a phone and a tablet, each with its device registered."""
    account = factories.make_account(app)
    phone, tablet = factories.login(client, account), factories.login(client, account)
    register(client, phone, PHONE)
    register(client, tablet, TABLET)
    return account, phone, tablet


def drain(app: Flask, sender: FirebaseSender) -> None:
    with app.app_context():
        dispatcher.drain(sender)


@pytest.mark.usefixtures("rollback_db")
def test_logout_unbinds_only_that_sessions_device(
    app: Flask, client: FlaskClient, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account, phone, _tablet = phone_and_tablet(app, client)
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "1", "body": "queued"})
    assert client.post("/api/v1/auth/logout", headers=bearer(phone)).status_code == 204
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "2", "body": "after"})
    drain(app, sender)
    # The push queued before the logout and the one after both reach the tablet only.
    assert sorted(fake_fcm.sent_tokens()) == [TABLET, TABLET]
    assert not device_exists(app, PHONE) and device_exists(app, TABLET)
    assert sorted(str(row["last_error"]) for row in deliveries(app)) == [
        "None",
        "None",
        "device_removed",
    ]


def _logout_all(client: FlaskClient, app: Flask, account: Any, tokens: dict[str, Any]) -> None:
    response = client.post("/api/v1/auth/logout-all", headers=bearer(tokens))
    assert response.status_code == 204


def _change_password(client: FlaskClient, app: Flask, account: Any, tokens: dict[str, Any]) -> None:
    response = client.post(
        "/api/v1/me/password",
        headers=bearer(tokens),
        json={"current_password": account.password, "new_password": "Sandi-Baru-Binjai-77"},
    )
    assert response.status_code == 204


def _deactivate(client: FlaskClient, app: Flask, account: Any, tokens: dict[str, Any]) -> None:
    admin = factories.login_headers(client, factories.make_account(app, "admin"))
    response = client.post(f"/api/v1/admin/accounts/{account.id}/deactivate", headers=admin)
    assert response.status_code == 200


@pytest.mark.usefixtures("rollback_db")
@pytest.mark.parametrize(
    "end_sessions",
    [_logout_all, _change_password, _deactivate],
    ids=["logout-all", "password-change", "deactivation"],
)
def test_ending_every_session_unbinds_every_device(
    app: Flask,
    client: FlaskClient,
    fake_fcm: FakeFcm,
    sender: FirebaseSender,
    end_sessions: Callable[..., None],
) -> None:
    account, phone, _tablet = phone_and_tablet(app, client)
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "1", "body": "queued"})
    end_sessions(client, app, account, phone)
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "2", "body": "after"})
    drain(app, sender)
    assert fake_fcm.requests == []
    assert not device_exists(app, PHONE) and not device_exists(app, TABLET)
    assert {row["last_error"] for row in deliveries(app) if row["status"] != "pending"} <= {
        "device_removed"
    }


@pytest.mark.usefixtures("rollback_db")
def test_logging_in_again_and_registering_binds_the_device_to_the_new_session(
    app: Flask, client: FlaskClient, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app)
    first = factories.login(client, account)
    register(client, first, PHONE)
    client.post("/api/v1/auth/logout", headers=bearer(first))
    second = factories.login(client, account)
    register(client, second, PHONE)
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "1", "body": "back"})
    drain(app, sender)
    assert fake_fcm.sent_tokens() == [PHONE]


@pytest.mark.usefixtures("committed_db")
def test_the_outbox_worker_process_pushes_nothing_to_a_logged_out_phone(
    app: Flask, database_url: str, fake_fcm: FakeFcm, service_account: Path
) -> None:
    """End to end: `flask outbox-worker`, in its own process, sends through the SDK to the fake
    FCM; the logged-out phone receives nothing, the other session's tablet everything."""
    client = app.test_client()
    account, phone, _tablet = phone_and_tablet(app, client)
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "1", "body": "queued"})
    client.post("/api/v1/auth/logout", headers=bearer(phone))
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "2", "body": "after"})
    finish(start_worker(database_url, service_account, fake_fcm))
    assert sorted(fake_fcm.successful_tokens()) == [TABLET, TABLET]
    # The inbox keeps both: only the phone's pushes are gone.
    assert count(app, Notification, Notification.user_id == uuid.UUID(account.id)) == 2


@pytest.mark.usefixtures("rollback_db")
def test_a_session_ended_by_refresh_token_reuse_unbinds_its_device(
    app: Flask, client: FlaskClient, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    """A leaked refresh token used after the grace ends its session, and its phone's pushes."""
    from tests.auth.test_refresh_grace import age_last_rotation

    account, phone, _tablet = phone_and_tablet(app, client)
    refresh = "/api/v1/auth/refresh"
    client.post(refresh, json={"refresh_token": phone["refresh_token"]})
    age_last_rotation(app, account.id, 60)
    reused = client.post(refresh, json={"refresh_token": phone["refresh_token"]})
    assert reused.status_code == 401
    notify_and_commit(app, [account.id], ANNOUNCEMENT, params={"title": "1", "body": "after"})
    drain(app, sender)
    assert fake_fcm.sent_tokens() == [TABLET]
    assert not device_exists(app, PHONE)
