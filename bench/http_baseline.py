"""HTTP baseline: requests/s and latency of the API under gunicorn, next to a bare Flask floor.

Measures, in turns and in the same run, a Flask hello-world (`bench/hello_app.py`),
`GET /api/v1/agencies`, an authenticated `GET /api/v1/me` and the public feed
(`GET /api/v1/public/complaints?page_size=20`): `--rounds` rounds (3), each giving every endpoint
its warm-up and its share of the measured time in turn, so that a change in what else the
machine runs (a shared virtual machine's neighbours) hits the floor and the API alike. Each is
served by gunicorn with 2 workers on 127.0.0.1 and the repository's gunicorn.conf.py (the
production settings: worker class, threads, keep-alive, metrics in multiprocess mode), the same
for the floor and the API. The API runs on a throwaway SQLite database holding the demo data; set
BENCH_DATABASE_URL to measure on another database instead (it must be empty or already migrated,
because `flask db upgrade` runs on it and `flask seed-demo` adds the demo data).

Run: .venv/bin/python bench/http_baseline.py [--duration S] [--clients N] [--warmup S]
[--rounds N] [--threads N] [--keep-alive S] (or `make bench`). Prints a table with each
endpoint's share of the floor and the server CPU per request, and writes
bench/results/http_baseline.{json,md}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import platform
import queue
import resource
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# The venv's own tools, next to the interpreter running this script (.venv/bin/python).
BIN_DIR = Path(sys.executable).parent

HOST = "127.0.0.1"
GUNICORN_WORKERS = 2
# The production settings (worker class, threads, keep-alive, timeouts, metrics directory); the
# benchmark overrides only the address, the number of workers and what the command line asks.
GUNICORN_CONFIG = REPO_DIR / "gunicorn.conf.py"
# Issue 17's target under gunicorn: /me and the feed at least this share of the floor.
FLOOR_TARGET_PCT = 50
DEMO_USERNAME = "081200000001"
DEMO_PASSWORD = "Demo-Warga-2026"
PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
FEED_PATH = "/api/v1/public/complaints?page_size=20"
# The API's default access-token lifetime; a run must fit in it, as its token is not renewed.
ACCESS_TOKEN_MINUTES = 15

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 10.0
SETUP_COMMAND_TIMEOUT_S = 180.0
# After a failed connection, pause briefly so a dead server does not turn a client into a busy
# loop that steals CPU from the servers sharing this machine.
ERROR_BACKOFF_S = 0.01
MAX_ERROR_BODY = 200
# High enough that the limiter never answers 429, but it still runs, as in production.
RATE_LIMITS = {"DEFAULT_RATE_LIMIT": "1000000 per minute", "LOGIN_RATE_LIMIT": "1000 per minute"}
# Above this much CPU used by unrelated processes during a run, its figures are flagged.
OTHER_CPU_WARNING_PCT = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Target:
    """One endpoint to load: where it is and which headers each request carries."""

    name: str
    port: int
    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Tally:
    """What one client thread (or, merged, one generator process) observed."""

    latencies_ns: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    warmup_requests: int = 0
    warmup_errors: Counter[str] = field(default_factory=Counter)
    responses: int = 0
    closed_by_server: int = 0

    def merge(self, other: Tally) -> None:
        """Add another tally's observations to this one."""
        self.latencies_ns.extend(other.latencies_ns)
        self.errors.update(other.errors)
        self.warmup_requests += other.warmup_requests
        self.warmup_errors.update(other.warmup_errors)
        self.responses += other.responses
        self.closed_by_server += other.closed_by_server


@dataclass(frozen=True)
class CpuSnapshot:
    """Cumulative CPU seconds, to tell the benchmark's own CPU use from everything else's."""

    wall_s: float
    machine_busy_s: float
    servers_s: float
    generator_s: float
    own_s: float
    database_s: float


