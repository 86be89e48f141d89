"""Sending pushes: through the firebase-admin SDK, or, without credentials, to the log.

The SDK is used as is (`messaging.send_each`), with two adjustments to its HTTP session:
- its retry adapter is replaced by one that never retries, because the SDK would otherwise
  block on 500/503 with backoff and sleep for a `Retry-After` of any length. The outbox retries
  instead, later, without holding a worker;
- `FCM_ENDPOINT` can point the SDK at a local fake FCM (tests, benchmarks).
"""

from __future__ import annotations

import email.utils
import logging
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import firebase_admin
import requests
from firebase_admin import credentials, exceptions, messaging

log = logging.getLogger(__name__)

FCM_ORIGIN = "https://fcm.googleapis.com"
MAX_MESSAGES_PER_CALL = 500  # the limit of messaging.send_each

SENT = "sent"
INVALID_TOKEN = "invalid_token"
RETRY = "retry"

# The token is gone or was never valid for this project: the device is deleted.
_INVALID_TOKEN_ERRORS: tuple[type[Exception], ...] = (
    messaging.UnregisteredError,
    messaging.SenderIdMismatchError,
    exceptions.InvalidArgumentError,
    exceptions.NotFoundError,
)


@dataclass(frozen=True)
class OutgoingPush:
    delivery_id: uuid.UUID
    token: str
    title: str
    body: str
    data: dict[str, str]
    android_channel: str
    ios_category: str
    high_priority: bool


@dataclass(frozen=True)
class PushResult:
    outcome: str  # SENT, INVALID_TOKEN or RETRY
    message_name: str | None = None
    error: str | None = None
    retry_after_seconds: float | None = None


@dataclass
class SendTimings:
    calls: int = 0
    seconds: float = 0.0


class PushSender(Protocol):
    description: str
    timings: SendTimings

    def send(self, pushes: Sequence[OutgoingPush]) -> list[PushResult]: ...

    def close(self) -> None: ...


class LoggingSender:
    """Without Firebase credentials (development): each push is written to the log, not sent."""

    description = "log only: FIREBASE_CREDENTIALS is not set, pushes are logged, not sent"

    def __init__(self) -> None:
        self.timings = SendTimings()

    def send(self, pushes: Sequence[OutgoingPush]) -> list[PushResult]:
        for push in pushes:
            log.info(
                "push (not sent, no Firebase credentials): delivery=%s kind=%s title=%r",
                push.delivery_id,
                push.data.get("kind"),
                push.title,
            )
        return [PushResult(outcome=SENT) for _ in pushes]

    def close(self) -> None:
        return None


class FcmEndpointAdapter(requests.adapters.HTTPAdapter):
    """The SDK's transport to FCM: by default without its blocking retries, optionally to
    another origin (a local fake FCM)."""

    def __init__(self, endpoint: str | None, *, max_retries: Any = 0) -> None:
        super().__init__(pool_connections=100, pool_maxsize=100, max_retries=max_retries)
        self._endpoint = endpoint.rstrip("/") if endpoint else None

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if self._endpoint and request.url and request.url.startswith(FCM_ORIGIN):
            request.url = self._endpoint + request.url[len(FCM_ORIGIN) :]
        return super().send(request, *args, **kwargs)


class FirebaseSender:
    """Sends through the real firebase-admin SDK with a service account."""

    def __init__(
        self, credentials_path: str, *, endpoint: str | None = None, timeout_seconds: int = 10
    ) -> None:
        certificate = credentials.Certificate(credentials_path)
        self.app = firebase_admin.initialize_app(
            certificate,
            options={"httpTimeout": timeout_seconds},
            name=f"binjai-outbox-{uuid.uuid4()}",
        )
        # The SDK has no public switch for its transport; this private accessor is pinned by the
        # firebase-admin version range in pyproject.toml and covered by tests/notifications.
        service = messaging._get_messaging_service(self.app)
        service._client.session.mount(FCM_ORIGIN, FcmEndpointAdapter(endpoint))
        self.description = f"Firebase project {certificate.project_id}" + (
            f" via {endpoint}" if endpoint else ""
        )
        self.timings = SendTimings()

    def send(self, pushes: Sequence[OutgoingPush]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(pushes), MAX_MESSAGES_PER_CALL):
            chunk = pushes[start : start + MAX_MESSAGES_PER_CALL]
            began = time.perf_counter()
            try:
                batch = messaging.send_each([_message(p) for p in chunk], app=self.app)
            except exceptions.FirebaseError as error:
                results.extend(_result_of_error(error) for _ in chunk)
                continue
            finally:
                self.timings.calls += 1
                self.timings.seconds += time.perf_counter() - began
            for response in batch.responses:
                if response.success:
                    results.append(PushResult(outcome=SENT, message_name=response.message_id))
                else:
                    results.append(_result_of_error(response.exception))
        return results

    def close(self) -> None:
        firebase_admin.delete_app(self.app)


def _message(push: OutgoingPush) -> messaging.Message:
    # firebase-admin 7.7 deprecates `token` in favour of installation ids (`fid`), but the FCM v1
    # API still takes registration tokens, which is what the app registers.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return _build_message(push)


def _build_message(push: OutgoingPush) -> messaging.Message:
    """The push as docs/push-notifications.md describes it. The inbox entry's id is the Android
    notification's tag and the APNs collapse id, so that a push delivered twice (the outbox
    retries after a lost answer) replaces itself on screen instead of showing twice."""
    notification_id = push.data["notification_id"]
    return messaging.Message(
        token=push.token,
        notification=messaging.Notification(title=push.title, body=push.body),
        data=push.data,
        android=messaging.AndroidConfig(
            priority="high" if push.high_priority else "normal",
            notification=messaging.AndroidNotification(
                channel_id=push.android_channel, tag=notification_id
            ),
        ),
        apns=messaging.APNSConfig(
            headers={
                "apns-priority": "10" if push.high_priority else "5",
                "apns-collapse-id": notification_id,
            },
            payload=messaging.APNSPayload(
                aps=messaging.Aps(
                    sound="default", thread_id=push.data.get("kind"), category=push.ios_category
                )
            ),
        ),
    )


def _result_of_error(error: Exception | None) -> PushResult:
    if isinstance(error, _INVALID_TOKEN_ERRORS):
        return PushResult(outcome=INVALID_TOKEN, error=_describe(error))
    retry_after = None
    response = getattr(error, "http_response", None)
    if response is not None:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return PushResult(outcome=RETRY, error=_describe(error), retry_after_seconds=retry_after)


def _describe(error: Exception | None) -> str:
    if error is None:
        return "unknown error"
    code = getattr(error, "code", None)
    name = type(error).__name__
    return (f"{name} ({code}): {error}" if code else f"{name}: {error}")[:200]


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (RFC 9110: delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
