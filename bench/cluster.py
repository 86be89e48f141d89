"""The production process layout on one machine: two web instances, two outbox workers and a
fake FCM, against the local PostgreSQL and Redis.

    make cluster          # start, print the addresses, stop cleanly on Ctrl-C or SIGTERM

Every process is configured only by environment variables, as in production (README: Running in
production): the web instances run the repository's gunicorn.conf.py with BINJAI_ENV=production,
freshly generated secrets and TRUSTED_PROXY_COUNT=1 (the load test plays the reverse proxy and
sets X-Forwarded-For). The outbox workers send through the real firebase-admin SDK to the fake
FCM (tests/fake_fcm.py) with a generated service account. bench/cluster_load.py drives this
cluster under load and faults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (shared benchmark helpers)

DATABASE_NAME = "binjai_cluster"
# Its own Redis database: the test suite uses 15, and the cluster empties this one at start.
REDIS_URL = "redis://127.0.0.1:6379/14"
WEB_INSTANCES = 2
OUTBOX_WORKERS = 2
WEB_CONCURRENCY = 2
STOP_TIMEOUT_S = 15.0
READY_TIMEOUT_S = 40.0

# Settings of the cluster (everything else keeps its production default). Short leases and
# retries so that the load test sees faults recover within minutes, not hours.
CLUSTER_SETTINGS = {
    "BINJAI_ENV": "production",
    "PUBLIC_BASE_URL": "https://binjai.test",
    "LOG_FORMAT": "json",
    "TRUSTED_PROXY_COUNT": "1",
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
    "WEB_CONCURRENCY": str(WEB_CONCURRENCY),
    "DB_POOL_SIZE": "5",
    "DB_CONNECT_TIMEOUT_SECONDS": "3",
    "DB_POOL_TIMEOUT_SECONDS": "5",
    "LOGIN_RATE_LIMIT": "10 per minute",
    "OUTBOX_LEASE_SECONDS": "20",
    "OUTBOX_RETRY_BASE_SECONDS": "2",
    "OUTBOX_RETRY_MAX_SECONDS": "10",
    "OUTBOX_MAX_ATTEMPTS": "30",
    "IDEMPOTENCY_IN_FLIGHT_SECONDS": "20",
    "ESCALATION_INTERVAL_SECONDS": "60",
}


@dataclass
class Process:
    """One process of the cluster, in its own process group (gunicorn's workers included)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_file = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            cwd=REPO_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        """Signal the whole group: SIGKILL must take gunicorn's workers down with the master."""
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no cleanup runs."""
        self.signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """SIGTERM (gunicorn and the worker finish what they are doing), SIGKILL on a timeout."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.terminate()
            try:
                self.popen.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=STOP_TIMEOUT_S)
            # A SIGKILLed master leaves its workers orphaned; the group signal got them too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class Cluster:
    """Start, fault and stop the processes of a one-machine deployment."""

    def __init__(self, workdir: Path, *, database_name: str = DATABASE_NAME) -> None:
        self.workdir = workdir
        self.database_url = base.fresh_postgres_database(database_name)
        self.fcm: Process | None = None
        self.fcm_url = ""
        self.webs: list[Process] = []
        self.workers: list[Process] = []
        self.env: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Cluster:
        self._flush_redis()
        service_account = self.workdir / "service-account.json"
        self.fcm = Process(
            "fake-fcm",
            [
                sys.executable,
                "-m",
                "tests.fake_fcm",
                "--project",
                "binjai-cluster",
                "--service-account",
                str(service_account),
            ],
            dict(os.environ),
            self.workdir / "fake-fcm.log",
        )
        self.fcm.start()
        self.fcm_url = self._announced_fcm_url(self.fcm)
        self.env = self._environment(service_account)
        self._prepare_database()
        for index in range(WEB_INSTANCES):
            port = base.free_port()
            self.webs.append(
                Process(
                    f"web-{index + 1}",
                    [
                        str(base.BIN_DIR / "gunicorn"),
                        "--config",
                        str(REPO_DIR / "gunicorn.conf.py"),
                        "binjai_api:create_app()",
                    ],
                    {**self.env, "BIND": f"{base.HOST}:{port}"},
                    self.workdir / f"web-{index + 1}.log",
                    port=port,
                )
            )
        for index in range(OUTBOX_WORKERS):
            self.workers.append(
                Process(
                    f"outbox-worker-{index + 1}",
                    [str(base.BIN_DIR / "flask"), "--app", "binjai_api", "outbox-worker"],
                    self.env,
                    self.workdir / f"outbox-worker-{index + 1}.log",
                )
            )
        for process in [*self.webs, *self.workers]:
            process.start()
        for web in self.webs:
            self.wait_ready(web)
        return self

    def stop(self) -> None:
        """Stop everything: workers and webs with SIGTERM, the fake FCM last."""
        for process in [*self.workers, *self.webs]:
            process.stop()
        if self.fcm is not None:
            self.fcm.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults and repairs ------------------------------------------------------------------

    def restart_web(self, web: Process) -> None:
        web.start()
        self.wait_ready(web)

    def wait_ready(self, web: Process, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not web.running:
                raise RuntimeError(f"{web.name} exited:\n{web.log_tail()}")
            with contextlib.suppress(OSError):
                assert web.port is not None
                if base.http_get(web.port, "/readyz")[0] == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{web.name} not ready within {timeout_s:.0f} s:\n{web.log_tail()}")

    def _announced_fcm_url(self, fcm: Process) -> str:
        """The fake FCM prints where it listens once its service account is written."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in fcm.log_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"base_url"' in line:
                    return str(json.loads(line)["base_url"])
            if not fcm.running:
                raise RuntimeError(f"the fake FCM exited:\n{fcm.log_tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"the fake FCM did not start:\n{fcm.log_tail()}")

    def fcm_control(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.fcm_url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def fcm_delivered(self) -> dict[tuple[str, str], int]:
        """Successful sends the fake FCM received, per (notification id, device token)."""
        with urllib.request.urlopen(f"{self.fcm_url}/_fake/delivered", timeout=30) as response:
            rows = json.load(response)["delivered"]
        return {(str(n), str(t)): int(c) for n, t, c in rows}

    # -- setup -------------------------------------------------------------------------------

    def _environment(self, service_account: Path) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("GUNICORN_CMD_ARGS", "FLASK_APP", "PORT", "BIND"):
            env.pop(name, None)
        env.update(CLUSTER_SETTINGS)
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=REDIS_URL,
            FIREBASE_CREDENTIALS=str(service_account),
            FCM_ENDPOINT=self.fcm_url,
            UPLOAD_DIR=str(self.workdir / "uploads"),  # shared by both instances
            SECRET_KEY=secrets.token_urlsafe(48),
            JWT_SECRET_KEY=secrets.token_urlsafe(48),
            PAYMENT_CALLBACK_SECRET=secrets.token_urlsafe(48),
            PERMIT_SIGNING_KEY=secrets.token_urlsafe(48),
            AUDIT_PSEUDONYM_KEY=secrets.token_urlsafe(48),
        )
        return env

    def _prepare_database(self) -> None:
        base.run_flask(["db", "upgrade"], self.env)
        # The Binjai demo catalogue (regions, agencies, permit types, facilities, demo staff).
        base.run_flask(["seed-demo"], self.env)

    def _flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="binjai-cluster-") as tmp:
        cluster = Cluster(Path(tmp))
        try:
            cluster.start()
            print(f"Binjai cluster up (logs in {tmp}):")
            print(f"  database      {base.redact_url(cluster.database_url)}")
            print(f"  redis         {REDIS_URL}")
            print(f"  fake FCM      {cluster.fcm_url}")
            for web in cluster.webs:
                print(f"  {web.name:<13} http://{base.HOST}:{web.port}  (gunicorn.conf.py)")
            for worker in cluster.workers:
                assert worker.popen is not None
                print(f"  {worker.name:<13} pid {worker.popen.pid}")
            print("Ctrl-C stops every process.", flush=True)
            stop.wait()
        finally:
            cluster.stop()
            print("Binjai cluster stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