@dataclass
class Server:
    """A gunicorn master we started, with the file its output goes to."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: TextIO


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command-line flags."""
    cpus = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per endpoint (10)"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="uncounted seconds before each measurement (2)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="turns over the endpoints, each measuring every one for duration/rounds s (3)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help=f"load-generator processes the clients are spread over (min(clients, {cpus}))",
    )
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.clients < 1 or args.rounds < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --clients and --rounds >= 1")
    # One token serves the authenticated endpoint's every round.
    if 4 * (args.rounds * args.warmup + args.duration) > (ACCESS_TOKEN_MINUTES - 1) * 60:
        parser.error(f"the whole run must stay under {ACCESS_TOKEN_MINUTES - 1} min")
    if args.processes is None:
        args.processes = min(args.clients, cpus)
    if not 1 <= args.processes <= args.clients:
        parser.error("--processes must be between 1 and --clients")
    return args


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags that override gunicorn.conf.py's settings, for both servers alike."""
    parser.add_argument(
        "--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--keep-alive", type=int, help="keep-alive seconds (default: gunicorn.conf.py's)"
    )


def server_overrides(args: argparse.Namespace) -> list[str]:
    """gunicorn flags for the overrides given on the command line."""
    flags: list[str] = []
    if getattr(args, "threads", None) is not None:
        flags += ["--threads", str(args.threads)]
    if getattr(args, "keep_alive", None) is not None:
        flags += ["--keep-alive", str(args.keep_alive)]
    return flags


def server_settings(args: argparse.Namespace, config: Path = GUNICORN_CONFIG) -> dict[str, Any]:
    """What the servers run with: gunicorn.conf.py's values as the benchmark's environment gives
    them (WEB_CONCURRENCY and GUNICORN_THREADS unset), then the command line's overrides."""
    saved = dict(os.environ)
    try:
        for name in SHELL_SERVER_SETTINGS:
            os.environ.pop(name, None)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.gettempdir()  # read, not created
        values = runpy.run_path(str(config))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    threads = getattr(args, "threads", None) or values.get("threads", 1)
    keepalive = getattr(args, "keep_alive", None)
    keepalive = values.get("keepalive", 2) if keepalive is None else keepalive
    worker_class = values.get("worker_class", "sync")
    if worker_class == "sync" and threads > 1:
        worker_class = "gthread"  # what gunicorn itself does with threads > 1
    return {
        "config": str(config.relative_to(REPO_DIR))
        if config.is_relative_to(REPO_DIR)
        else str(config),
        "workers": GUNICORN_WORKERS,
        "worker_class": worker_class,
        "threads": threads,
        # The sync worker closes every connection whatever this says.
        "keepalive_s": keepalive if worker_class != "sync" else 0,
    }


def describe_servers(settings: dict[str, Any]) -> str:
    """One line: "2 gthread workers x 4 threads, keep-alive 75 s (gunicorn.conf.py)"."""
    threads = f" x {settings['threads']} threads" if settings["threads"] > 1 else ""
    keepalive = (
        f"keep-alive {settings['keepalive_s']} s"
        if settings["keepalive_s"]
        else "a connection per request"
    )
    return (
        f"{settings['workers']} {settings['worker_class']} workers{threads}, {keepalive} "
        f"({settings['config']})"
    )


def free_port() -> int:
    """Ask the kernel for a loopback port nobody is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def redact_url(url: str) -> str:
    """Drop the password from a database URL before it is printed or saved."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# Read by gunicorn or gunicorn.conf.py; the benchmark's flags decide instead.
SHELL_SERVER_SETTINGS = (
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_KEEPALIVE",
    "PROMETHEUS_MULTIPROC_DIR",
)


def server_env(database_url: str) -> dict[str, str]:
    """Environment for the flask commands and both gunicorns."""
    env = dict(os.environ)
    # Settings from the caller's shell must not change what gunicorn runs.
    for name in (*SHELL_SERVER_SETTINGS, "FLASK_APP"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url,
        BINJAI_ENV="development",
        **RATE_LIMITS,
        # Empty, so neither the shell nor a .env file can point the limiter at a shared Redis.
        REDIS_URL="",
    )
    return env


def run_flask(command: list[str], env: dict[str, str]) -> None:
    """Run a `flask --app binjai_api` command, showing its output only when it fails."""
    argv = [str(BIN_DIR / "flask"), "--app", "binjai_api", *command]
    done = subprocess.run(
        argv,
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_COMMAND_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[1:])} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )


