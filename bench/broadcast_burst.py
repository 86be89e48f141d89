"""After a city-wide broadcast: residents open the app at once (issue 17).

Closed-loop clients (32 by default, each on its own keep-alive connection, as the app's HTTP
client keeps one) each cycle over what the app loads when it opens: the inbox with its unread
count, the public feed (a page of 20), facilities near a point, my bookings, my complaints and
/me, against the API under gunicorn (2 workers, with the tree's gunicorn.conf.py: the production
settings) on PostgreSQL + Redis. In the same run, with the same clients: a bare Flask hello-world
under the same gunicorn settings (the floor, measured first and last), then /me alone and the feed
alone. With `--before-tree DIR` the code in DIR (`git archive <commit> | tar -x -C DIR`) is
measured the same way first, with its own gunicorn.conf.py, on the same database made afresh, so
that before and after share the run. Reports req/s, p50, p95, p99, each row's share of the floor,
the server CPU per request and issue 17's targets.

The residents share one address (the load generator), so the per-address default limit is raised,
as a city's NAT would need too; it is still evaluated on every request.

Database: BENCH_PG_URL (default the local database bench_burst, its schema dropped and
recreated); Redis: BENCH_REDIS_URL (default db 5, flushed).

Run: .venv/bin/python bench/broadcast_burst.py [--clients 32] [--duration 10] [--label after]
[--before-tree DIR] [--threads N] [--keep-alive S]
Writes bench/results/broadcast_burst-<label>.{json,md}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as hb  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", f"{hb.PG_SERVER_URL}/bench_burst")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
FACILITIES = "/api/v1/facilities?lat=3.6&lon=98.49&radius_m=5000"
FEED = "/api/v1/public/complaints?page_size=20"
APP_OPENING = [
    "/api/v1/notifications?page_size=20",
    FEED,
    FACILITIES,
    "/api/v1/queue-bookings/mine",
    "/api/v1/complaints/mine",
    "/api/v1/me",
]
SEED_COMPLAINTS = 60
# Issue 17: the burst at 2.5x the 251 req/s measured before the work (2 sync workers), and at
# least 12% of the hello-world floor in the same run, with p99 at most 150 ms at 32 clients.
BEFORE_BURST_REQ_S = 251.0
TARGET_SPEEDUP = 2.5
TARGET_PCT_OF_FLOOR = 12
TARGET_P99_MS = 150
RATE_LIMITS = {
    "DEFAULT_RATE_LIMIT": "1000000 per minute",
    "LOGIN_RATE_LIMIT": "1000 per minute",
    "COMPLAINT_SUBMIT_RATE_LIMIT": "1000 per minute",
}


def prepare_database() -> None:
    """Empty the bench database's schema (creating the database if need be) and the bench Redis
    db."""
    import redis

    url = sa.engine.make_url(PG_URL)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    admin.dispose()
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()


def server_env(tree: Path) -> dict[str, str]:
    """The API's environment: PostgreSQL, Redis, the raised limits, the code in `tree`."""
    env = hb.server_env(PG_URL)
    env.update(
        REDIS_URL=REDIS_URL,
        **RATE_LIMITS,
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="1024",
        ARGON2_PARALLELISM="1",
        PYTHONPATH=str(tree / "src"),
    )
    return env


