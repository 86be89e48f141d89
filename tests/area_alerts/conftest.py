"""Area alert fixtures: the complaint categories and people (tests/complaints/conftest.py), a
clock for the alert job, and running the outbox worker's job."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.area_alerts import service
from binjai_api.extensions import db
from binjai_api.notifications.models import Notification
from tests.complaints.conftest import (  # noqa: F401  (fixtures)
    categories,
    operator,
    other_resident,
    resident,
)

KELURAHAN = "12.75.02.1001"  # in kecamatan 12.75.02
OTHER_KELURAHAN = "12.75.01.1001"
KECAMATAN = "12.75.02"


class AlertClock:
    """The alert job's clock (the local day the daily cap counts)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 WIB

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def alert_clock(monkeypatch: pytest.MonkeyPatch) -> AlertClock:
    clock = AlertClock()
    monkeypatch.setattr(service, "utcnow", clock)
    return clock


@pytest.fixture
def run_alerts(app: Flask) -> Callable[[], service.AreaAlertReport]:
    def run() -> service.AreaAlertReport:
        with app.app_context():
            return service.run_area_alerts()

    return run


def inbox(app: Flask, user_id: str) -> list[dict[str, Any]]:
    """A user's notifications, oldest first: kind, params and link."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == uuid.UUID(user_id))
            .order_by(Notification.created_at, Notification.id)
        )
        return [
            {
                "kind": n.kind,
                "params": dict(n.params),
                "resource_type": n.resource_type,
                "resource_id": n.resource_id,
            }
            for n in rows
        ]


def area_kinds(app: Flask, user_id: str) -> list[str]:
    return [n["kind"] for n in inbox(app, user_id) if n["kind"].startswith("area_")]