def start_gunicorn(
    name: str,
    app_spec: str,
    env: dict[str, str],
    workdir: Path,
    extra: list[str],
    config: Path = GUNICORN_CONFIG,
) -> Server:
    """Start a gunicorn master with 2 workers on a free loopback port, with `config` (the
    production gunicorn.conf.py unless told) and the flags in `extra` over it."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    log_file = log_path.open("w")
    # Each server's metric files in a directory of its own, removed with the workdir.
    metrics_dir = workdir / f"metrics-{name}"
    metrics_dir.mkdir(exist_ok=True)
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    argv = [
        str(BIN_DIR / "gunicorn"),
        "--config",
        str(config),
        "--workers",
        str(GUNICORN_WORKERS),
        "--bind",
        f"{HOST}:{port}",
        "--graceful-timeout",
        "5",
        "--log-level",
        "info",
        *extra,
        app_spec,
    ]
    process = subprocess.Popen(
        argv,
        cwd=REPO_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        # Own process group, so the workers can be killed with the master if it hangs.
        start_new_session=True,
    )
    return Server(name=name, port=port, process=process, log_path=log_path, log_file=log_file)


def stop_server(server: Server) -> None:
    """Stop a gunicorn: SIGTERM for a graceful shutdown, SIGKILL to its group on a timeout."""
    try:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        server.log_file.close()


def log_tail(server: Server, lines: int = 30) -> str:
    """The last lines of a server's output, for error messages."""
    server.log_file.flush()
    text = server.log_path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET on a fresh connection: status and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(server: Server, path: str) -> None:
    """Poll `path` until it answers 200, failing if the server exits or the timeout passes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} gunicorn exited with {server.process.returncode}:\n"
                + log_tail(server)
            )
        try:
            if http_get(server.port, path)[0] == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    raise TimeoutError(
        f"{server.name} did not answer {path} within {STARTUP_TIMEOUT_S:.0f} s:\n"
        + log_tail(server)
    )


def fresh_postgres_database(name: str) -> str:
    """Drop and create a benchmark's own database on the local PostgreSQL; returns its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(f"{PG_SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{PG_SERVER_URL}/{name}"


def log_in(port: int, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD) -> str:
    """Log a demo account in (the demo citizen unless told) and return the access token."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        body = json.dumps({"username": username, "password": password})
        conn.request(
            "POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"login failed: HTTP {response.status}: {data[:MAX_ERROR_BODY]!r}")
    return str(json.loads(data)["access_token"])


def check_target(target: Target) -> int:
    """Fail fast unless the endpoint answers 200; return the response body's size in bytes."""
    status, body = http_get(target.port, target.path, target.headers)
    if status != 200:
        raise RuntimeError(f"{target.name}: HTTP {status}: {body[:MAX_ERROR_BODY]!r}")
    return len(body)


def client_loop(target: Target, measure_from_ns: int, until_ns: int, tally: Tally) -> None:
    """One closed-loop client: a request, its response, the next request, until `until_ns`."""
    conn = http.client.HTTPConnection(HOST, target.port, timeout=REQUEST_TIMEOUT_S)
    try:
        while (sent_ns := time.monotonic_ns()) < until_ns:
            error: str | None = None
            try:
                conn.request("GET", target.path, headers=target.headers)
                response = conn.getresponse()
                body = response.read()
                if not 200 <= response.status < 300:
                    error = f"HTTP {response.status}: {body[:MAX_ERROR_BODY]!r}"
                tally.responses += 1
                # http.client reconnects by itself on the next request when the server closes.
                tally.closed_by_server += response.will_close
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                error = f"{type(exc).__name__}: {exc}"
                time.sleep(ERROR_BACKOFF_S)
            done_ns = time.monotonic_ns()
            if done_ns < measure_from_ns:
                tally.warmup_requests += 1
                if error:
                    tally.warmup_errors[error] += 1
            elif done_ns < until_ns:
                if error:
                    tally.errors[error] += 1
                else:
                    tally.latencies_ns.append(done_ns - sent_ns)
    finally:
        conn.close()


def generator_process(
    target: Target,
    clients: int,
    warmup_s: float,
    duration_s: float,
    barrier: Any,
    results: Any,
) -> None:
    """One load-generator process: `clients` threads, each with its own connection."""
    tallies = [Tally() for _ in range(clients)]
    # All processes start their clock together, so their measured windows coincide.
    barrier.wait(timeout=STARTUP_TIMEOUT_S)
    measure_from_ns = time.monotonic_ns() + int(warmup_s * 1e9)
    until_ns = measure_from_ns + int(duration_s * 1e9)
    threads = [
        threading.Thread(
            target=client_loop, args=(target, measure_from_ns, until_ns, tally), daemon=True
        )
        for tally in tallies
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup_s + duration_s + 2 * REQUEST_TIMEOUT_S)
    merged = Tally()
    for tally in tallies:
        merged.merge(tally)
    results.put(merged)


