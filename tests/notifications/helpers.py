"""Shared steps of the notification tests."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask

from binjai_api.extensions import db
from binjai_api.notifications import service
from binjai_api.notifications.models import Delivery, Device, Notification

DEVICE_TOKEN = "dGVzdC10b2tlbg:APA91b-test-device-"


def register_device(
    app: Flask, user_id: str, token: str, *, language: str | None = None, platform: str = "android"
) -> None:
    with app.app_context():
        service.register_device(
            user_id=uuid.UUID(user_id), token=token, platform=platform, language=language
        )


def notify_and_commit(app: Flask, user_ids: list[str], kind: str, **kwargs: Any) -> list[str]:
    with app.app_context():
        ids = service.notify(recipients=[uuid.UUID(u) for u in user_ids], kind=kind, **kwargs)
        db.session.commit()
        return [str(notification_id) for notification_id in ids]


def count(app: Flask, model: type[Any], *conditions: Any) -> int:
    with app.app_context():
        return int(
            db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions)) or 0
        )


def deliveries(app: Flask) -> list[dict[str, Any]]:
    """Every outbox row, as plain values."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                Delivery.id,
                Delivery.status,
                Delivery.attempts,
                Delivery.next_attempt_at,
                Delivery.last_error,
                Delivery.device_id,
                Notification.user_id,
                Notification.kind,
            ).join(Notification, Notification.id == Delivery.notification_id)
        )
        return [dict(row._mapping) for row in rows]


def device_exists(app: Flask, token: str) -> bool:
    return count(app, Device, Device.token == token) == 1
