"""Concurrent writes on the embedded SQLite default, served as `make run` serves it.

Starts the app on a fresh SQLite file the way `make run` does (`flask db upgrade`, `flask
seed-demo`, the outbox worker beside gunicorn with the repository's gunicorn.conf.py: 2 sync
workers), registers a few residents, then:

- fires bursts of concurrent complaint submissions and token refreshes, counting every status
  (all must be 201 / 200: writers queue for SQLite's lock instead of failing);
- measures complaint submissions per second with N concurrent writers for a few seconds.

Run: .venv/bin/python bench/sqlite_writes.py [--writers 1,4,16] [--duration S]
tests/platform/test_sqlite_writes.py drives the same server (`SqliteServer`) for its checks.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (shared benchmark helpers)

PASSWORD = "Kata-Sandi-Kuat-2026"
KELURAHAN = "12.75.01.1001"
# Limits high enough that the limiter never answers 429 (it still runs); everything else is
# `make run`'s default. Password hashing is cheap here: this measures the database, not argon2.
SERVER_SETTINGS = {
    "BINJAI_ENV": "development",
    "REDIS_URL": "",
    "DEFAULT_RATE_LIMIT": "1000000 per minute",
    "LOGIN_RATE_LIMIT": "1000000 per minute",
    "REGISTER_RATE_LIMIT": "1000000 per minute",
    "TOKEN_RATE_LIMIT": "1000000 per minute",
    "COMPLAINT_SUBMIT_RATE_LIMIT": "1000000 per hour",
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_KIB": "1024",
    "ARGON2_PARALLELISM": "1",
    "OUTBOX_POLL_SECONDS": "1",
}


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 60.0,
) -> Reply:
    """One request on a fresh connection."""
    conn = http.client.HTTPConnection(base.HOST, port, timeout=timeout_s)
    try:
        sent = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body)
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, response.read())
    finally:
        conn.close()


def all_at_once(jobs: list[Callable[[], Reply]]) -> list[Reply]:
    """Run every job in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))
    replies: list[Reply | None] = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            replies[index] = jobs[index]()
        except (OSError, http.client.HTTPException) as exc:
            replies[index] = Reply(0, repr(exc).encode())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [reply for reply in replies if reply is not None]


@dataclass
class Resident:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class SqliteServer:
    """gunicorn (gunicorn.conf.py, 2 workers) and the outbox worker on one SQLite file."""

    workdir: Path
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)
    category_id: str = ""
    # Settings to change from SERVER_SETTINGS and `make run`'s defaults.
    env_overrides: dict[str, str] = field(default_factory=dict)

    def start(self) -> SqliteServer:
        self.port = base.free_port()
        self.env = base.server_env(f"sqlite:///{self.workdir / 'binjai.db'}")
        self.env.update(SERVER_SETTINGS)
        self.env.update(UPLOAD_DIR=str(self.workdir / "uploads"), BIND=f"{base.HOST}:{self.port}")
        self.env.update(self.env_overrides)
        for name in ("PORT", "GUNICORN_THREADS", "WEB_CONCURRENCY"):
            self.env.pop(name, None)
        base.run_flask(["db", "upgrade"], self.env)
        base.run_flask(["seed-demo"], self.env)
        self._spawn("outbox-worker", [str(base.BIN_DIR / "flask"), "--app", "binjai_api"])
        self._spawn(
            "gunicorn",
            [str(base.BIN_DIR / "gunicorn"), "--config", str(REPO_DIR / "gunicorn.conf.py")],
            "binjai_api:create_app()",
        )
        self._wait_ready()
        categories = call(self.port, "GET", "/api/v1/complaint-categories").json()
        self.category_id = str(categories[0]["id"])
        return self

    def _spawn(self, name: str, argv: list[str], *tail: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        command = [*argv, *tail] if tail else [*argv, name]
        self.logs.append(log)
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=REPO_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError(f"a server process exited:\n{self.log_tail()}")
            try:
                if base.http_get(self.port, "/readyz")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"not ready within {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.workdir.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()
            out.append(f"== {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=base.STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()

    def __enter__(self) -> SqliteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what residents do -------------------------------------------------------------------

    def register(self, serial: int) -> dict[str, str]:
        """A new resident; returns their login."""
        phone = f"0813{serial:08d}"
        reply = call(
            self.port,
            "POST",
            "/api/v1/auth/register",
            {
                "full_name": "Warga Uji",
                "nik": f"127501050190{serial % 9000 + 1:04d}",
                "phone": phone,
                "email": f"uji{serial}@example.com",
                "password": PASSWORD,
            },
        )
        if reply.status != 201:
            raise RuntimeError(f"register: {reply.status} {reply.body[:300]!r}")
        return {"username": phone, "password": PASSWORD}

    def log_in(self, login: dict[str, str]) -> Resident:
        reply = call(self.port, "POST", "/api/v1/auth/login", login)
        if reply.status != 200:
            raise RuntimeError(f"login: {reply.status} {reply.body[:300]!r}")
        body = reply.json()
        return Resident(body["access_token"], body["refresh_token"])

    def submit_complaint(self, resident: Resident, number: int) -> Reply:
        return call(
            self.port,
            "POST",
            "/api/v1/complaints",
            {
                "type": "complaint",
                "category_id": self.category_id,
                "title": f"Lampu jalan padam di gang {number}",
                "description": "Sudah tiga malam gelap, rawan bagi warga yang pulang kerja.",
                "kelurahan_code": KELURAHAN,
                "lat": 3.6 + (number % 50) / 1000,
                "lon": 98.48 + (number % 30) / 1000,
                "privacy": "public",
            },
            {**resident.headers, "Idempotency-Key": str(uuid.uuid4())},
        )

    def refresh(self, resident: Resident) -> Reply:
        return call(
            self.port,
            "POST",
            "/api/v1/auth/refresh",
            {"refresh_token": resident.refresh_token},
        )


def submissions_per_second(
    server: SqliteServer, residents: list[Resident], writers: int, duration_s: float
) -> tuple[float, Counter[int]]:
    """`writers` clients submitting back to back for `duration_s`: accepted per second."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    until = time.monotonic() + duration_s

    def writer(index: int) -> None:
        resident = residents[index % len(residents)]
        number = 0
        while time.monotonic() < until:
            number += 1
            reply = server.submit_complaint(resident, index * 10_000 + number)
            with lock:
                statuses[reply.status] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return statuses[201] / elapsed, statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,4,16", help="concurrent writers, comma-separated")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="binjai-sqlite-writes-") as tmp:
        server = SqliteServer(Path(tmp))
        try:
            server.start()
            logins = [server.register(90_000 + i) for i in range(4)]
            residents = [server.log_in(login) for login in logins]
            burst = all_at_once(
                [
                    (lambda i=i: server.submit_complaint(residents[i % 3], i))  # type: ignore[misc]
                    for i in range(24)
                ]
            )
            print(f"burst of 24 submissions: {dict(Counter(r.status for r in burst))}")
            sessions = [server.log_in(logins[i % len(logins)]) for i in range(12)]
            refreshes = all_at_once(
                [(lambda s=s: server.refresh(s)) for s in sessions]  # type: ignore[misc]
            )
            print(f"burst of 12 refreshes:   {dict(Counter(r.status for r in refreshes))}")
            print("complaint submissions on SQLite, gunicorn 2 workers + outbox worker:")
            for writers in [int(w) for w in args.writers.split(",")]:
                rate, statuses = submissions_per_second(server, residents, writers, args.duration)
                print(f"  {writers:>3} writers: {rate:6.1f} accepted/s  statuses {dict(statuses)}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
