"""Mobile users for the cluster load test: residents on flaky networks, and a BCC operator.

Each user is a thread with its own client address (sent as X-Forwarded-For, which the cluster
trusts from one proxy hop: the load generator plays the reverse proxy) and its own HTTP session.
`Balancer` spreads requests over the web instances like a round-robin load balancer that takes an
instance out for a moment when it refuses connections. Clients behave like the app: a request
that got no answer, a 503 or a 409 `idempotency_in_flight` is retried after `Retry-After`, with
the same `Idempotency-Key`, until it gets a definite answer or the client gives up.
"""

from __future__ import annotations

import io
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests
from PIL import Image

from load_checks import Attempt, LogoutProbe

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 20.0
GIVE_UP_AFTER_S = 90.0  # a resident retries a submission this long before giving up
RETRY_AFTER_CAP_S = 3.0
MARKED_DOWN_S = 2.0
PASSWORD = "Warga-Binjai-Sehat-2026"
OPERATOR = ("operator@demo.binjaikota.go.id", "Demo-Operator-2026")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MAX_COMPLAINTS_PER_USER = 6  # COMPLAINT_SUBMIT_RATE_LIMIT is 20 per hour
MAX_ACTIVE_BOOKINGS = 3  # QUEUE_MAX_ACTIVE_BOOKINGS


def jpeg(seed: int) -> bytes:
    """A small real JPEG (the API decodes photos to strip EXIF), different per seed."""
    image = Image.new("RGB", (64, 48), ((seed * 37) % 256, (seed * 91) % 256, 120))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class Recorder:
    """Every attempt of every client, and what the API accepted, for the report and the checks."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.attempts: list[Attempt] = []
        self.accepted: dict[str, set[str]] = {}
        self.unanswered: dict[str, int] = {}
        self.submitted_applications: set[str] = set()
        self.user_ids: set[str] = set()
        self.niks: set[str] = set()  # every NIK a registration was tried with
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.started

    def attempt(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def accept(self, kind: str, resource_id: str) -> None:
        with self._lock:
            self.accepted.setdefault(kind, set()).add(resource_id)

    def give_up(self, kind: str) -> None:
        with self._lock:
            self.unanswered[kind] = self.unanswered.get(kind, 0) + 1


class Balancer:
    """Round robin over the live instances; an instance that refuses is skipped for a moment."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._down_until = [0.0] * len(ports)
        self._next = itertools.count()
        self._lock = threading.Lock()

    def pick(self) -> int:
        now = time.monotonic()
        with self._lock:
            for _ in range(len(self.ports)):
                index = next(self._next) % len(self.ports)
                if self._down_until[index] <= now:
                    return index
            return next(self._next) % len(self.ports)

    def mark_down(self, index: int) -> None:
        with self._lock:
            self._down_until[index] = time.monotonic() + MARKED_DOWN_S

    def url(self, index: int, path: str) -> str:
        return f"http://{HOST}:{self.ports[index]}{path}"


@dataclass
class Catalogue:
    """What the users pick from, read once from the API."""

    category_ids: list[str]
    kelurahan_codes: list[str]
    sessions: list[tuple[str, str, str]]  # (facility id, service id, ISO date)
    permit_type_id: str