def run_load(
    target: Target, clients: int, processes: int, warmup_s: float, duration_s: float
) -> Tally:
    """Load one endpoint with `clients` clients spread over `processes` processes."""
    # spawn, not fork: the children start clean, without this process's threads or sockets.
    ctx = multiprocessing.get_context("spawn")
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=generator_process,
            args=(target, share, warmup_s, duration_s, barrier, results),
            daemon=True,
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S + warmup_s + duration_s + 3 * REQUEST_TIMEOUT_S
    total = Tally()
    received = 0
    try:
        # Drain the queue before joining: a child blocks on exit until its result is read.
        while received < len(workers):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the load generator for {target.name} did not finish in time")
            try:
                total.merge(results.get(timeout=0.5))
                received += 1
            except queue.Empty:
                if any(worker.exitcode not in (None, 0) for worker in workers):
                    raise RuntimeError(
                        f"a load-generator process for {target.name} failed"
                    ) from None
    finally:
        for worker in workers:
            worker.join(timeout=max(0.1, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join()
    return total


def machine_busy_s() -> float:
    """CPU seconds all CPUs have spent busy since boot (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[1:8])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def process_cpu_s(pid: int, *, with_ended_children: bool = False) -> float:
    """CPU seconds a process has used so far (and, if asked, its children that have ended and
    been reaped), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The command name in parentheses may contain spaces; the fields follow its ")".
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def database_cpu_s() -> float:
    """CPU seconds used so far by the local PostgreSQL's processes (the API's queries run there,
    so their share is the benchmark's own work, not interference), including the parallel
    query workers and backends that have ended since (reaped by the postmaster)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += process_cpu_s(int(entry.name), with_ended_children=True)
        except OSError:
            continue  # it ended meanwhile
    return total


def server_cpu_s(server: Server) -> float:
    """CPU seconds used so far by a gunicorn master and its current workers."""
    pid = server.process.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return process_cpu_s(pid) + sum(process_cpu_s(int(child)) for child in children)


def cpu_snapshot(servers: list[Server]) -> CpuSnapshot:
    """Where the machine's CPU time has gone so far."""
    return CpuSnapshot(
        wall_s=time.monotonic(),
        machine_busy_s=machine_busy_s(),
        servers_s=sum(server_cpu_s(server) for server in servers),
        # The generator processes are this process's children, reaped by the end of a run.
        generator_s=sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]),
        own_s=sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        database_s=database_cpu_s(),
    )


def cpu_shares(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, int]:
    """CPU used between two snapshots, as % of one CPU: the servers, the generator, the
    database, the rest."""
    wall = after.wall_s - before.wall_s
    servers = after.servers_s - before.servers_s
    generator = after.generator_s - before.generator_s + after.own_s - before.own_s
    database = max(0.0, after.database_s - before.database_s)
    busy = after.machine_busy_s - before.machine_busy_s
    return {
        "servers": round(100 * servers / wall),
        "load_generator": round(100 * generator / wall),
        "database": round(100 * database / wall),
        "other_processes": max(0, round(100 * (busy - servers - generator - database) / wall)),
        "machine_busy": round(100 * busy / wall),
    }


def percentile(sorted_values: list[int], pct: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(len(sorted_values) * pct / 100))
    return sorted_values[rank - 1]


