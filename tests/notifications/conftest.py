"""A fake FCM on 127.0.0.1 and the real firebase-admin SDK pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from binjai_api.notifications.fcm import FirebaseSender
from tests.fake_fcm import FakeFcm


@pytest.fixture(scope="module")
def _fcm_server() -> Iterator[FakeFcm]:
    with FakeFcm(project_id="binjai-test") as server:
        yield server


@pytest.fixture
def fake_fcm(_fcm_server: FakeFcm) -> Iterator[FakeFcm]:
    _fcm_server.reset()
    yield _fcm_server
    _fcm_server.reset()


@pytest.fixture
def service_account(fake_fcm: FakeFcm, tmp_path: Path) -> Path:
    """A freshly generated service account whose token endpoint is the fake's."""
    path = tmp_path / "service-account.json"
    fake_fcm.write_service_account(path)
    return path


@pytest.fixture
def sender(fake_fcm: FakeFcm, service_account: Path) -> Iterator[FirebaseSender]:
    """The production sender: real SDK, real HTTP, to the fake FCM."""
    firebase = FirebaseSender(str(service_account), endpoint=fake_fcm.base_url, timeout_seconds=5)
    yield firebase
    firebase.close()
