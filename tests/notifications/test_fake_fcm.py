"""The fake FCM server speaks close enough to Google for the real firebase-admin SDK.

If these pass, push tests that use the fake exercise the SDK's real request encoding, token
grant, error mapping and retry policy; only the network peer is local.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import firebase_admin
import pytest
import requests
from firebase_admin import credentials, exceptions, messaging
from google.auth.exceptions import RefreshError

from tests.fake_fcm import FakeFcm, generate_service_account, redirect_messaging

# firebase-admin 7.7 deprecates Message.token for Message.fid; the v1 API still takes tokens.
pytestmark = pytest.mark.filterwarnings("ignore:Message.token is deprecated:DeprecationWarning")

PROJECT = "binjai-test"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fcm() -> Iterator[FakeFcm]:
    with FakeFcm(project_id=PROJECT) as fake:
        yield fake


def _firebase_app(fcm: FakeFcm, sa_path: Path, **redirect: Any) -> firebase_admin.App:
    fcm.write_service_account(sa_path)
    app = firebase_admin.initialize_app(
        credentials.Certificate(str(sa_path)),
        options={"projectId": PROJECT},
        name=f"fake-fcm-{uuid.uuid4().hex}",
    )
    redirect_messaging(app, fcm.base_url, **redirect)
    return app


@pytest.fixture
def firebase_app(fcm: FakeFcm, tmp_path: Path) -> Iterator[firebase_admin.App]:
    app = _firebase_app(fcm, tmp_path / "sa.json")
    yield app
    firebase_admin.delete_app(app)


@pytest.fixture
def no_retry_app(fcm: FakeFcm, tmp_path: Path) -> Iterator[firebase_admin.App]:
    app = _firebase_app(fcm, tmp_path / "sa.json", max_retries=0)
    yield app
    firebase_admin.delete_app(app)


def _message(token: str, n: int = 0) -> messaging.Message:
    return messaging.Message(
        token=token,
        notification=messaging.Notification(title=f"Antrian {n}", body="Giliran Anda"),
        data={"kind": "queue", "n": str(n)},
    )


def test_send_each_records_exact_v1_bodies(fcm: FakeFcm, firebase_app: firebase_admin.App) -> None:
    tokens = ["tok-a", "tok-b", "tok-c"]
    batch = messaging.send_each([_message(t, i) for i, t in enumerate(tokens)], app=firebase_app)

    assert batch.success_count == 3
    assert all(r.message_id.startswith(f"projects/{PROJECT}/messages/") for r in batch.responses)
    # google-auth does not coalesce refreshes: each concurrent first send may fetch a token.
    assert 1 <= fcm.token_requests <= 3
    assert sorted(fcm.sent_tokens()) == tokens
    assert sorted(fcm.successful_tokens()) == tokens
    bodies = sorted((r["body"] for r in fcm.requests), key=lambda b: b["message"]["token"])
    assert bodies == [
        {
            "message": {
                "token": t,
                "notification": {"title": f"Antrian {i}", "body": "Giliran Anda"},
                "data": {"kind": "queue", "n": str(i)},
            }
        }
        for i, t in enumerate(tokens)
    ]
    for record in fcm.requests:
        assert record["path"] == f"/v1/projects/{PROJECT}/messages:send"
        scheme, _, bearer = record["headers"]["Authorization"].partition(" ")
        assert scheme == "Bearer"
        assert bearer in fcm.issued_tokens


def test_error_answers_map_to_sdk_exceptions(
    fcm: FakeFcm, firebase_app: firebase_admin.App
) -> None:
    fcm.respond("gone", 404, "NOT_FOUND", fcm_error_code="UNREGISTERED")
    fcm.respond("busy", 429)
    fcm.respond("bad", 400)
    batch = messaging.send_each(
        [_message("ok"), _message("gone"), _message("busy"), _message("bad")], app=firebase_app
    )

    ok, gone, busy, bad = batch.responses
    assert ok.success and batch.success_count == 1
    assert isinstance(gone.exception, messaging.UnregisteredError)
    assert isinstance(busy.exception, messaging.QuotaExceededError)
    assert isinstance(bad.exception, exceptions.InvalidArgumentError)
    assert busy.exception.http_response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert fcm.successful_tokens() == ["ok"]


def test_unavailable_without_retries_returns_retry_after(
    fcm: FakeFcm, no_retry_app: firebase_admin.App
) -> None:
    fcm.respond("flaky", 503, retry_after=7)
    batch = messaging.send_each([_message("flaky")], app=no_retry_app)

    error = batch.responses[0].exception
    assert isinstance(error, exceptions.UnavailableError)
    assert error.http_response.headers["Retry-After"] == "7"
    assert fcm.sent_tokens() == ["flaky"]


def test_times_limits_a_rule_and_sdk_retries_503(
    fcm: FakeFcm, firebase_app: firebase_admin.App
) -> None:
    # The SDK's own adapter retries 503 with backoff: one failure, then the retry succeeds.
    fcm.respond("once", 503, times=1)
    batch = messaging.send_each([_message("once")], app=firebase_app)

    assert batch.success_count == 1
    assert fcm.sent_tokens() == ["once", "once"]
    assert fcm.successful_tokens() == ["once"]


def test_expired_access_token_is_refreshed_by_sdk(
    fcm: FakeFcm, firebase_app: firebase_admin.App
) -> None:
    messaging.send_each([_message("first")], app=firebase_app)
    fcm.expire_tokens()
    batch = messaging.send_each([_message("second")], app=firebase_app)

    assert batch.success_count == 1
    assert fcm.token_requests == 2
    assert fcm.sent_tokens() == ["first", "second"]  # the 401 is not recorded as a send


def test_fid_target_is_a_device_too(fcm: FakeFcm, firebase_app: firebase_admin.App) -> None:
    fcm.respond("fid-1", 404)
    batch = messaging.send_each([messaging.Message(fid="fid-1")], app=firebase_app)

    assert isinstance(batch.responses[0].exception, messaging.UnregisteredError)
    assert fcm.requests[0]["body"] == {"message": {"fid": "fid-1"}}
    assert fcm.sent_tokens() == ["fid-1"]


def test_on_send_hook_sees_each_request(fcm: FakeFcm, firebase_app: firebase_admin.App) -> None:
    seen: list[str] = []
    fcm.on_send = lambda record: seen.append(record["body"]["message"]["token"])
    messaging.send_each([_message("x"), _message("y")], app=firebase_app)

    assert sorted(seen) == ["x", "y"]


def test_token_endpoint_rejects_unknown_signer(fcm: FakeFcm, tmp_path: Path) -> None:
    info = generate_service_account(tmp_path / "stranger.json", token_uri=fcm.token_uri)
    app = firebase_admin.initialize_app(
        credentials.Certificate(str(tmp_path / "stranger.json")),
        options={"projectId": PROJECT},
        name=f"stranger-{uuid.uuid4().hex}",
    )
    try:
        redirect_messaging(app, fcm.base_url)
        # The SDK lets a refused grant escape as google-auth's RefreshError, not a FirebaseError.
        with pytest.raises(RefreshError, match="invalid_grant"):
            messaging.send(_message("z"), app=app)
        assert fcm.token_requests == 1
        assert fcm.sent_tokens() == []
        fcm.trust(info)
        assert messaging.send(_message("z"), app=app).startswith("projects/")
    finally:
        firebase_admin.delete_app(app)


def test_unknown_path_is_404_json(fcm: FakeFcm) -> None:
    response = requests.get(fcm.base_url + "/nope", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_runs_as_a_separate_process(tmp_path: Path) -> None:
    sa_path = tmp_path / "sa.json"
    command = [sys.executable, "-m", "tests.fake_fcm", "--port", "0", "--project", "binjai-bench"]
    proc = subprocess.Popen(
        [*command, "--service-account", str(sa_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        where = json.loads(proc.stdout.readline())
        assert json.loads(sa_path.read_text())["token_uri"] == where["token_uri"]
        app = firebase_admin.initialize_app(
            credentials.Certificate(str(sa_path)),
            options={"projectId": "binjai-bench"},
            name=f"bench-{uuid.uuid4().hex}",
        )
        try:
            redirect_messaging(app, where["base_url"])
            batch = messaging.send_each([_message(f"t{i}") for i in range(5)], app=app)
            assert batch.success_count == 5
        finally:
            firebase_admin.delete_app(app)
        stats = requests.get(where["base_url"] + "/_fake/stats", timeout=5).json()
        assert stats["message_count"] == 5
        assert stats["recorded"] == 0
        assert 1 <= stats["token_requests"] <= 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)
