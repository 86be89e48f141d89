"""Audited writes under contention: 16 writers at once on PostgreSQL, and what sealing costs them.

On a throwaway PostgreSQL database (`bench_audit`, dropped and created anew), `--writers`
processes (default 16) each commit audited writes for `--duration` seconds, as fast as they can:
one write declares a local day off (one audited row, one audit record, one commit), through the
service the API calls. When the code seals off the request path (`audit.service.seal_pending`),
one more process seals what is pending the way the outbox worker does, every
AUDIT_SEAL_INTERVAL_SECONDS, during the run; at the end the rest is sealed and the time it took
is printed. Either way the chain is verified at the end.

Run: .venv/bin/python bench/audit_writers.py [--writers 16] [--duration 10] [--label after]
     [--database bench_audit] [--tree DIR]
`--tree` runs another checkout's code and migrations (its src/ first on the path), e.g. the
"before" commit unpacked with `git archive 8e7276e~1 | tar -x -C /tmp/before`, so that before
and after are measured one after the other by the same script. `--database` names the
throwaway database, for runs beside others on one PostgreSQL server.
Prints the figures and appends them to bench/results/audit_writers.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (the shared database and machine helpers)

DATABASE_NAME = "bench_audit"
FIRST_DAY = date(2200, 1, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    base.add_writer_arguments(
        parser,
        duration=10.0,
        database=DATABASE_NAME,
        label_help="a name for this run in the results",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=BENCH_DIR / "results" / "audit_writers.md",
        help="the file the figures are appended to",
    )
    return parser.parse_args()


def _app(database_url: str) -> Any:
    from binjai_api import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BINJAI_ENV": "development",
            "DB_POOL_SIZE": 2,
        }
    )


def writer(index: int, writers: int, database_url: str, ready: Any, go: Any, results: Any) -> None:
    """Declare days off (index, index + writers, ...) until told to stop; report the latency of
    each write committed in the measured window, and the CPU this process used over them."""
    from binjai_api.extensions import db
    from binjai_api.workcalendar import service

    app = _app(database_url)
    latencies: list[float] = []
    cpu_from: float | None = None
    backend_from = 0.0
    step = index
    with app.app_context():
        # Connected before the clock starts; its backend serves every write of this process.
        backend = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
        ready.put(index)
        measure_from, until = go.get()
        while time.time() < until:
            began = time.time()
            if cpu_from is None and began >= measure_from:
                cpu_from, backend_from = time.process_time(), base.process_cpu_s(backend)
            service.declare_day_off(day=FIRST_DAY + timedelta(days=step), name="Libur bench")
            ended = time.time()
            db.session.remove()
            step += writers
            if began >= measure_from:
                latencies.append(ended - began)
    cpu = backend_cpu = 0.0
    if cpu_from is not None:
        cpu = time.process_time() - cpu_from
        backend_cpu = base.process_cpu_s(backend) - backend_from
    results.put((latencies, cpu, backend_cpu))


def sealer(database_url: str, ready: Any, go: Any, results: Any) -> None:
    """Seal pending records every AUDIT_SEAL_INTERVAL_SECONDS, like the outbox worker's job."""
    from binjai_api.audit import service

    app = _app(database_url)
    sealed = 0
    with app.app_context():
        interval = app.config["AUDIT_SEAL_INTERVAL_SECONDS"]
        ready.put(-1)
        _measure_from, until = go.get()
        while time.time() < until:
            sealed += service.seal_pending()
            time.sleep(interval)
    results.put(sealed)