class Client:
    """One person's HTTP session, with the app's retry behaviour."""

    def __init__(self, name: str, balancer: Balancer, recorder: Recorder, address: str) -> None:
        self.name = name
        self.balancer = balancer
        self.recorder = recorder
        self.session = requests.Session()
        self.address = address
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    def call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        auth: bool = True,
        key: str | None = None,
        retry: bool = True,
        instance: int | None = None,
        token: str | None = None,
    ) -> requests.Response | None:
        """One logical request; None when no definite answer came within GIVE_UP_AFTER_S.

        Retried (same Idempotency-Key) after no answer, 503 and 409 `idempotency_in_flight`
        when `retry`; a GET is always safe to retry. `instance` pins the request to one instance.
        """
        give_up_at = time.monotonic() + GIVE_UP_AFTER_S
        headers = {"X-Forwarded-For": self.address, "Accept-Language": "id"}
        if key:
            headers["Idempotency-Key"] = key
        while True:
            index = self.balancer.pick() if instance is None else instance
            bearer = token or (self.access_token if auth else None)
            if bearer:
                headers["Authorization"] = f"Bearer {bearer}"
            started = self.recorder.now()
            began = time.perf_counter()
            try:
                response = self.session.request(
                    method,
                    self.balancer.url(index, path),
                    json=json,
                    files=files,
                    data=data,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT_S,
                )
            except requests.RequestException:
                elapsed = (time.perf_counter() - began) * 1000
                self.recorder.attempt(Attempt(endpoint, index, None, started, elapsed))
                self.balancer.mark_down(index)
                if not retry or instance is not None or time.monotonic() > give_up_at:
                    return None
                time.sleep(0.2)
                continue
            elapsed = (time.perf_counter() - began) * 1000
            retry_after = response.headers.get("Retry-After")
            self.recorder.attempt(
                Attempt(endpoint, index, response.status_code, started, elapsed, retry_after)
            )
            again = response.status_code == 503 or (
                response.status_code == 409 and _code(response) == "idempotency_in_flight"
            )
            if again and retry and time.monotonic() < give_up_at:
                time.sleep(min(float(retry_after or 1), RETRY_AFTER_CAP_S))
                continue
            if again:
                return None
            return response

    def log_in(self, username: str, password: str) -> bool:
        response = self.call(
            "POST /auth/login",
            "POST",
            "/api/v1/auth/login",
            json={"username": username, "password": password},
            auth=False,
        )
        if response is None or response.status_code != 200:
            return False
        self._take_tokens(response.json())
        return True

    def refresh(self) -> bool:
        # Not retried: a refresh token is spent by its first use, so a lost answer means
        # logging in again, which is what the app does.
        response = self.call(
            "POST /auth/refresh",
            "POST",
            "/api/v1/auth/refresh",
            json={"refresh_token": self.refresh_token},
            auth=False,
            retry=False,
        )
        if response is None or response.status_code != 200:
            return False
        self._take_tokens(response.json())
        return True

    def _take_tokens(self, body: dict[str, Any]) -> None:
        self.access_token = body["access_token"]
        self.refresh_token = body["refresh_token"]