def request(
    port: int, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(hb.HOST, port, timeout=hb.REQUEST_TIMEOUT_S)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return response.status, json.loads(data) if data else None


def seed_activity(port: int, token: str) -> None:
    """Reports in the feed, the resident's own reports and a booking."""
    _status, categories = request(port, "GET", "/api/v1/complaint-categories")
    for n in range(SEED_COMPLAINTS):
        status, body = request(
            port,
            "POST",
            "/api/v1/complaints",
            token,
            {
                "type": "complaint",
                "category_id": categories[n % len(categories)]["id"],
                "title": f"Lampu jalan padam nomor {n}",
                "description": f"Lampu jalan di depan rumah nomor {n} padam sejak minggu lalu.",
                "lat": 3.55 + (n % 97) * 0.001,
                "lon": 98.45 + (n % 89) * 0.001,
                "kelurahan_code": "12.75.02.1001",
                "privacy": "public",
            },
        )
        if status != 201:
            raise RuntimeError(f"seeding complaints: HTTP {status} {body}")
    _status, facilities = request(port, "GET", FACILITIES)
    for days in range(8):
        day = (date.today() + timedelta(days=days)).isoformat()
        for facility in facilities:
            for service in facility.get("services", []):
                status, _ = request(
                    port,
                    "POST",
                    "/api/v1/queue-bookings",
                    token,
                    {"facility_id": facility["id"], "service_id": service["id"], "date": day},
                )
                if status == 201:
                    return
    raise RuntimeError("no facility took a booking in the next 7 days")


def mix_client(
    port: int,
    paths: list[str],
    token: str | None,
    offset: int,
    measure_from_ns: int,
    until_ns: int,
    tally: hb.Tally,
) -> None:
    """One closed-loop client cycling over `paths`, starting at `offset`."""
    conn = http.client.HTTPConnection(hb.HOST, port, timeout=hb.REQUEST_TIMEOUT_S)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    n = offset
    try:
        while (sent_ns := time.monotonic_ns()) < until_ns:
            path = paths[n % len(paths)]
            n += 1
            error: str | None = None
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if not 200 <= response.status < 300:
                    error = f"{path}: HTTP {response.status}: {body[: hb.MAX_ERROR_BODY]!r}"
                tally.responses += 1
                tally.closed_by_server += response.will_close
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                error = f"{type(exc).__name__}: {exc}"
                time.sleep(hb.ERROR_BACKOFF_S)
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
    port: int,
    paths: list[str],
    tokens: list[str | None],
    warmup_s: float,
    duration_s: float,
    barrier: Any,
    results: Any,
) -> None:
    """One load-generator process: a thread per client, each with its own token."""
    tallies = [hb.Tally() for _ in tokens]
    barrier.wait(timeout=hb.STARTUP_TIMEOUT_S)
    measure_from_ns = time.monotonic_ns() + int(warmup_s * 1e9)
    until_ns = measure_from_ns + int(duration_s * 1e9)
    threads = [
        threading.Thread(
            target=mix_client,
            args=(port, paths, token, i, measure_from_ns, until_ns, tally),
            daemon=True,
        )
        for i, (token, tally) in enumerate(zip(tokens, tallies, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup_s + duration_s + 2 * hb.REQUEST_TIMEOUT_S)
    merged = hb.Tally()
    for tally in tallies:
        merged.merge(tally)
    results.put(merged)


def run_mix(
    port: int,
    paths: list[str],
    tokens: list[str | None],
    processes: int,
    warmup_s: float,
    duration_s: float,
) -> hb.Tally:
    """`len(tokens)` clients over `processes` processes, all cycling over `paths`."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=generator_process,
            args=(port, paths, tokens[i::processes], warmup_s, duration_s, barrier, results),
            daemon=True,
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    total, received = hb.Tally(), 0
    deadline = time.monotonic() + hb.STARTUP_TIMEOUT_S + warmup_s + duration_s + 30
    try:
        while received < len(workers):
            if time.monotonic() > deadline:
                raise TimeoutError("the load generator did not finish in time")
            try:
                total.merge(results.get(timeout=0.5))
                received += 1
            except queue.Empty:
                if any(worker.exitcode not in (None, 0) for worker in workers):
                    raise RuntimeError("a load-generator process failed") from None
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    return total


def summarise(
    name: str, tally: hb.Tally, duration_s: float, warmup_s: float, cpu: dict[str, int]
) -> dict[str, Any]:
    latencies = sorted(tally.latencies_ns)

    def pct(p: float) -> float | None:
        return round(hb.percentile(latencies, p) / 1e6, 2) if latencies else None

    seconds = duration_s + warmup_s
    requests_in_run = len(latencies) * seconds / duration_s  # the CPU shares cover the warm-up
    return {
        "name": name,
        "server_cpu_ms_per_request": round(10 * cpu["servers"] * seconds / requests_in_run, 2)
        if latencies
        else None,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / duration_s, 1),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors.most_common(5)),
        "cpu_pct_of_one_cpu": cpu,
    }


def measure(
    name: str,
    server: hb.Server,
    paths: list[str],
    tokens: list[str | None],
    args: argparse.Namespace,
    servers: list[hb.Server],
) -> dict[str, Any]:
    """One closed-loop run against `server`, summarised."""
    print(f"measuring {name} ...", flush=True)
    before = hb.cpu_snapshot(servers)
    tally = run_mix(server.port, paths, tokens, args.processes, args.warmup, args.duration)
    cpu = hb.cpu_shares(before, hb.cpu_snapshot(servers))
    return summarise(name, tally, args.duration, args.warmup, cpu)


def measure_api(
    label: str, tree: Path, args: argparse.Namespace, workdir: Path, hello: hb.Server
) -> tuple[list[dict[str, Any]], list[str]]:
    """The API of the code in `tree` on a fresh database: the mix, /me alone, the feed alone."""
    print(f"{label}: preparing {hb.redact_url(PG_URL)} and {REDIS_URL} ...", flush=True)
    prepare_database()
    env = server_env(tree)
    hb.run_flask(["db", "upgrade"], env)
    hb.run_flask(["seed-demo"], env)
    api = hb.start_gunicorn(
        f"api-{label}",
        "binjai_api:create_app()",
        env,
        workdir,
        hb.server_overrides(args),
        config=tree / "gunicorn.conf.py",
    )
    try:
        hb.wait_until_up(api, "/healthz")
        seed_activity(api.port, hb.log_in(api.port))
        # One session per resident opening the app (the demo resident, logged in on each phone).
        tokens: list[str | None] = [hb.log_in(api.port) for _ in range(args.clients)]
        no_tokens: list[str | None] = [None] * args.clients
        servers = [api, hello]
        rows = [
            measure(
                f"{label}: app opening mix (6 screens, cycled)",
                api,
                APP_OPENING,
                tokens,
                args,
                servers,
            ),
            measure(f"{label}: GET /api/v1/me", api, ["/api/v1/me"], tokens, args, servers),
            measure(f"{label}: GET {FEED}", api, [FEED], no_tokens, args, servers),
        ]
        return rows, hb.server_log_problems(api)
    finally:
        hb.stop_servers([api])


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC)
    machine = hb.machine_info()
    workdir = Path(tempfile.mkdtemp(prefix="binjai-burst-"))
    rows: list[dict[str, Any]] = []
    problems: dict[str, list[str]] = {}
    trees = [("after" if args.before_tree else "this code", Path(args.tree).resolve())]
    if args.before_tree:
        trees.insert(0, ("before", Path(args.before_tree).resolve()))
    hello = hb.start_gunicorn(
        "hello",
        "hello_app:app",
        server_env(hb.REPO_DIR),
        workdir,
        ["--pythonpath", str(BENCH_DIR), *hb.server_overrides(args)],
        config=Path(args.tree).resolve() / "gunicorn.conf.py",
    )
    no_tokens: list[str | None] = [None] * args.clients
    try:
        hb.wait_until_up(hello, "/hello")
        rows.append(
            measure("hello-world floor (GET /hello)", hello, ["/hello"], no_tokens, args, [hello])
        )
        for label, tree in trees:
            tree_rows, tree_problems = measure_api(label, tree, args, workdir, hello)
            rows.extend(tree_rows)
            problems[label] = tree_problems
        rows.append(
            measure(
                "hello-world floor again (GET /hello)", hello, ["/hello"], no_tokens, args, [hello]
            )
        )
        problems["hello"] = hb.server_log_problems(hello)
    finally:
        hb.stop_servers([hello])
        shutil.rmtree(workdir, ignore_errors=True)
    floors = [row["requests_per_s"] for row in rows if row["name"].startswith("hello")]
    floor = sum(floors) / len(floors) or 1
    for row in rows:
        row["pct_of_floor"] = round(100 * row["requests_per_s"] / floor, 1)
    servers = {label: hb.server_settings(args, tree / "gunicorn.conf.py") for label, tree in trees}
    return {
        "benchmark": "broadcast_burst",
        "label": args.label,
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/broadcast_burst.py", *sys.argv[1:]]),
        "machine": machine,
        "parameters": {
            "clients": args.clients,
            "generator_processes": args.processes,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "gunicorn_workers": hb.GUNICORN_WORKERS,
            "gunicorn": servers,
            "database": hb.redact_url(PG_URL),
            "redis": REDIS_URL,
            "rate_limits": RATE_LIMITS,
            "mix": APP_OPENING,
        },
        "results": rows,
        "targets": targets(rows),
        "server_log_problems": problems,
    }


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 17's targets for the burst, judged on the last mix measured (the after's)."""
    mixes = [row for row in rows if "app opening mix" in row["name"]]
    if not mixes:
        return []
    mix = mixes[-1]
    lines = []
    speedup = mix["requests_per_s"] / BEFORE_BURST_REQ_S
    lines.append(
        f"{mix['name']}: {mix['requests_per_s']:.1f} req/s, {speedup:.2f}x the issue's "
        f"{BEFORE_BURST_REQ_S:g} req/s (target {TARGET_SPEEDUP:g}x, on its machine)"
    )
    if len(mixes) > 1:
        before = mixes[0]
        lines.append(
            f"in this run: {mix['requests_per_s'] / (before['requests_per_s'] or 1):.2f}x "
            f"{before['name']} ({before['requests_per_s']:.1f} req/s), p99 "
            f"{before['p99_ms']} -> {mix['p99_ms']} ms"
        )
    met = mix["pct_of_floor"] >= TARGET_PCT_OF_FLOOR
    lines.append(
        f"{mix['pct_of_floor']:g}% of the floor (target >= {TARGET_PCT_OF_FLOOR}%): "
        f"{'met' if met else 'not met'}"
    )
    met = mix["p99_ms"] is not None and mix["p99_ms"] <= TARGET_P99_MS
    lines.append(
        f"p95 {mix['p95_ms']} ms, p99 {mix['p99_ms']} ms (target p99 <= {TARGET_P99_MS} ms): "
        f"{'met' if met else 'not met'}"
    )
    for row in rows:
        if row["name"].endswith(("/api/v1/me", FEED)) and row is not mix:
            if row["name"].startswith("before"):
                continue
            lines.append(f"{row['name']}: {row['pct_of_floor']:g}% of the floor (target >= 50%)")
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    params, machine = report["parameters"], report["machine"]
    lines = [
        f"# After a broadcast: the app opened by {params['clients']} residents at once "
        f"({report['label']})",
        "",
        f"Measured {report['date']} with `{report['command']}`.",
        "",
        f"- machine: {machine['nproc']} CPUs, {machine['cpu_model']}, load average at start "
        f"{machine['load_average_at_start']} (shared by the servers, PostgreSQL, Redis and the "
        "load generator)",
        "- servers: gunicorn, "
        + "; ".join(
            f"{label}: {hb.describe_servers(settings)}"
            for label, settings in params["gunicorn"].items()
        )
        + f" (the floor with the last); API on {params['database']} + Redis {params['redis']}",
        f"- load: {params['clients']} closed-loop clients in {params['generator_processes']} "
        f"processes, {params['warmup_s']:g} s warm-up then {params['duration_s']:g} s measured per "
        "row; the mix cycles over " + ", ".join(f"`{p}`" for p in params["mix"]),
        "",
        "| run | req/s | of floor | p50 ms | p95 ms | p99 ms | errors | server CPU ms/request | "
        "CPU servers / load gen / PostgreSQL / other (% of one CPU) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in report["results"]:
        cpu = row["cpu_pct_of_one_cpu"]
        lines.append(
            f"| {row['name']} | {row['requests_per_s']:.1f} | {row['pct_of_floor']:g}% | "
            f"{row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['errors']} | "
            f"{row['server_cpu_ms_per_request']} | "
            f"{cpu['servers']} / {cpu['load_generator']} / {cpu['database']} / "
            f"{cpu['other_processes']} |"
        )
    lines.append("")
    lines.extend(f"- {line}" for line in report.get("targets", []))
    lines.append("")
    for row in report["results"]:
        for kind, count in row["error_kinds"].items():
            lines.append(f"- error in {row['name']}: {count} x {kind}")
    for name, problems in report["server_log_problems"].items():
        lines.extend(f"- {name} server log: {line}" for line in problems[:10])
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--label", default="after")
    parser.add_argument(
        "--tree",
        default=str(hb.REPO_DIR),
        help="the code to measure (default: this working tree)",
    )
    hb.add_server_arguments(parser)
    parser.add_argument(
        "--before-tree",
        help="also measure the code in this directory (e.g. an export of an older commit), in "
        "the same run, on a database of its own making",
    )
    args = parser.parse_args(argv)
    try:
        report = benchmark(args)
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    markdown = render_markdown(report)
    print()
    print(markdown)
    stem = hb.RESULTS_DIR / f"broadcast_burst-{args.label}"
    hb.write_atomically(stem.with_suffix(".json"), json.dumps(report, indent=2) + "\n")
    hb.write_atomically(stem.with_suffix(".md"), markdown)
    print(f"written: {stem}.json, {stem}.md")
    return 1 if any(row["errors"] for row in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
