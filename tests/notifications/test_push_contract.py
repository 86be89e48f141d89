"""The push contract: docs/push-notifications.md agrees with kinds.py, every kind has a channel,
a category and a deep link, and the FCM message carries them (real SDK, fake FCM)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from binjai_api.notifications import dispatcher, kinds, push_contract, service
from binjai_api.notifications.fcm import FirebaseSender
from tests import factories
from tests.fake_fcm import FakeFcm
from tests.notifications.helpers import DEVICE_TOKEN, notify_and_commit, register_device

pytestmark = pytest.mark.usefixtures("rollback_db")


def test_the_document_is_the_tables_of_kinds_py(app: Flask) -> None:
    document = push_contract.DOC_PATH.read_text(encoding="utf-8")
    with app.app_context():
        expected = push_contract.render_tables()
    assert push_contract.generated_part(document) == expected, (
        "docs/push-notifications.md is out of date: run "
        ".venv/bin/python -m binjai_api.notifications.push_contract --write"
    )
    for kind in kinds.KINDS:
        assert f"`{kind}`" in document


def test_every_kind_has_a_channel_a_category_and_a_deep_link() -> None:
    categories = [channel.ios_category for channel in kinds.CHANNELS.values()]
    assert len(set(categories)) == len(categories)
    for kind in kinds.KINDS.values():
        assert kind.android_channel in kinds.CHANNELS, kind.code
        assert kind.ios_category == kinds.CHANNELS[kind.android_channel].ios_category
        assert kind.deep_link_template.startswith("binjai://"), kind.code


def test_a_link_that_is_not_the_kinds_screen_is_refused(app: Flask) -> None:
    account = factories.make_account(app, "citizen")
    with app.app_context():
        with pytest.raises(ValueError, match="complaints"):
            service.notify(
                recipients=[uuid.UUID(account.id)],
                kind=kinds.COMPLAINT_CLOSED,
                params={"tracking_number": "BJI-1", "title": "x"},
                link=service.Link("queue-bookings", str(uuid.uuid4())),
            )
        with pytest.raises(ValueError, match="inbox entry"):
            service.notify(
                recipients=[uuid.UUID(account.id)],
                kind=kinds.PASSWORD_CHANGED,
                link=service.Link("accounts", account.id),
            )


def test_the_push_carries_channel_category_deep_link_and_its_dedup_id(
    app: Flask, fake_fcm: FakeFcm, sender: FirebaseSender
) -> None:
    account = factories.make_account(app, "citizen")
    register_device(app, account.id, DEVICE_TOKEN + "contract-a", platform="android")
    register_device(app, account.id, DEVICE_TOKEN + "contract-b", platform="ios")
    booking_id = str(uuid.uuid4())
    [notification_id] = notify_and_commit(
        app,
        [account.id],
        kinds.QUEUE_CALLED,
        params={"number": "12", "service": "Poli Umum"},
        link=service.Link("queue-bookings", booking_id),
    )
    with app.app_context():
        dispatcher.drain(sender)
    messages: list[dict[str, Any]] = [r["body"]["message"] for r in fake_fcm.requests]
    assert len(messages) == 2
    for message in messages:
        assert set(message["data"]) == set(push_contract.PUSH_DATA_KEYS)
        assert message["data"]["link"] == f"binjai://queue-bookings/{booking_id}"
        assert message["data"]["notification_id"] == notification_id
        assert message["android"]["notification"] == {
            "channel_id": "antrean",
            "tag": notification_id,
        }
        assert message["android"]["priority"] == "high"
        assert message["apns"]["headers"]["apns-collapse-id"] == notification_id
        assert message["apns"]["payload"]["aps"]["category"] == "QUEUE"
