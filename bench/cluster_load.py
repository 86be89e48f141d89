"""Load and faults on the one-machine cluster (bench/cluster.py), then checks against the database.

    make bench-cluster   # about 6 minutes; prints the report, writes bench/results/cluster_load.*

Residents (bench/load_mix.py) register, log in, refresh tokens, submit complaints with a photo,
poll their complaints and the public feed, book queue numbers and poll them, fill and submit
permit applications and read their inbox, spread over both web instances; a BCC operator
dispatches their reports, which notifies them. First a steady period, during which the rate-limit
and logout probes run; then, under the same load, one fault after another:

1. SIGKILL of web instance 1 (master and workers), restarted after 15 s;
2. SIGKILL of outbox worker 1 in the middle of a batch (worker 2 is paused meanwhile, so the batch
   in flight is known to be worker 1's), with a broadcast to every resident as the backlog;
3. a restart of PostgreSQL (10 s down);
4. Redis stopped for 20 s, with the rate-limit probe run during the outage;
5. the fake FCM answering 503 for 30 s, with a broadcast as the backlog.

Then the load stops, the outbox drains, and every check runs. Each check is a function of
bench/load_checks.py, tested in tests/platform/test_load_checks.py.

This restarts the machine's PostgreSQL and Redis: run it alone, never beside the test suite.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import cluster as cluster_module  # noqa: E402
import http_baseline as base  # noqa: E402
import load_checks as checks  # noqa: E402
import load_mix as mix  # noqa: E402
from load_checks import Attempt, Check, Window  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
RESIDENTS = 50
BROADCAST_RESIDENTS = 3000  # residents with a device besides the load users: the broadcasts' size
STEADY_S = 60.0
WEB_DOWN_S = 15.0
DATABASE_DOWN_S = 10.0
REDIS_DOWN_S = 20.0
FCM_OUTAGE_S = 30.0
AFTER_FAULTS_S = 20.0
WORKER_KILL_LATENCY_MS = 4000  # FCM answers this slowly while a batch is about to be killed
DRAIN_TIMEOUT_S = 240.0
RECOVERY_BOUND_S = 30.0
OUTAGE_ANSWER_BOUND_MS = 10_000.0  # DB_CONNECT_TIMEOUT_SECONDS (3) and the pool's wait (5) + margin
RATE_LIMIT = 10  # LOGIN_RATE_LIMIT of the cluster, per minute
RATE_LIMIT_PROBE_ATTEMPTS = 24
# While Redis is down each of the 4 worker processes counts alone: 60 attempts are more than
# 4 x 10, so some must still be refused if the per-process limits hold.
RATE_LIMIT_OUTAGE_PROBE_ATTEMPTS = 60
PG_VERSION = "15"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]
ONCE_PER_RESOURCE_KINDS = ("complaint_dispatched",)


def log(message: str, recorder: mix.Recorder | None = None) -> None:
    stamp = f"[{recorder.now():6.1f} s] " if recorder else ""
    print(f"{stamp}{message}", flush=True)


# -- setup --------------------------------------------------------------------------------------


def seed_broadcast_audience(database_url: str) -> None:
    """Residents with a device each, so that a broadcast is a backlog of several batches."""
    from binjai_api import create_app
    from push_broadcast import seed_residents

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "BINJAI_ENV": "development"})
    with app.app_context():
        seed_residents(BROADCAST_RESIDENTS)
        from binjai_api.extensions import db

        db.engine.dispose()


def load_catalogue(client: mix.Client) -> mix.Catalogue:
    def get(path: str, endpoint: str | None = None) -> Any:
        endpoint = endpoint or "GET " + path.split("?")[0]
        response = client.call(endpoint, "GET", f"/api/v1{path}", auth=False)
        if response is None or response.status_code != 200:
            raise RuntimeError(f"GET {path} failed: {response and response.text[:200]}")
        return response.json()

    categories = [c["id"] for c in get("/complaint-categories?per_page=100")]
    kelurahan = [k["code"] for kec in get("/regions") for k in kec["kelurahan"]]
    permit_type = next(t["id"] for t in get("/permit-types?per_page=100") if t["code"] == "SIP")
    sessions: list[tuple[str, str, str]] = []
    days = [date.today() + timedelta(days=n) for n in range(1, 6)]
    # One facility's general poli on its next two session days: 60 to 80 places for every
    # resident to compete for, so that sessions fill up and bookings meet `quota_full`.
    for facility in get("/facilities?per_page=100")[:1]:
        detail = get(f"/facilities/{facility['id']}", "GET /facilities/{id}")
        service = next((s for s in detail["services"] if s["code"] == "umum"), None)
        if service is None:
            continue
        weekdays = {s["weekday"] for s in service["sessions"]}
        open_days = [d for d in days if d.strftime("%A").lower() in weekdays][:2]
        sessions += [(facility["id"], service["id"], d.isoformat()) for d in open_days]
    if not sessions:
        raise RuntimeError("no bookable session found in the demo facilities")
    return mix.Catalogue(categories, kelurahan, sessions, permit_type)


# -- faults -------------------------------------------------------------------------------------


def run_command(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


PG_CTL = ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main"]


def stop_postgres() -> None:
    run_command([*PG_CTL, "stop", "-m", "fast"])


def start_postgres() -> None:
    run_command([*PG_CTL, "start"])


def stop_redis() -> None:
    subprocess.run(
        ["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True, timeout=30
    )


def start_redis() -> None:
    run_command(REDIS_START)


def ensure_services_up() -> None:
    """Whatever happened, the machine's PostgreSQL and Redis are left running."""
    subprocess.run([*PG_CTL, "start"], capture_output=True)  # "already running" is fine
    if subprocess.run(["redis-cli", "ping"], capture_output=True).returncode != 0:
        subprocess.run(REDIS_START, capture_output=True)