def summarise(
    target: Target,
    tally: Tally,
    args: argparse.Namespace,
    size: int,
    cpu: dict[str, int],
) -> dict[str, Any]:
    """Turn one endpoint's tally into the figures that are printed and saved."""
    latencies = sorted(tally.latencies_ns)
    latency_ms: dict[str, float | None] = dict.fromkeys(("p50", "p90", "p99", "max", "mean"))
    if latencies:
        latency_ms = {
            "p50": percentile(latencies, 50) / 1e6,
            "p90": percentile(latencies, 90) / 1e6,
            "p99": percentile(latencies, 99) / 1e6,
            "max": latencies[-1] / 1e6,
            "mean": sum(latencies) / len(latencies) / 1e6,
        }
    return {
        "name": target.name,
        "endpoint": f"GET {target.path}",
        "authenticated": "Authorization" in target.headers,
        "response_bytes": size,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / args.duration, 1),
        "latency_ms": {k: None if v is None else round(v, 2) for k, v in latency_ms.items()},
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors.most_common()),
        "warmup_requests": tally.warmup_requests,
        "warmup_errors": dict(tally.warmup_errors.most_common()),
        "closed_by_server_pct": round(100 * tally.closed_by_server / tally.responses, 1)
        if tally.responses
        else None,
        "server_cpu_ms_per_request": server_cpu_ms_per_request(
            cpu, len(latencies), args.warmup, args.duration
        ),
        # Over the whole run of this endpoint (warm-up included), as % of one CPU.
        "cpu_pct_of_one_cpu": cpu,
    }


def server_cpu_ms_per_request(
    cpu: dict[str, int], requests: int, warmup_s: float, duration_s: float
) -> float | None:
    """The servers' CPU per request: their CPU over the whole run (warm-up included) over the
    requests of the whole run (the measured ones' rate over warm-up and measured time). Less
    sensitive than req/s to what else the machine runs."""
    if not requests:
        return None
    seconds = warmup_s + duration_s
    requests_in_run = requests * seconds / duration_s
    return round(10 * cpu["servers"] * seconds / requests_in_run, 2)


def server_log_problems(server: Server) -> list[str]:
    """Lines in a server's output that show a crash, a worker timeout or a logged error."""
    markers = ("Traceback", "WORKER TIMEOUT", "[CRITICAL]", "[ERROR]", " ERROR ")
    server.log_file.flush()
    with server.log_path.open(errors="replace") as log:
        return [line.rstrip() for line in log if any(m in line for m in markers)]


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gunicorn": metadata.version("gunicorn"),
        "flask": metadata.version("flask"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def span(values: list[float]) -> str:
    """A range of figures as "low-high", or one figure when they are all equal."""
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def build_report(
    args: argparse.Namespace,
    started: datetime,
    machine: dict[str, Any],
    database: str,
    rows: list[dict[str, Any]],
    problems: dict[str, list[str]],
    *,
    settings: dict[str, Any] | None = None,
    benchmark: str = "http_baseline",
    title: str = "Binjai API HTTP baseline",
    data_lines: list[str] | None = None,
) -> dict[str, Any]:
    """Everything that is printed and saved, as one JSON-ready dict. Other benchmarks
    (bench/<benchmark>.py) pass their name, title and a description of their data."""
    settings = settings or server_settings(args)
    floor = rows[0]["requests_per_s"] or None
    for row in rows:
        row["pct_of_floor"] = round(100 * row["requests_per_s"] / floor) if floor else None
    closed = [row["closed_by_server_pct"] or 0 for row in rows]
    threads = settings["threads"]
    workers = f"{GUNICORN_WORKERS} workers of {threads} thread{'s' if threads > 1 else ''}"
    generator = [row["cpu_pct_of_one_cpu"]["load_generator"] for row in rows]
    other = max(row["cpu_pct_of_one_cpu"]["other_processes"] for row in rows)
    notes = [
        f"This machine has {machine['nproc']} CPUs ({100 * machine['nproc']}% in the CPU table), "
        "shared by the gunicorn workers, the load generator (which used "
        f"{span(generator)}% of one CPU), the local PostgreSQL and anything else running: "
        "compare the endpoints with "
        "each other and with the floor; the figures are not the API's capacity on a server.",
        f"The server closed the connection after {span(closed)}% of responses (gunicorn's sync "
        "worker closes every one; gthread keeps them alive): a closed one costs the next request "
        "a new loopback TCP connection, which http.client opens by itself.",
        f"Closed loop: {args.clients} clients against {workers}, so latency includes waiting for "
        "a free worker (mean latency ~ clients / req/s).",
        "req/s counts 2xx responses completed in the measured window; percentiles are "
        "nearest-rank over those responses. CPU shares cover each endpoint's whole run, "
        "warm-up included.",
    ]
    if other > OTHER_CPU_WARNING_PCT:
        notes.append(
            f"WARNING: other processes used up to {other}% of one CPU during these runs, which "
            "depresses the figures; rerun on a quiet machine for numbers worth comparing."
        )
    return {
        "benchmark": benchmark,
        "title": title,
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", f"bench/{benchmark}.py", *sys.argv[1:]]),
        "data_lines": data_lines or [],
        "machine": machine,
        "parameters": {
            "clients": args.clients,
            "generator_processes": args.processes,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "rounds": getattr(args, "rounds", 1),
            "gunicorn_workers": GUNICORN_WORKERS,
            "gunicorn_worker_class": settings["worker_class"],
            "gunicorn": settings,
            "host": HOST,
            "database": database,
            "rate_limits": RATE_LIMITS,
        },
        "results": rows,
        "server_log_problems": problems,
        "notes": notes,
    }


LATENCY_HEADINGS = (
    "endpoint",
    "req/s",
    "of floor",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "errors",
    "server CPU ms/req",
)
CPU_HEADINGS = (
    "CPU during the run, % of one CPU",
    "server workers",
    "load generator",
    "PostgreSQL",
    "other",
)


def latency_cells(row: dict[str, Any]) -> list[str]:
    """One result as cells of the latency table."""
    latency = row["latency_ms"]
    return [
        f"{row['name']} ({row['endpoint']})",
        f"{row['requests_per_s']:.1f}",
        "-" if row["pct_of_floor"] is None else f"{row['pct_of_floor']}%",
        *("-" if latency[k] is None else f"{latency[k]:.2f}" for k in ("p50", "p90", "p99", "max")),
        str(row["errors"]),
        "-"
        if row.get("server_cpu_ms_per_request") is None
        else f"{row['server_cpu_ms_per_request']:.2f}",
    ]


def cpu_cells(row: dict[str, Any]) -> list[str]:
    """One result as cells of the CPU table."""
    cpu = row["cpu_pct_of_one_cpu"]
    return [
        row["name"],
        *(
            f"{cpu[k]}%" if k in cpu else "-"
            for k in ("servers", "load_generator", "database", "other_processes")
        ),
    ]


def text_table(headings: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [list(headings), *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headings))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "-" * len(lines[0]))
    return lines


