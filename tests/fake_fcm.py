"""A local fake of Google's FCM HTTP v1 API and OAuth2 token endpoint.

Tests and the push benchmark drive the REAL firebase-admin SDK against it, so what is exercised
is the SDK's own request encoding, token refresh, error mapping and retries, only the network
peer is fake. The fake answers like Google does: the JWT-bearer grant is verified against the
service account's public key, sends need a bearer token the fake issued, and error bodies use
Google's format with an FcmError detail, so the SDK raises its real exception classes.

In process::

    with FakeFcm(project_id="binjai-test") as fcm:
        info = fcm.write_service_account(tmp_path / "sa.json")
        app = firebase_admin.initialize_app(credentials.Certificate(...), name="x")
        redirect_messaging(app, fcm.base_url)
        fcm.respond("dead-token", 404)  # UNREGISTERED

As a separate process (for the benchmark; keeps only counters, see GET /_fake/stats)::

    python -m tests.fake_fcm --port 0 --project binjai-bench --service-account /tmp/sa.json
    -> {"base_url": "http://127.0.0.1:PORT", "token_uri": "http://127.0.0.1:PORT/token"}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
ACCEPTED_SCOPES = ("firebase.messaging", "cloud-platform")

# Per HTTP status: Google's canonical status, the FcmError errorCode and the message FCM sends.
_ERROR_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: (
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    401: ("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "Auth error from APNS or Web Push Service"),
    403: (
        "PERMISSION_DENIED",
        "SENDER_ID_MISMATCH",
        "SenderId mismatch",
    ),
    404: ("NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    429: (
        "RESOURCE_EXHAUSTED",
        "QUOTA_EXCEEDED",
        "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'.",
    ),
    500: ("INTERNAL", "INTERNAL", "Internal error encountered."),
    503: ("UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."),
}

_SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")


def generate_service_account(
    path: Path, *, token_uri: str, project_id: str = "binjai-test"
) -> dict[str, Any]:
    """Write a fresh service-account JSON file, so no real Google key is ever needed.

    The file is what `firebase_admin.credentials.Certificate(path)` expects. The returned dict
    holds the private key, from which `FakeFcm.trust` derives the public key it verifies with.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode()
    client_email = f"binjai-push@{project_id}.iam.gserviceaccount.com"
    info: dict[str, Any] = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": client_email,
        "client_id": str(secrets.randbelow(10**21)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": (
            "https://www.googleapis.com/robot/v1/metadata/x509/" + client_email.replace("@", "%40")
        ),
        "universe_domain": "googleapis.com",
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    path.chmod(0o600)
    return info


def google_error(
    status: int,
    error_status: str | None = None,
    *,
    fcm_error_code: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """Build a Google API error body, the shape the SDK parses into its exception classes."""
    default_status, default_code, default_message = _ERROR_DEFAULTS.get(
        status, ("UNKNOWN", None, "Unknown error.")
    )
    error: dict[str, Any] = {
        "code": status,
        "message": message or default_message,
        "status": error_status or default_status,
    }
    code = fcm_error_code or default_code
    if code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": code}]
    return {"error": error}


@dataclass
class _Rule:
    status: int
    error_status: str | None
    fcm_error_code: str | None
    retry_after: int | None
    remaining: int | None  # None = always


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    fake: FakeFcm


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY each keep-alive response
    # would wait on the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the fake fast and the test output clean: no per-request logging."""

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _write(self, answer: _Answer) -> None:
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        fake = self.server.fake
        if path == "/token":
            answer = fake._token(body)
        elif path in ("/_fake/outage", "/_fake/latency"):
            answer = fake._control(path, body)
        elif match := _SEND_PATH.match(path):
            answer = fake._send(self, match["project"], body)
        else:
            answer = _not_found()
        self._write(answer)

    def do_GET(self) -> None:
        self._read_body()
        path = self.path.split("?", 1)[0]
        fake = self.server.fake
        if path == "/_fake/stats":
            self._write(_Answer(200, fake.stats(), {}))
        elif path == "/_fake/delivered":
            with fake._lock:
                rows = [[n, t, count] for (n, t), count in fake.delivered.items()]
            self._write(_Answer(200, {"delivered": rows}, {}))
        else:
            self._write(_not_found())

    def _unknown(self) -> None:
        self._read_body()
        self._write(_not_found())

    do_PUT = do_PATCH = do_DELETE = _unknown


def _not_found() -> _Answer:
    return _Answer(404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}, {})