def leased_deliveries(engine: sa.Engine) -> set[str]:
    """Deliveries claimed by a worker that has not recorded their outcome yet."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id FROM notification_deliveries WHERE status = 'pending' "
                "AND claim_id IS NOT NULL AND next_attempt_at > now()"
            )
        )
        return {str(r[0]) for r in rows}


def pending_work(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        pending = conn.execute(
            sa.text("SELECT count(*) FROM notification_deliveries WHERE status = 'pending'")
        ).scalar_one()
        broadcasts = conn.execute(
            sa.text("SELECT count(*) FROM broadcasts WHERE status <> 'recorded'")
        ).scalar_one()
    return int(pending), int(broadcasts)


def broadcast(operator: mix.Client, title: str) -> None:
    response = operator.call(
        "POST /broadcasts",
        "POST",
        "/api/v1/broadcasts",
        json={
            "audience": "all",
            "title_id": title,
            "body_id": "Uji beban: pengumuman untuk semua warga Binjai.",
        },
        key=title,
    )
    if response is None or response.status_code not in checks.SUCCESS:
        raise RuntimeError(f"broadcast failed: {response and response.text[:200]}")


class Run:
    """One load test: the cluster, the users, the fault timeline and what was observed."""

    def __init__(self, cluster: cluster_module.Cluster, residents: int) -> None:
        self.cluster = cluster
        self.engine = sa.create_engine(cluster.database_url, pool_pre_ping=True)
        self.recorder = mix.Recorder()
        ports = [web.port for web in cluster.webs if web.port is not None]
        self.balancer = mix.Balancer(ports)
        self.stop_users = threading.Event()
        self.residents = residents
        self.threads: list[threading.Thread] = []
        self.windows: dict[str, Window] = {}
        self.figures: dict[str, Any] = {}
        self.rate_limit: dict[str, list[int]] = {}
        self.logout: checks.LogoutProbe | None = None
        self.killed_batch: set[str] = set()
        self.operator = mix.Client("operator", self.balancer, self.recorder, "10.252.0.1")

    def at(self, moment_s: float) -> None:
        time.sleep(max(0.0, moment_s - self.recorder.now()))

    def start_users(self, catalogue: mix.Catalogue) -> None:
        for number in range(self.residents):
            address = f"10.{1 + number // 250}.{number % 250}.{1 + number % 200}"
            client = mix.Client(f"resident-{number}", self.balancer, self.recorder, address)
            resident = mix.Resident(number, client, catalogue, self.stop_users)
            self.threads.append(threading.Thread(target=resident.run, name=client.name))
        staff = mix.Client("bcc-operator", self.balancer, self.recorder, "10.252.0.2")
        self.threads.append(
            threading.Thread(target=mix.operator_loop, args=(staff, self.stop_users))
        )
        for thread in self.threads:
            thread.start()
            time.sleep(0.1)  # residents open the app over a few seconds, not in one instant

    def window(self, label: str, start_s: float, end_s: float) -> Window:
        self.windows[label] = Window(label, start_s, end_s)
        return self.windows[label]

    # -- the timeline ---------------------------------------------------------------------------

    def steady(self) -> None:
        log("steady load", self.recorder)
        self.at(STEADY_S / 2)
        self.rate_limit["both instances, Redis up"] = mix.probe_rate_limit(
            self.balancer, self.recorder, RATE_LIMIT_PROBE_ATTEMPTS
        )
        self.logout = mix.probe_logout(
            self.balancer, self.recorder, base.DEMO_USERNAME, base.DEMO_PASSWORD
        )
        self.at(STEADY_S)
        self.window("steady", 0.0, STEADY_S)

    def kill_web_instance(self) -> None:
        web = self.cluster.webs[0]
        log(f"SIGKILL {web.name}", self.recorder)
        killed_at = self.recorder.now()
        web.kill()
        time.sleep(WEB_DOWN_S)
        self.window("web-1 killed", killed_at, self.recorder.now())
        self.cluster.restart_web(web)
        log(f"{web.name} restarted and ready", self.recorder)

    def kill_outbox_worker(self) -> None:
        worker, other = self.cluster.workers
        assert other.popen is not None
        other.signal(signal.SIGSTOP)  # so that the batch in flight is known to be `worker`'s
        time.sleep(1.0)
        already_leased = leased_deliveries(self.engine)
        self.cluster.fcm_control("/_fake/latency", {"ms": WORKER_KILL_LATENCY_MS})
        broadcast(self.operator, "Uji beban: siaran saat pekerja dihentikan")
        deadline = time.monotonic() + 60
        leased: set[str] = set()
        while time.monotonic() < deadline:
            leased = leased_deliveries(self.engine) - already_leased
            if leased:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # FCM has received the batch and is slow to answer: kill now
        leased = leased_deliveries(self.engine) - already_leased
        log(f"SIGKILL {worker.name} holding {len(leased)} pushes in flight", self.recorder)
        worker.kill()
        self.killed_batch = leased
        self.cluster.fcm_control("/_fake/latency", {"ms": 0})
        other.signal(signal.SIGCONT)
        self.figures["killed_batch"] = len(leased)
        worker.start()  # a supervisor would restart it; its rows return when the lease ends

    def restart_postgres(self) -> None:
        log("PostgreSQL stopped", self.recorder)
        down_at = self.recorder.now()
        stop_postgres()
        time.sleep(DATABASE_DOWN_S)
        start_postgres()
        up_at = self.recorder.now()
        log("PostgreSQL started", self.recorder)
        self.window("PostgreSQL down", down_at, up_at)
        self.figures["postgres_up_at"] = up_at

    def stop_redis(self) -> None:
        log("Redis stopped", self.recorder)
        down_at = self.recorder.now()
        stop_redis()
        time.sleep(2.0)
        self.rate_limit["both instances, Redis down"] = mix.probe_rate_limit(
            self.balancer, self.recorder, RATE_LIMIT_OUTAGE_PROBE_ATTEMPTS
        )
        time.sleep(max(0.0, REDIS_DOWN_S - (self.recorder.now() - down_at)))
        start_redis()
        self.window("Redis down", down_at, self.recorder.now())
        log("Redis started", self.recorder)
        self.figures["redis_up_at"] = self.recorder.now()

    def fcm_outage(self) -> None:
        log(f"fake FCM answers 503 for {FCM_OUTAGE_S:.0f} s", self.recorder)
        began = self.recorder.now()
        self.cluster.fcm_control("/_fake/outage", {"seconds": FCM_OUTAGE_S})
        broadcast(self.operator, "Uji beban: siaran saat FCM gangguan")
        time.sleep(FCM_OUTAGE_S)
        self.window("FCM outage", began, self.recorder.now())
        self.figures["fcm_outage_end"] = self.recorder.now()
        log("fake FCM answers again", self.recorder)

    def drain(self) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            pending, broadcasts = pending_work(self.engine)
            if not pending and not broadcasts:
                break
            time.sleep(1.0)
        self.figures["drained_at"] = self.recorder.now()
        self.figures["left_pending"] = pending, broadcasts = pending_work(self.engine)
        log(f"outbox drained: {pending} pushes pending, {broadcasts} broadcasts unrecorded")

    def go(self) -> None:
        if not self.operator.log_in(*mix.OPERATOR):
            raise RuntimeError("the demo operator cannot log in")
        catalogue = load_catalogue(self.operator)
        self.recorder.started = time.monotonic()
        self.start_users(catalogue)
        self.steady()
        self.kill_web_instance()
        time.sleep(5)
        self.kill_outbox_worker()
        time.sleep(5)
        self.restart_postgres()
        time.sleep(10)
        self.stop_redis()
        self.fcm_outage()
        time.sleep(AFTER_FAULTS_S)
        # Each worker process looks at Redis again with a backoff of up to 32 s (Flask-Limiter),
        # so by now, more than 50 s after Redis came back, every process counts there again.
        self.rate_limit["both instances, Redis back"] = mix.probe_rate_limit(
            self.balancer, self.recorder, RATE_LIMIT_PROBE_ATTEMPTS
        )
        log("stopping the users", self.recorder)
        self.stop_users.set()
        for thread in self.threads:
            thread.join(timeout=mix.GIVE_UP_AFTER_S + 30)
        self.figures["load_s"] = self.recorder.now()
        self.drain()

    # -- checks ---------------------------------------------------------------------------------

    def run_checks(self) -> list[Check]:
        attempts = self.recorder.attempts
        outage = self.windows["PostgreSQL down"]
        excused = Window("PostgreSQL down and reconnecting", outage.start_s, outage.end_s + 10)
        results = [
            checks.no_server_errors(
                "no 5xx during steady load", self.attempts_in(self.windows["steady"])
            ),
            checks.no_server_errors(
                "no 5xx over the whole run (503 + Retry-After only while PostgreSQL was down)",
                attempts,
                database_outages=[excused],
            ),
        ]
        with self.engine.connect() as conn:
            # Rows are owned by a load user's account id, accounts by the NIK registered.
            users = self.recorder.user_ids | self.recorder.niks
            for kind in checks.SUBMISSION_QUERIES:
                accepted = checks.Accepted(
                    frozenset(self.recorder.accepted.get(kind, set())),
                    self.recorder.unanswered.get(kind, 0),
                )
                stored = checks.stored_ids(conn, kind, users)
                results.append(
                    checks.stored_exactly_once(f"{kind} stored exactly once", accepted, stored)
                )
            results.append(
                checks.submitted_once(
                    "permit applications submitted exactly once",
                    conn,
                    self.recorder.submitted_applications,
                )
            )
            results.append(checks.no_overbooked_session("no overbooked session", conn))
            results.append(
                checks.notifications_delivered_once(
                    "every notification delivered exactly once (the killed batch: at least once)",
                    conn,
                    self.cluster.fcm_delivered(),
                    at_least_once=self.killed_batch,
                )
            )
            results.append(
                checks.inbox_not_duplicated(
                    "no inbox entry duplicated", conn, ONCE_PER_RESOURCE_KINDS
                )
            )
            results.append(
                checks.nothing_half_written(
                    "nothing half-written after the kills", conn, self.cluster.workdir / "uploads"
                )
            )
        processes = cluster_module.WEB_INSTANCES * cluster_module.WEB_CONCURRENCY
        for name, probe, most in (
            ("login limit held across both instances (Redis up)", "Redis up", RATE_LIMIT),
            (
                "Redis down: the limit falls back to each worker process's memory",
                "Redis down",
                RATE_LIMIT * processes,
            ),
            ("Redis back: the limit is shared again", "Redis back", RATE_LIMIT),
        ):
            statuses = self.rate_limit[f"both instances, {probe}"]
            results.append(
                checks.rate_limit_held(name, statuses, allowed_low=RATE_LIMIT, allowed_high=most)
            )
        assert self.logout is not None
        results.append(
            checks.logout_honoured("logout on one instance honoured by the other", self.logout)
        )
        results.append(
            checks.kept_serving(
                "web-1 SIGKILLed: web-2 kept serving", attempts, self.windows["web-1 killed"], 1
            )
        )
        results.append(
            checks.database_outage_answers(
                "PostgreSQL down: 503 with Retry-After, bounded",
                attempts,
                outage,
                max_elapsed_ms=OUTAGE_ANSWER_BOUND_MS,
            )
        )
        results.append(
            checks.recovered(
                "PostgreSQL back: recovered by itself",
                attempts,
                self.figures["postgres_up_at"],
                RECOVERY_BOUND_S,
            )
        )
        results.append(
            checks.no_server_errors(
                "Redis down: the service stayed up", self.attempts_in(self.windows["Redis down"])
            )
        )
        pending, unrecorded = self.figures["left_pending"]
        drain_s = self.figures["drained_at"] - self.figures["fcm_outage_end"]
        results.append(
            Check(
                "FCM 503 for 30 s: the backlog drained, nothing lost",
                pending == 0 and unrecorded == 0,
                f"{pending} pushes still pending, {unrecorded} broadcasts unrecorded; outbox "
                f"empty {drain_s:.0f} s after FCM answered again",
            )
        )
        return results

    def attempts_in(self, window: Window) -> list[Attempt]:
        return [a for a in self.recorder.attempts if window.holds(a)]


# -- figures and report -------------------------------------------------------------------------


def latency_rows(attempts: list[Attempt], seconds: float) -> list[dict[str, Any]]:
    per_endpoint: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        per_endpoint[attempt.endpoint].append(attempt)
    rows = []
    for endpoint, items in sorted(per_endpoint.items(), key=lambda kv: -len(kv[1])):
        times = sorted(int(a.elapsed_ms * 1000) for a in items if a.status is not None)
        statuses = defaultdict(int)
        for a in items:
            statuses["none" if a.status is None else str(a.status)] += 1
        rows.append(
            {
                "endpoint": endpoint,
                "requests": len(items),
                "rps": len(items) / seconds,
                "p50_ms": base.percentile(times, 50) / 1000 if times else 0.0,
                "p95_ms": base.percentile(times, 95) / 1000 if times else 0.0,
                "p99_ms": base.percentile(times, 99) / 1000 if times else 0.0,
                "statuses": dict(sorted(statuses.items())),
            }
        )
    return rows


def render(report: dict[str, Any]) -> str:
    lines = [
        "# Cluster load test: two web instances, two outbox workers, faults",
        "",
        f"Run on {report['when']} ({report['machine']}). {report['residents']} residents and one "
        f"BCC operator over {report['load_s']:.0f} s; steady period {STEADY_S:.0f} s, then the "
        "faults one after another under the same load. Produced by `make bench-cluster` "
        "(bench/cluster_load.py).",
        "",
        "## Checks",
        "",
        "| check | result | figures |",
        "|---|---|---|",
    ]
    for check in report["checks"]:
        mark = "PASS" if check["passed"] else "FAIL"
        lines.append(f"| {check['name']} | {mark} | {check['detail']} |")
    for title, key in (
        (f"## Steady load, first {STEADY_S:.0f} s, both instances", "steady"),
        ("## Whole run, faults included", "whole"),
    ):
        section = report[key]
        lines += [
            "",
            title,
            "",
            f"{section['requests']} requests, {section['rps']:.1f} req/s.",
            "",
            "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | answers |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in section["rows"]:
            answers = ", ".join(f"{s}: {n}" for s, n in row["statuses"].items())
            lines.append(
                f"| {row['endpoint']} | {row['requests']} | {row['rps']:.1f} | "
                f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {answers} |"
            )
    lines += ["", "## Fault timeline (seconds since the start of the load)", ""]
    for window in report["windows"]:
        lines.append(f"- {window['label']}: {window['start_s']:.1f} to {window['end_s']:.1f}")
    lines += ["", "## Other figures", ""]
    for name, value in report["figures"].items():
        lines.append(f"- {name}: {value}")
    passed = sum(1 for c in report["checks"] if c["passed"])
    lines += ["", f"**{passed} of {len(report['checks'])} checks passed.**", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=RESIDENTS)
    parser.add_argument("--no-save", action="store_true", help="print only; keep bench/results")
    args = parser.parse_args(argv)
    # Kept afterwards: the processes' logs are the first thing to read when a check fails.
    tmp = tempfile.mkdtemp(prefix="binjai-cluster-load-")
    log(f"logs in {tmp}")
    cluster = cluster_module.Cluster(Path(tmp))
    try:
        log("starting the cluster")
        cluster.start()
        seed_broadcast_audience(cluster.database_url)
        run = Run(cluster, args.residents)
        run.go()
        results = run.run_checks()
    finally:
        cluster.stop()
        ensure_services_up()
    attempts = run.recorder.attempts
    steady = run.attempts_in(run.windows["steady"])
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": "{nproc} CPUs, {cpu_model}, Python {python}, gunicorn {gunicorn}".format(
            **base.machine_info()
        ),
        "residents": args.residents,
        "load_s": run.figures["load_s"],
        "checks": [c.__dict__ for c in results],
        "steady": {
            "requests": len(steady),
            "rps": len(steady) / STEADY_S,
            "rows": latency_rows(steady, STEADY_S),
        },
        "whole": {
            "requests": len(attempts),
            "rps": len(attempts) / run.figures["load_s"],
            "rows": latency_rows(attempts, run.figures["load_s"]),
        },
        "windows": [w.__dict__ for w in run.windows.values()],
        "figures": {
            "pushes in the killed worker's batch": run.figures.get("killed_batch"),
            "accepted submissions": {k: len(v) for k, v in run.recorder.accepted.items()},
            "requests never answered definitely (client gave up)": dict(run.recorder.unanswered),
            "rate-limit probes (statuses)": run.rate_limit,
        },
    }
    text = render(report)
    print(text)
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "cluster_load.md").write_text(text)
        (RESULTS_DIR / "cluster_load.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(c.passed for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