def markdown_table(headings: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    """A Markdown table: first column left-aligned, the others right-aligned."""
    return [
        "| " + " | ".join(headings) + " |",
        "|" + "|".join([" --- "] + [" ---: "] * (len(headings) - 1)) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def detail_lines(report: dict[str, Any]) -> list[str]:
    """Errors and server-log problems, if there were any."""
    lines: list[str] = []
    for row in report["results"]:
        for kind, count in row["error_kinds"].items():
            lines.append(f"error on {row['endpoint']}: {count} x {kind}")
        for kind, count in row["warmup_errors"].items():
            lines.append(f"warm-up error on {row['endpoint']}: {count} x {kind}")
    for name, problems in report["server_log_problems"].items():
        lines.extend(f"{name} server log: {line}" for line in problems[:10])
        if len(problems) > 10:
            lines.append(f"{name} server log: ... {len(problems) - 10} more")
    return lines


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The header lines shared by the printed and the Markdown report."""
    machine, params = report["machine"], report["parameters"]
    return [
        *report.get("data_lines", []),
        f"machine: {machine['nproc']} CPUs (nproc), {machine['cpu_model'] or 'unknown CPU'}, "
        f"{machine['platform']}, Python {machine['python']}, gunicorn {machine['gunicorn']}, "
        f"Flask {machine['flask']}; load average at start {machine['load_average_at_start']}",
        (
            f"servers: gunicorn, {describe_servers(params['gunicorn'])} per app"
            if "gunicorn" in params
            else f"servers: gunicorn, {params['gunicorn_workers']} "
            f"{params['gunicorn_worker_class']} workers per app"
        )
        + f", both running, on {params['host']}; API database {params['database']}",
        f"load: {params['clients']} closed-loop clients (http.client, one connection each) in "
        f"{params['generator_processes']} processes; "
        + (
            f"{params['rounds']} rounds, each giving every endpoint in turn "
            f"{params['warmup_s']:g} s of warm-up, then "
            f"{params['duration_s'] / params['rounds']:g} s measured ("
            f"{params['duration_s']:g} s per endpoint)"
            if params.get("rounds", 1) > 1
            else f"per endpoint {params['warmup_s']:g} s warm-up, then "
            f"{params['duration_s']:g} s measured; endpoints one after the other"
        ),
    ]


def render_text(report: dict[str, Any]) -> str:
    """The report as printed on the terminal."""
    results = report["results"]
    return "\n".join(
        [
            f"{report['title']}, {report['date']}",
            *summary_lines(report),
            "",
            *text_table(LATENCY_HEADINGS, [latency_cells(row) for row in results]),
            "",
            *text_table(CPU_HEADINGS, [cpu_cells(row) for row in results]),
            "",
            *(f"- {note}" for note in report["notes"]),
            "",
            *(detail_lines(report) or ["no errors; no problems in the server logs"]),
        ]
    )


def render_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown document."""
    results = report["results"]
    return "\n".join(
        [
            f"# {report['title']}",
            "",
            f"Measured {report['date']} with `{report['command']}`.",
            "",
            *(f"- {line}" for line in summary_lines(report)),
            "",
            *markdown_table(LATENCY_HEADINGS, [latency_cells(row) for row in results]),
            "",
            *markdown_table(CPU_HEADINGS, [cpu_cells(row) for row in results]),
            "",
            *(f"- {note}" for note in report["notes"]),
            "",
            *(
                f"- {line}"
                for line in detail_lines(report) or ["No errors; no problems in the server logs."]
            ),
            "",
        ]
    )


def target_line(rows: list[dict[str, Any]]) -> str:
    """Issue 17's target, judged on this run: /me and the feed at 50% of the floor or more."""
    shares = {row["name"]: row["pct_of_floor"] for row in rows}
    judged = [(name, shares.get(name)) for name in ("me, authenticated", "public feed")]
    met = all(share is not None and share >= FLOOR_TARGET_PCT for _name, share in judged)
    figures = ", ".join(f"{name} {share}%" for name, share in judged)
    return (
        f"Target (issue 17): /me and the feed at >= {FLOOR_TARGET_PCT}% of the floor in the same "
        f"run: {figures}: {'met' if met else 'not met'}."
    )


def measure_endpoint(
    target: Target, args: argparse.Namespace, servers: list[Server]
) -> dict[str, Any]:
    """Check that an endpoint answers, load it, and summarise what was observed."""
    size = check_target(target)
    print(
        f"measuring {target.name}: GET {target.path} ({args.warmup:g} s warm-up, "
        f"{args.duration:g} s measured) ...",
        flush=True,
    )
    before = cpu_snapshot(servers)
    tally = run_load(target, args.clients, args.processes, args.warmup, args.duration)
    cpu = cpu_shares(before, cpu_snapshot(servers))
    return summarise(target, tally, args, size, cpu)


def measure_in_turns(
    targets: list[Target], args: argparse.Namespace, servers: list[Server]
) -> list[dict[str, Any]]:
    """Measure the targets in `args.rounds` turns, each giving every target its warm-up and
    duration/rounds measured seconds, then summarise each over all its turns (its requests and
    latencies together, its CPU shares averaged over its turns of equal length)."""
    sizes = {target.name: check_target(target) for target in targets}
    tallies = {target.name: Tally() for target in targets}
    shares: dict[str, list[dict[str, int]]] = {target.name: [] for target in targets}
    slice_s = args.duration / args.rounds
    for turn in range(1, args.rounds + 1):
        for target in targets:
            print(
                f"round {turn}/{args.rounds}, {target.name}: GET {target.path} "
                f"({args.warmup:g} s warm-up, {slice_s:g} s measured) ...",
                flush=True,
            )
            before = cpu_snapshot(servers)
            tallies[target.name].merge(
                run_load(target, args.clients, args.processes, args.warmup, slice_s)
            )
            shares[target.name].append(cpu_shares(before, cpu_snapshot(servers)))
    # Over all turns: the measured time is `duration`, the warm-up `rounds` times `warmup`.
    whole = argparse.Namespace(**{**vars(args), "warmup": args.warmup * args.rounds})
    rows = []
    for target in targets:
        turns = shares[target.name]
        cpu = {key: round(sum(turn[key] for turn in turns) / len(turns)) for key in turns[0]}
        rows.append(summarise(target, tallies[target.name], whole, sizes[target.name], cpu))
    return rows


def stop_servers(servers: list[Server]) -> None:
    """Stop every server, even when one of them fails to stop."""
    for server in servers:
        try:
            stop_server(server)
        except Exception as exc:  # still stop the others and remove the temp dir
            print(f"could not stop the {server.name} gunicorn: {exc}", file=sys.stderr)


def write_atomically(path: Path, text: str) -> None:
    """Replace a results file only once the new content is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def exit_on_sigterm(_signum: int, _frame: Any) -> None:
    """Turn SIGTERM into SystemExit, so the finally blocks still stop the servers."""
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; a setup or load failure ends it with a message instead of figures."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        return benchmark(args)
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


def benchmark(args: argparse.Namespace) -> int:
    """Prepare the database, start both servers, measure the three endpoints, report."""
    started = datetime.now(UTC)
    machine = machine_info()
    workdir = Path(tempfile.mkdtemp(prefix="binjai-bench-"))
    custom_url = os.environ.get("BENCH_DATABASE_URL")
    database_url = custom_url or f"sqlite:///{workdir / 'bench.db'}"
    database = redact_url(custom_url) if custom_url else "SQLite, a throwaway file in a temp dir"
    servers: list[Server] = []
    rows: list[dict[str, Any]] = []
    try:
        env = server_env(database_url)
        print(f"preparing the database ({database}) ...", flush=True)
        run_flask(["db", "upgrade"], env)
        run_flask(["seed-demo"], env)
        overrides = server_overrides(args)
        api = start_gunicorn("api", "binjai_api:create_app()", env, workdir, overrides)
        servers.append(api)
        hello = start_gunicorn(
            "hello", "hello_app:app", env, workdir, ["--pythonpath", str(BENCH_DIR), *overrides]
        )
        servers.append(hello)
        wait_until_up(api, "/healthz")
        wait_until_up(hello, "/hello")
        endpoints = [
            ("hello-world floor", hello, "/hello", False),
            ("agencies", api, "/api/v1/agencies", False),
            ("me, authenticated", api, "/api/v1/me", True),
            ("public feed", api, FEED_PATH, False),
        ]
        targets = [
            # Logged in right before the run: the token stays valid for all of it.
            Target(
                name,
                server.port,
                path,
                {"Authorization": f"Bearer {log_in(api.port)}"} if authenticated else {},
            )
            for name, server, path, authenticated in endpoints
        ]
        rows = measure_in_turns(targets, args, servers)
        problems = {server.name: server_log_problems(server) for server in servers}
    finally:
        stop_servers(servers)
        shutil.rmtree(workdir, ignore_errors=True)
    report = build_report(args, started, machine, database, rows, problems)
    report["notes"].append(target_line(rows))
    print()
    print(render_text(report))
    write_atomically(RESULTS_DIR / "http_baseline.json", json.dumps(report, indent=2) + "\n")
    write_atomically(RESULTS_DIR / "http_baseline.md", render_markdown(report))
    print(f"\nwritten: {RESULTS_DIR / 'http_baseline.json'}, {RESULTS_DIR / 'http_baseline.md'}")
    failed = any(row["errors"] or not row["requests"] for row in rows)
    return 1 if failed or any(problems.values()) else 0


# --- shared by the concurrent-writer benchmarks (audit_writers.py, ops_day_rows_contention.py) ---


def add_writer_arguments(
    parser: argparse.ArgumentParser, *, duration: float, database: str, label_help: str
) -> None:
    """The options every concurrent-writer benchmark takes: how many writers, for how long, on
    which throwaway database, and which checkout's code (`--tree`)."""
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--duration", type=float, default=duration, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--label", default="run", help=label_help)
    parser.add_argument(
        "--database", default=database, help="the throwaway database (dropped and created)"
    )
    parser.add_argument(
        "--tree", type=Path, help="measure the code and migrations of this checkout instead"
    )


def use_tree(tree: Path) -> None:
    """Import binjai_api from another checkout, here, in the writers and in `flask db`."""
    source = str(tree.resolve() / "src")
    if not Path(source, "binjai_api").is_dir():
        raise SystemExit(f"{tree} has no src/binjai_api")
    sys.path.insert(0, source)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (source, os.environ.get("PYTHONPATH")) if part
    )


def latency_percentile(values: list[float], pct: float) -> float:
    """The `pct` percentile of unsorted latencies (0 when there are none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


if __name__ == "__main__":
    sys.exit(main())