def _code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@dataclass
class Resident:
    """A resident of Binjai using the app for the length of the run."""

    number: int
    client: Client
    catalogue: Catalogue
    stop: threading.Event
    rng: random.Random = field(default_factory=random.Random)
    user_id: str | None = None
    complaints: list[str] = field(default_factory=list)
    bookings: list[tuple[str, tuple[str, str, str]]] = field(default_factory=list)
    booked_days: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def nik(self) -> str:
        # Kota Binjai (12 75), a birth date in 1990, a serial per resident: a plausible NIK.
        day = 1 + self.number % 28
        return f"127501{day:02d}0{1 + self.number % 9}90{1 + self.number:04d}"

    @property
    def phone(self) -> str:
        return f"0813{70000000 + self.number:08d}"

    def run(self) -> None:
        if not self.register() or not self.client.log_in(self.phone, PASSWORD):
            return
        self.register_device()
        actions: list[tuple[Callable[[], None], int]] = [
            (self.read_feed, 15),
            (self.read_my_complaints, 10),
            (self.read_inbox, 15),
            (self.submit_complaint, 6),
            (self.book_queue, 6),
            (self.poll_booking, 12),
            (self.apply_for_permit, 3),
            (self.refresh_tokens, 4),
        ]
        choices = [a for a, _ in actions]
        weights = [w for _, w in actions]
        while not self.stop.is_set():
            self.rng.choices(choices, weights)[0]()
            self.stop.wait(self.rng.uniform(0.3, 1.2))  # reading the screen

    # -- account ------------------------------------------------------------------------------

    def register(self) -> bool:
        key = str(uuid.uuid4())
        self.client.recorder.niks.add(self.nik)
        response = self.client.call(
            "POST /auth/register",
            "POST",
            "/api/v1/auth/register",
            json={
                "full_name": f"Warga Uji Beban {self.number}",
                "nik": self.nik,
                "phone": self.phone,
                "password": PASSWORD,
            },
            auth=False,
            key=key,
        )
        if response is None:
            self.client.recorder.give_up("accounts")
            return False
        if response.status_code != 201:
            return False
        self.user_id = str(response.json()["id"])
        self.client.recorder.accept("accounts", self.user_id)
        self.client.recorder.user_ids.add(self.user_id)
        return True

    def register_device(self) -> None:
        response = self.client.call(
            "POST /devices",
            "POST",
            "/api/v1/devices",
            json={"token": f"load-{self.number}:{uuid.uuid4().hex}", "platform": "android"},
            key=str(uuid.uuid4()),
        )
        self._accepted("devices", response)

    def refresh_tokens(self) -> None:
        if not self.client.refresh():
            self.client.log_in(self.phone, PASSWORD)

    # -- complaints ---------------------------------------------------------------------------

    def read_feed(self) -> None:
        self.client.call(
            "GET /public/complaints", "GET", "/api/v1/public/complaints?per_page=20", auth=False
        )

    def read_my_complaints(self) -> None:
        self._authed("GET /complaints/mine", "GET", "/api/v1/complaints/mine")
        if self.complaints:
            complaint = self.rng.choice(self.complaints)
            self._authed("GET /complaints/{id}", "GET", f"/api/v1/complaints/{complaint}")

    def submit_complaint(self) -> None:
        if len(self.complaints) >= MAX_COMPLAINTS_PER_USER:
            return self.read_my_complaints()
        catalogue = self.catalogue
        response = self._authed(
            "POST /complaints",
            "POST",
            "/api/v1/complaints",
            json={
                "type": "complaint",
                "category_id": self.rng.choice(catalogue.category_ids),
                "title": f"Lampu jalan padam di gang {self.rng.randint(1, 99)}",
                "description": "Sudah tiga malam gelap, rawan bagi warga yang pulang kerja.",
                "kelurahan_code": self.rng.choice(catalogue.kelurahan_codes),
                "lat": round(self.rng.uniform(3.57, 3.64), 5),
                "lon": round(self.rng.uniform(98.46, 98.52), 5),
                "privacy": "public",
            },
            key=str(uuid.uuid4()),
        )
        complaint_id = self._accepted("complaints", response)
        if complaint_id is None:
            return None
        self.complaints.append(complaint_id)
        photo = self._authed(
            "POST /complaints/{id}/photos",
            "POST",
            f"/api/v1/complaints/{complaint_id}/photos",
            files={"file": ("lampu.jpg", jpeg(self.number + len(self.complaints)), "image/jpeg")},
            key=str(uuid.uuid4()),
        )
        self._accepted("complaint photos", photo)
        return None

    # -- health queue -------------------------------------------------------------------------

    def book_queue(self) -> None:
        if len(self.bookings) >= MAX_ACTIVE_BOOKINGS:
            booking, session = self.bookings.pop(0)
            self.booked_days.discard(session)
            self._authed(
                "POST /queue-bookings/{id}/cancel",
                "POST",
                f"/api/v1/queue-bookings/{booking}/cancel",
            )
        choices = [s for s in self.catalogue.sessions if s not in self.booked_days]
        if not choices:
            return
        facility_id, service_id, day = self.rng.choice(choices)
        response = self._authed(
            "POST /queue-bookings",
            "POST",
            "/api/v1/queue-bookings",
            json={"facility_id": facility_id, "service_id": service_id, "date": day},
            key=str(uuid.uuid4()),
        )
        booking_id = self._accepted("queue bookings", response)
        if booking_id is not None:
            self.booked_days.add((facility_id, service_id, day))
            self.bookings.append((booking_id, (facility_id, service_id, day)))

    def poll_booking(self) -> None:
        if not self.bookings:
            self._authed("GET /queue-bookings/mine", "GET", "/api/v1/queue-bookings/mine")
            return
        booking, _ = self.rng.choice(self.bookings)
        self._authed("GET /queue-bookings/{id}", "GET", f"/api/v1/queue-bookings/{booking}")

    # -- licensing ----------------------------------------------------------------------------

    def apply_for_permit(self) -> None:
        response = self._authed(
            "POST /permit-applications",
            "POST",
            "/api/v1/permit-applications",
            json={
                "permit_type_id": self.catalogue.permit_type_id,
                "form_data": {"profesi": "bidan"},
            },
            key=str(uuid.uuid4()),
        )
        application_id = self._accepted("permit applications", response)
        if application_id is None:
            return
        path = f"/api/v1/permit-applications/{application_id}"
        self._authed(
            "PATCH /permit-applications/{id}",
            "PATCH",
            path,
            json={
                "form_data": {
                    "nomor_str": f"STR-{self.number}-{self.rng.randint(1000, 9999)}",
                    "str_berlaku_sampai": (date.today() + timedelta(days=900)).isoformat(),
                    "nama_tempat_praktik": f"Praktik Bidan Warga {self.number}",
                    "alamat_praktik": "Jl. Sultan Hasanuddin, Binjai",
                }
            },
        )
        for requirement, name, content, media_type in (
            ("ktp", "ktp.pdf", PDF, "application/pdf"),
            ("str", "str.pdf", PDF, "application/pdf"),
            ("rekomendasi_organisasi", "rekomendasi.pdf", PDF, "application/pdf"),
            ("pas_foto", "foto.jpg", jpeg(self.number), "image/jpeg"),
        ):
            document = self._authed(
                "POST /permit-applications/{id}/documents",
                "POST",
                f"{path}/documents",
                files={"file": (name, content, media_type)},
                data={"requirement_code": requirement},
                key=str(uuid.uuid4()),
            )
            self._accepted("permit documents", document)
        submitted = self._authed("POST /permit-applications/{id}/submit", "POST", f"{path}/submit")
        if submitted is not None and submitted.status_code == 200:
            self.client.recorder.submitted_applications.add(application_id)
        elif submitted is not None and submitted.status_code == 409:
            # A retried submit whose first attempt went through: the status says so.
            state = self._authed("GET /permit-applications/{id}", "GET", path)
            if state is not None and state.status_code == 200 and state.json()["status"] != "draft":
                self.client.recorder.submitted_applications.add(application_id)

    # -- inbox --------------------------------------------------------------------------------

    def read_inbox(self) -> None:
        self._authed("GET /notifications", "GET", "/api/v1/notifications?per_page=20")

    # -- helpers ------------------------------------------------------------------------------

    def _authed(self, endpoint: str, method: str, path: str, **kwargs: Any) -> Any:
        """A request with the access token, refreshed (or logged in again) once on a 401."""
        response = self.client.call(endpoint, method, path, **kwargs)
        if response is not None and response.status_code == 401:
            if not self.client.refresh() and not self.client.log_in(self.phone, PASSWORD):
                return response
            response = self.client.call(endpoint, method, path, **kwargs)
        return response

    def _accepted(self, kind: str, response: requests.Response | None) -> str | None:
        if response is None:
            self.client.recorder.give_up(kind)
            return None
        if response.status_code != 201:
            return None
        resource_id = str(response.json()["id"])
        self.client.recorder.accept(kind, resource_id)
        return resource_id