class FakeFcm:
    """FCM HTTP v1 + OAuth2 token endpoint on 127.0.0.1, for driving the real SDK offline.

    Behaviour hooks: `respond(token, status, ...)` per registration token, and `on_send`, a
    callable run with each recorded send request before it is answered (runs on the server's
    handler thread; if it raises, that request is answered 500 INTERNAL).
    """

    def __init__(
        self,
        project_id: str = "binjai-test",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.project_id = project_id
        self.record = record
        self.latency = latency
        self.on_send: Callable[[dict[str, Any]], None] | None = None
        self.requests: list[dict[str, Any]] = []
        self.token_requests = 0
        self.message_count = 0
        self.issued_tokens: set[str] = set()
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._rules: dict[str, deque[_Rule]] = {}
        self._message_ids = 0
        self._keys: dict[str, Any] = {}  # client_email -> RSA public key
        self._connections: set[socket.socket] = set()
        # Successful sends per (data.notification_id, device), kept even when `record` is off,
        # so that an out-of-process run can check that each push arrived exactly once.
        self.delivered: Counter[tuple[str, str]] = Counter()
        self._outage_until = 0.0  # time.monotonic() until which every send answers 503
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeFcm:
        """Bind an ephemeral port and serve on a daemon thread."""
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-fcm-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections, so no handler thread lingers."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeFcm:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeFcm is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    # -- service accounts --------------------------------------------------------------------

    def trust(self, info: dict[str, Any]) -> None:
        """Accept token grants signed by this account (a `generate_service_account` dict)."""
        private_key = serialization.load_pem_private_key(info["private_key"].encode(), None)
        with self._lock:
            self._keys[info["client_email"]] = private_key.public_key()

    def write_service_account(self, path: Path) -> dict[str, Any]:
        """Generate a service-account file pointing at this fake's token endpoint, and trust it."""
        info = generate_service_account(path, token_uri=self.token_uri, project_id=self.project_id)
        self.trust(info)
        return info

    # -- behaviour ---------------------------------------------------------------------------

    def respond(
        self,
        token: str,
        status: int,
        error_status: str | None = None,
        *,
        fcm_error_code: str | None = None,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """Make sends to `token` get this answer, to script FCM failures per device.

        `token` matches message.token or message.fid. `times=None` replaces every earlier rule
        for the token and applies to all later sends; `times=N` queues a rule for the next N
        sends. Queued rules are used in order, then sends succeed again, so
        `respond(t, 503, times=2); respond(t, 429, times=1)` answers 503, 503, 429, 200, ...
        Status 200 means a normal success. `error_status` and `fcm_error_code` default from the
        status (404 -> NOT_FOUND/UNREGISTERED, 429 -> RESOURCE_EXHAUSTED/QUOTA_EXCEEDED,
        400 -> INVALID_ARGUMENT/INVALID_ARGUMENT, 500 -> INTERNAL, 503 -> UNAVAILABLE).
        """
        rule = _Rule(status, error_status, fcm_error_code, retry_after, times)
        with self._lock:
            if times is None:
                self._rules[token] = deque([rule])
            elif times > 0:
                self._rules.setdefault(token, deque()).append(rule)

    def start_outage(self, seconds: float) -> None:
        """Answer every send 503 UNAVAILABLE for `seconds`, as FCM does in an outage."""
        with self._lock:
            self._outage_until = time.monotonic() + seconds

    def set_latency(self, seconds: float) -> None:
        """Delay every send answer by `seconds` from now on (0: answer at once)."""
        self.latency = seconds

    def expire_tokens(self) -> None:
        """Forget issued access tokens, so the next send gets 401 and the SDK must refresh."""
        with self._lock:
            self.issued_tokens.clear()

    def reset(self) -> None:
        """Forget recorded requests, counters and rules; issued tokens and keys stay valid."""
        with self._lock:
            self.requests.clear()
            self._rules.clear()
            self.token_requests = 0
            self.message_count = 0
            self.delivered.clear()
            self._outage_until = 0.0
        self.on_send = None

    # -- accessors ---------------------------------------------------------------------------

    def sent_tokens(self) -> list[str]:
        """message.token (or .fid) of every recorded send, in arrival order, failures included.

        Sends to a topic or condition have no device and are left out; so are 401s (unrecorded).
        """
        with self._lock:
            records = list(self.requests)
        return [t for r in records if (t := _message_token(r)) is not None]

    def successful_tokens(self) -> list[str]:
        """message.token (or .fid) of the recorded sends that were answered 200."""
        with self._lock:
            records = list(self.requests)
        return [
            t for r in records if r.get("status") == 200 and (t := _message_token(r)) is not None
        ]

    def stats(self) -> dict[str, int]:
        """Counters, also served at GET /_fake/stats for the out-of-process benchmark."""
        with self._lock:
            return {
                "message_count": self.message_count,
                "token_requests": self.token_requests,
                "recorded": len(self.requests),
            }

    # -- request handling (called on handler threads) ----------------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _token(self, raw: bytes) -> _Answer:
        with self._lock:
            self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return _Answer(400, {"error": "unsupported_grant_type"}, {})
        problem = self._check_assertion(form.get("assertion", ""))
        if problem:
            return _Answer(400, {"error": "invalid_grant", "error_description": problem}, {})
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        with self._lock:
            self.issued_tokens.add(token)
        body = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        return _Answer(200, body, {"Cache-Control": "no-store"})

    def _check_assertion(self, assertion: str) -> str | None:
        """Return why the JWT-bearer assertion is unacceptable, or None if it is good."""
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            return f"Malformed assertion: {exc}"
        issuer = claims.get("iss")
        with self._lock:
            key = self._keys.get(issuer) if isinstance(issuer, str) else None
        if key is None:
            return "Invalid JWT: iss is not a known service account."
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "iat", "iss"]},
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            return f"Invalid JWT Signature: {exc}"
        # google-auth sends Google's own endpoint as aud even when token_uri points elsewhere.
        if claims.get("aud") not in (GOOGLE_TOKEN_URI, self.token_uri):
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        scopes = str(claims.get("scope", "")).split()
        if not any(s.endswith(suffix) for s in scopes for suffix in ACCEPTED_SCOPES):
            return "Invalid OAuth scope or ID token audience provided."
        return None

    def _send(self, handler: _Handler, project: str, raw: bytes) -> _Answer:
        auth = handler.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        with self._lock:
            authorized = scheme.lower() == "bearer" and token in self.issued_tokens
        if not authorized:
            body = {
                "error": {
                    "code": 401,
                    "message": (
                        "Request had invalid authentication credentials. Expected OAuth 2 access"
                        " token, login cookie or other valid authentication credential."
                    ),
                    "status": "UNAUTHENTICATED",
                }
            }
            return _Answer(
                401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
            )
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = None
        record: dict[str, Any] = {
            "path": handler.path,
            # Canonical Title-Case names ("Authorization", "X-Goog-Api-Client"): clients differ
            # in the case they send, and tests should not have to care.
            "headers": {k.title(): v for k, v in handler.headers.items()},
            "body": parsed,
        }
        answer = self._decide(project, parsed)
        record["status"] = answer.status
        with self._lock:
            self.message_count += 1
            if self.record:
                self.requests.append(record)
        hook = self.on_send
        if hook is not None:
            try:
                hook(record)
            except Exception:
                answer = _Answer(500, google_error(500), {})
                record["status"] = 500
        if self.latency:
            time.sleep(self.latency)
        return answer

    def _control(self, path: str, raw: bytes) -> _Answer:
        """Fault injection for out-of-process runs: {"seconds": S} or {"ms": M}."""
        try:
            value = float(json.loads(raw)["seconds" if path.endswith("outage") else "ms"])
        except (ValueError, KeyError, TypeError):
            return _Answer(400, {"error": 'expected {"seconds": S} or {"ms": M}'}, {})
        if path.endswith("outage"):
            self.start_outage(value)
        else:
            self.set_latency(value / 1000)
        return _Answer(200, {"ok": True}, {})

    def _decide(self, project: str, parsed: Any) -> _Answer:
        if project != self.project_id:
            denied = (
                f"Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            )
            body = {"error": {"code": 403, "message": denied, "status": "PERMISSION_DENIED"}}
            return _Answer(403, body, {})
        message = parsed.get("message") if isinstance(parsed, dict) else None
        if not isinstance(message, dict):
            body = google_error(400, message="Invalid JSON payload received.")
            del body["error"]["details"]
            return _Answer(400, body, {})
        targets = [k for k in ("token", "fid", "topic", "condition") if message.get(k)]
        if len(targets) != 1:
            body = google_error(
                400, message="Exactly one of fid, token, topic or condition must be specified."
            )
            return _Answer(400, body, {})
        device = message.get("token") or message.get("fid")
        with self._lock:
            in_outage = time.monotonic() < self._outage_until
        if in_outage:
            return _Answer(503, google_error(503), {})
        rule = self._take_rule(device) if isinstance(device, str) else None
        if rule is not None and rule.status != 200:
            headers = {}
            if rule.retry_after is not None:
                headers["Retry-After"] = str(rule.retry_after)
            body = google_error(rule.status, rule.error_status, fcm_error_code=rule.fcm_error_code)
            return _Answer(rule.status, body, headers)
        if parsed.get("validate_only"):
            return _Answer(200, {"name": f"projects/{project}/messages/fake_message_id"}, {})
        data = message.get("data")
        notification_id = data.get("notification_id") if isinstance(data, dict) else None
        with self._lock:
            self._message_ids += 1
            name = f"projects/{project}/messages/{self._message_ids}"
            if isinstance(device, str):
                self.delivered[(str(notification_id), device)] += 1
        return _Answer(200, {"name": name}, {})

    def _take_rule(self, token: str) -> _Rule | None:
        with self._lock:
            queue = self._rules.get(token)
            if not queue:
                return None
            rule = queue[0]
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    queue.popleft()
                    if not queue:
                        del self._rules[token]
            return rule


def _message_token(record: dict[str, Any]) -> str | None:
    """The device a recorded send addressed: message.token, or message.fid (firebase-admin 7.7
    deprecates Message.token in favour of the Firebase installation ID)."""
    body = record.get("body")
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        return None
    device = message.get("token") or message.get("fid")
    return device if isinstance(device, str) else None


def redirect_messaging(app: Any, base_url: str, *, max_retries: Any = None) -> None:
    """Point a firebase_admin app's (sync) messaging calls at a fake FCM at `base_url`, through
    the same adapter the outbox uses in production (binjai_api.notifications.fcm).

    `max_retries=None` keeps the SDK's own retry policy (500/503 retried with backoff, and
    429/503 with a Retry-After header retried after sleeping that long); pass 0 to see every
    answer at once. The async client (`send_each_async`) is not redirected.
    """
    from firebase_admin import _http_client, messaging

    from binjai_api.notifications.fcm import FCM_ORIGIN, FcmEndpointAdapter

    service = messaging._get_messaging_service(app)
    retries = _http_client.DEFAULT_RETRY_CONFIG if max_retries is None else max_retries
    service._client.session.mount(FCM_ORIGIN, FcmEndpointAdapter(base_url, max_retries=retries))


def main(argv: list[str] | None = None) -> int:
    """Serve the fake in its own process until killed, printing where it listens."""
    parser = argparse.ArgumentParser(prog="python -m tests.fake_fcm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--project", default="binjai-bench")
    parser.add_argument("--service-account", type=Path, required=True)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to every send answer"
    )
    args = parser.parse_args(argv)

    fake = FakeFcm(
        args.project, host=args.host, port=args.port, record=False, latency=args.latency_ms / 1000
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake.start()
    try:
        fake.write_service_account(args.service_account)
        print(json.dumps({"base_url": fake.base_url, "token_uri": fake.token_uri}), flush=True)
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
