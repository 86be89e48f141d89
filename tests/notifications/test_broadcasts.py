"""Broadcasts: city announcements to everyone, one kecamatan or a topic, recorded in batches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.extensions import db
from binjai_api.notifications import dispatcher, service
from binjai_api.notifications.fcm import FirebaseSender
from binjai_api.notifications.models import Broadcast, Notification
from tests import factories
from tests.fake_fcm import FakeFcm
from tests.notifications.helpers import DEVICE_TOKEN, count, register_device
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")

ANNOUNCEMENT = {
    "title_id": "Fogging DBD",
    "body_id": "Pengasapan nyamuk Sabtu pukul 07.00 WIB.",
    "title_en": "Dengue fogging",
    "body_en": "Mosquito fogging on Saturday at 07:00 WIB.",
}


def resident(app: Flask, client: Any, *, kelurahan: str | None = None) -> Any:
    account = factories.make_account(app, "citizen")
    headers = factories.login_headers(client, account)
    if kelurahan:
        patched = client.patch("/api/v1/me", json={"kelurahan_code": kelurahan}, headers=headers)
        assert patched.status_code == 200, patched.json
    return account, headers


def inbox_titles(client: Any, headers: dict[str, str], language: str = "id") -> list[str]:
    listed = client.get("/api/v1/notifications", headers={**headers, "Accept-Language": language})
    return [n["title"] for n in listed.json]


def record_all(app: Flask) -> None:
    with app.app_context():
        while service.record_broadcast_batch(batch_size=app.config["BROADCAST_BATCH_SIZE"]):
            pass


def test_only_operators_and_admins_broadcast(client: Any, auth_headers: Any) -> None:
    body = {**ANNOUNCEMENT, "audience": "all"}
    for role in ("citizen", "officer"):
        refused = client.post("/api/v1/broadcasts", json=body, headers=auth_headers(role))
        assert_problem(refused, 403, "forbidden")
    assert (
        client.post("/api/v1/broadcasts", json=body, headers=auth_headers("admin")).status_code
        == 202
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audience": "kecamatan"}, "kecamatan_code"),
        ({"audience": "kecamatan", "kecamatan_code": "12.75.99"}, "kecamatan_code"),
        ({"audience": "topic"}, "topic"),
        ({"audience": "topic", "topic": "astrology"}, "topic"),
        ({"audience": "all", "topic": "kesehatan"}, "topic"),
        ({"audience": "all", "title_en": None}, "title_en"),
        ({"audience": "everyone"}, "audience"),
    ],
)
def test_an_unclear_audience_is_refused_with_field_errors(
    client: Any, auth_headers: Any, body: dict[str, Any], field: str
) -> None:
    payload = {**ANNOUNCEMENT, **body}
    if payload.get("title_en", "") is None:
        del payload["title_en"]
    response = client.post("/api/v1/broadcasts", json=payload, headers=auth_headers("operator"))
    problem = assert_problem(response, 422, "validation_error")
    assert field in problem["errors"]["json"]


def test_a_broadcast_to_one_kecamatan_reaches_only_its_residents(
    app: Flask, client: Any, auth_headers: Any
) -> None:
    _, north = resident(app, client, kelurahan="12.75.01.1001")
    _, centre = resident(app, client, kelurahan="12.75.02.1001")
    _, unknown = resident(app, client)
    created = client.post(
        "/api/v1/broadcasts",
        json={**ANNOUNCEMENT, "audience": "kecamatan", "kecamatan_code": "12.75.01"},
        headers=auth_headers("operator"),
    )
    assert created.status_code == 202
    assert created.json["status"] == "queued"
    record_all(app)
    assert inbox_titles(client, north) == ["Fogging DBD"]
    assert inbox_titles(client, north, "en") == ["Dengue fogging"]
    assert inbox_titles(client, centre) == []
    assert inbox_titles(client, unknown) == []


def test_a_broadcast_to_a_topic_reaches_its_followers(
    app: Flask, client: Any, auth_headers: Any
) -> None:
    _, follower = resident(app, client)
    _, other = resident(app, client)
    client.put(
        "/api/v1/me/notification-preferences",
        json={"muted_kinds": [], "topics": ["kebencanaan"]},
        headers=follower,
    )
    client.post(
        "/api/v1/broadcasts",
        json={**ANNOUNCEMENT, "audience": "topic", "topic": "kebencanaan"},
        headers=auth_headers("operator"),
    )
    record_all(app)
    assert inbox_titles(client, follower) == ["Fogging DBD"]
    assert inbox_titles(client, other) == []


def test_a_broadcast_to_everyone_is_recorded_in_batches_and_pushed(
    app: Flask,
    client: Any,
    auth_headers: Any,
    fake_fcm: FakeFcm,
    sender: FirebaseSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    operator = auth_headers("operator")
    with app.app_context():
        # Accounts made by other tests of this run are recipients too; count them all.
        everyone = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                service.auth_service.active_account_ids_query().subquery()
            )
        )
    residents = [resident(app, client) for _ in range(5)]
    for index, (account, _) in enumerate(residents):
        register_device(app, account.id, DEVICE_TOKEN + f"all-{index}", language="en")
    monkeypatch.setitem(app.config, "BROADCAST_BATCH_SIZE", 2)
    created = client.post(
        "/api/v1/broadcasts", json={**ANNOUNCEMENT, "audience": "all"}, headers=operator
    )
    broadcast_id = uuid.UUID(created.json["id"])
    with app.app_context():
        assert service.record_broadcast_batch(batch_size=2) == 2
        progress = db.session.get(Broadcast, broadcast_id)
        assert (progress.status, progress.recipients_count) == ("queued", 2)
        report = dispatcher.drain(sender)
    assert report.sent == 5
    assert (
        sorted(r["body"]["message"]["notification"]["title"] for r in fake_fcm.requests)
        == ["Dengue fogging"] * 5
    )
    assert {r["body"]["message"]["data"]["kind"] for r in fake_fcm.requests} == {"announcement"}
    assert count(app, Notification, Notification.broadcast_id == broadcast_id) == everyone + 5

    shown = client.get(f"/api/v1/broadcasts/{broadcast_id}", headers=operator).json
    assert shown["status"] == "recorded"
    assert shown["recipients_count"] == everyone + 5
    assert shown["deliveries_count"] == 5
    assert shown["deliveries"] == {"pending": 0, "sent": 5, "failed": 0, "dropped": 0}
    listed = client.get("/api/v1/broadcasts", headers=operator).json
    assert listed[0]["id"] == str(broadcast_id)


def test_a_batch_rolled_back_midway_is_written_again_without_duplicates(
    app: Flask, client: Any, auth_headers: Any
) -> None:
    residents = [resident(app, client, kelurahan="12.75.03.1001") for _ in range(3)]
    created = client.post(
        "/api/v1/broadcasts",
        json={**ANNOUNCEMENT, "audience": "kecamatan", "kecamatan_code": "12.75.03"},
        headers=auth_headers("operator"),
    )
    broadcast_id = uuid.UUID(created.json["id"])

    def crash_before_commit() -> None:
        raise RuntimeError("worker died")

    with app.app_context():
        original_commit = db.session.commit
        db.session.commit = crash_before_commit  # type: ignore[method-assign]
        try:
            with pytest.raises(RuntimeError):
                service.record_broadcast_batch(batch_size=2)
        finally:
            db.session.commit = original_commit  # type: ignore[method-assign]
            db.session.rollback()
    assert count(app, Notification, Notification.broadcast_id == broadcast_id) == 0
    record_all(app)
    for account, _ in residents:
        user = uuid.UUID(account.id)
        assert count(app, Notification, Notification.user_id == user) == 1


def test_broadcasts_are_read_by_operators_only(client: Any, auth_headers: Any, new_id: Any) -> None:
    assert_problem(
        client.get("/api/v1/broadcasts", headers=auth_headers("citizen")), 403, "forbidden"
    )
    missing = client.get(f"/api/v1/broadcasts/{new_id()}", headers=auth_headers("operator"))
    assert_problem(missing, 404, "not_found")