def operator_loop(client: Client, stop: threading.Event) -> None:
    """A BCC operator verifying new reports and sending them to their agency, which notifies
    each reporter (an inbox entry and a push)."""
    if not client.log_in(*OPERATOR):
        return
    while not stop.is_set():
        listed = client.call(
            "GET /complaints", "GET", "/api/v1/complaints?status=submitted&per_page=10"
        )
        if listed is not None and listed.status_code == 401:
            client.log_in(*OPERATOR)
        elif listed is not None and listed.status_code == 200:
            for item in listed.json():
                client.call(
                    "POST /complaints/{id}/transitions",
                    "POST",
                    f"/api/v1/complaints/{item['id']}/transitions",
                    json={"action": "dispatch"},
                    retry=False,
                )
        stop.wait(2.0)


def probe_rate_limit(balancer: Balancer, recorder: Recorder, attempts: int) -> list[int]:
    """Wrong-password logins for one account from one address, alternating instances."""
    account = f"0813{99000000 + random.randint(0, 999_999):08d}"
    address = f"10.250.{random.randint(0, 255)}.{random.randint(1, 254)}"
    client = Client("rate-limit-probe", balancer, recorder, address)
    statuses = []
    for n in range(attempts):
        response = client.call(
            "POST /auth/login (rate-limit probe)",
            "POST",
            "/api/v1/auth/login",
            json={"username": account, "password": "salah-sandi-123"},
            auth=False,
            retry=False,
            instance=n % len(balancer.ports),
        )
        statuses.append(0 if response is None else response.status_code)
    return statuses


def probe_logout(
    balancer: Balancer, recorder: Recorder, username: str, password: str
) -> LogoutProbe:
    """Log in on instance 1, log out there, and try both tokens on instance 2 at once."""
    client = Client("logout-probe", balancer, recorder, "10.251.0.1")
    if not client.log_in(username, password):
        return LogoutProbe(0, 0, 0, 0)
    access, refresh = client.access_token, client.refresh_token

    def status(response: requests.Response | None) -> int:
        return 0 if response is None else response.status_code

    before = client.call("GET /me (logout probe)", "GET", "/api/v1/me", instance=1, retry=False)
    logout = client.call(
        "POST /auth/logout (logout probe)", "POST", "/api/v1/auth/logout", instance=0, retry=False
    )
    after = client.call(
        "GET /me (logout probe)", "GET", "/api/v1/me", instance=1, retry=False, token=access
    )
    refreshed = client.call(
        "POST /auth/refresh (logout probe)",
        "POST",
        "/api/v1/auth/refresh",
        json={"refresh_token": refresh},
        auth=False,
        instance=1,
        retry=False,
    )
    return LogoutProbe(status(before), status(logout), status(after), status(refreshed))