def sample_lock_waits(database_url: str, until: float, found: list[int]) -> None:
    """Every 100 ms until `until`: how many of this database's backends wait on a lock."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as connection:
        while time.time() < until:
            found.append(int(connection.execute(query).scalar_one()))
            connection.rollback()
            time.sleep(0.1)
    engine.dispose()


def main() -> int:
    args = parse_args()
    if args.tree is not None:
        base.use_tree(args.tree)
    load_before = os.getloadavg()[0]
    database_url = base.fresh_postgres_database(args.database)
    env = base.server_env(database_url)
    base.run_flask(["db", "upgrade"], env)

    from binjai_api.audit import service as audit_service

    seals_off_path = hasattr(audit_service, "seal_pending")
    context = multiprocessing.get_context("spawn")
    results, ready, go = context.Queue(), context.Queue(), context.Queue()
    processes = [
        context.Process(target=writer, args=(i, args.writers, database_url, ready, go, results))
        for i in range(args.writers)
    ]
    sealer_results = context.Queue()
    if seals_off_path:
        processes.append(
            context.Process(target=sealer, args=(database_url, ready, go, sealer_results))
        )
    for process in processes:
        process.start()
    for _ in processes:
        ready.get()
    measure_from = time.time() + args.warmup
    until = measure_from + args.duration
    for _ in processes:
        go.put((measure_from, until))
    time.sleep(args.warmup)
    lock_waits: list[int] = []
    sampler = threading.Thread(target=sample_lock_waits, args=(database_url, until, lock_waits))
    sampler.start()
    busy_before = base.machine_busy_s()
    db_cpu_before = base.database_cpu_s()
    latencies: list[float] = []
    writers_cpu = backends_cpu = 0.0
    for _ in range(args.writers):
        writer_latencies, writer_cpu, backend_cpu = results.get()
        latencies.extend(writer_latencies)
        writers_cpu += writer_cpu
        backends_cpu += backend_cpu
    busy = base.machine_busy_s() - busy_before
    db_cpu = base.database_cpu_s() - db_cpu_before
    sealed_during = sealer_results.get() if seals_off_path else None
    for process in processes:
        process.join()
    sampler.join()

    app = _app(database_url)
    with app.app_context():
        from binjai_api.audit import service

        began = time.time()
        sealed_after = service.seal_pending() if seals_off_path else 0
        seal_rest_s = time.time() - began
        report = service.verify_chain()
    writes = max(1, len(latencies))
    throughput = len(latencies) / args.duration
    lines = [
        f"## {args.label}: {args.writers} writers, {args.duration:.0f} s, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores",
        "",
        f"- code: {args.tree or 'this checkout'}; load average before the run {load_before:.1f}",
        f"- sealing: {'off the request path (worker job)' if seals_off_path else 'at commit'}",
        f"- audited writes committed: {len(latencies)} = **{throughput:.0f} writes/s**",
        f"- latency per write: p50 {base.latency_percentile(latencies, 50) * 1000:.1f} ms, "
        f"p95 {base.latency_percentile(latencies, 95) * 1000:.1f} ms, "
        f"p99 {base.latency_percentile(latencies, 99) * 1000:.1f} ms",
        f"- machine CPU busy {busy:.1f} core-s, PostgreSQL {db_cpu:.1f} core-s",
        f"- CPU per write: the writer {writers_cpu / writes * 1000:.2f} ms"
        f" + its PostgreSQL backend {backends_cpu / writes * 1000:.2f} ms "
        f"(the machine: {busy / writes * 1000:.2f} ms busy per write, other work included)",
        f"- writers waiting on a lock in PostgreSQL (sampled every 100 ms): mean "
        f"{sum(lock_waits) / max(1, len(lock_waits)):.1f}, max {max(lock_waits, default=0)} "
        f"of {args.writers}",
    ]
    if seals_off_path:
        lines.append(
            f"- sealed by the worker job during the run: {sealed_during}; "
            f"left at the end: {sealed_after}, sealed in {seal_rest_s * 1000:.0f} ms"
        )
    problem = report.problem
    lines.append(
        f"- chain verified: {report.records} records, "
        + ("intact" if problem is None else f"{problem.kind} at seq {problem.seq}")
        + (f", {report.pending} pending" if hasattr(report, "pending") else "")
    )
    text = "\n".join(lines) + "\n"
    print(text)
    results_path = args.results
    if not results_path.exists():
        results_path.write_text("# Audited writers on PostgreSQL (bench/audit_writers.py)\n\n")
    with results_path.open("a") as out:
        out.write(text + "\n")
    return 0 if problem is None else 1


if __name__ == "__main__":
    sys.exit(main())
