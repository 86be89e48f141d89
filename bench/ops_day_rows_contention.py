"""Concurrent report submissions on PostgreSQL: do the command center's day rows queue them?

Every submission adds 1 to the same ops_report_days rows of the day (the city's and the
agency's scope; status, channel and area), so when those rows are locked from the flush that
counts the report until COMMIT, the city's writers wait for each other. On a throwaway database
(`--database`, dropped and created anew, default `bench_ops_day_rows`), `--writers` processes
(default 16) each submit reports through the service the API calls (same category and area,
anonymous: no per-account limit) for `--duration` seconds; a sampler reads pg_locks every 50 ms
and counts the backends waiting on a lock (granted = false), and how many of those wait in a
statement on the day rows. At the end the day rows are checked against a recount.
`--mode dispatch` measures the other writers of those rows instead: reports submitted before
the clock starts (the same day, category and area) are dispatched by an operator, each writer its
own reports (the status moves from submitted to dispatched in the day rows, and the
verification step is counted in ops_step_days); submissions also draw the year's tracking
number, a row every submission locks until COMMIT by design (gap-free numbers), which hides
the day rows' queue behind its own.

Run: .venv/bin/python bench/ops_day_rows_contention.py [--writers 16] [--duration 8]
     [--mode submit|dispatch] [--database bench_ops_day_rows_h7] [--tree DIR] [--label before]
`--tree` runs another checkout's code and migrations (its src/ first on the path), so that
before and after can be measured one after the other by the same script. Prints its figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (the shared database and machine helpers)

DATABASE_NAME = "bench_ops_day_rows"
KELURAHAN = "12.75.02.1001"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    base.add_writer_arguments(
        parser,
        duration=8.0,
        database=DATABASE_NAME,
        label_help="a name for this run in the output",
    )
    parser.add_argument("--mode", choices=("submit", "dispatch"), default="submit")
    parser.add_argument(
        "--reports", type=int, default=1600, help="reports submitted first (--mode dispatch)"
    )
    return parser.parse_args()


def _app(database_url: str) -> Any:
    from binjai_api import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BINJAI_ENV": "development",
            "REDIS_URL": None,
            "DB_POOL_SIZE": 2,
        }
    )


def _submit(category_id: str) -> Any:
    import uuid

    from binjai_api.complaints import service

    return service.submit_complaint(
        reporter_id=None,
        type="complaint",
        category_id=uuid.UUID(category_id),
        title="Jalan berlubang",
        description="Lubang besar di depan toko nomor 12.",
        lat=3.6001,
        lon=98.4853,
        address="Jl. Soekarno-Hatta No. 12",
        kelurahan_code=KELURAHAN,
        privacy="public",
    )


def _prepare_dispatch(database_url: str, category_id: str, reports: int) -> tuple[str, list[str]]:
    """An operator, and `reports` submitted reports (their ids)."""
    from binjai_api.auth import service as auth_service
    from binjai_api.extensions import db

    with _app(database_url).app_context():
        operator = auth_service.create_staff(
            full_name="Operator Bench",
            email="operator.bench@example.org",
            password="bench-password-123",
            role="operator",
        )
        operator_id = str(operator.id)
        db.session.commit()
        ids = []
        for _ in range(reports):
            ids.append(str(_submit(category_id).id))
            db.session.remove()
    return operator_id, ids


def _road_damage(database_url: str) -> str:
    from binjai_api import seed
    from binjai_api.complaints import service
    from binjai_api.extensions import db

    with _app(database_url).app_context():
        seed.seed_regions()
        seed.seed_agencies()
        service.seed_categories()
        found = db.session.scalars(service.categories_query(include_inactive=True))
        category = next(str(c.id) for c in found if c.code == "road_damage")
        db.session.commit()
        return category


def writer(
    database_url: str,
    category_id: str,
    dispatch: tuple[str, list[str]] | None,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """Submit reports (or dispatch `dispatch`'s reports as its operator) until told to stop;
    report the latency and CPU of each committed in the measured window."""
    import uuid

    from binjai_api.auth.service import Principal
    from binjai_api.complaints import service
    from binjai_api.extensions import db

    operator = None
    todo: list[str] = []
    if dispatch is not None:
        operator = Principal(kind="user", id=uuid.UUID(dispatch[0]), role="operator")
        todo = list(reversed(dispatch[1]))

    app = _app(database_url)
    latencies: list[float] = []
    cpu = 0.0
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))  # connected before the clock starts
        db.session.remove()
        ready.put(1)
        measure_from, until = go.get()
        while time.time() < until:
            if operator is not None and not todo:
                break
            began, began_cpu = time.time(), time.process_time()
            if operator is None:
                _submit(category_id)
            else:
                service.transition(
                    principal=operator, complaint_id=uuid.UUID(todo.pop()), action="dispatch"
                )
            ended, ended_cpu = time.time(), time.process_time()
            db.session.remove()
            if began >= measure_from:
                latencies.append(ended - began)
                cpu += ended_cpu - began_cpu
    results.put((latencies, cpu))


def sample_lock_waits(
    database_url: str, until: float, found: list[tuple[int, int]], statements: dict[str, int]
) -> None:
    """Every 50 ms until `until`: backends waiting on a lock (pg_locks, granted = false), those
    of them whose statement writes the day rows, and (in `statements`) what they waited in."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT count(DISTINCT l.pid),"
        " count(DISTINCT l.pid) FILTER (WHERE a.query ILIKE '%ops_report_days%'"
        "  OR a.query ILIKE '%ops_step_days%')"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE NOT l.granted AND a.datname = current_database()"
    )
    blocked = sa.text(
        "SELECT DISTINCT a.pid, left(regexp_replace(a.query, '\\s+', ' ', 'g'), 60)"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE NOT l.granted AND a.datname = current_database()"
    )
    with engine.connect() as connection:
        while time.time() < until:
            waiting, on_days = connection.execute(query).one()
            found.append((int(waiting), int(on_days)))
            for _pid, statement in connection.execute(blocked):
                statements[statement] = statements.get(statement, 0) + 1
            connection.rollback()
            time.sleep(0.05)
    engine.dispose()


def recount_differs(database_url: str) -> int:
    """Day rows that differ from a recount of the reports (0 when exact)."""
    import sqlalchemy as sa

    from binjai_api.extensions import db
    from binjai_api.ops.models import ReportDay

    with _app(database_url).app_context():
        kept = {
            (r.scope_id, r.day, r.dimension, r.key): r.count
            for r in db.session.scalars(sa.select(ReportDay))
            if r.count
        }
        db.session.rollback()
        with db.engine.connect() as connection:
            from binjai_api.ops import figures

            transaction = connection.begin()
            figures.rebuild_report_days(connection)
            recount = {
                (r["scope_id"], r["day"], r["dimension"], r["key"]): r["count"]
                for r in connection.execute(sa.select(figures._reports)).mappings()
                if r["count"]
            }
            transaction.rollback()
    keys = set(kept) | set(recount)
    return sum(1 for key in keys if kept.get(key) != recount.get(key))


def main() -> int:
    args = parse_args()
    if args.tree is not None:
        base.use_tree(args.tree)
    load_before = os.getloadavg()[0]
    database_url = base.fresh_postgres_database(args.database)
    env = base.server_env(database_url)
    base.run_flask(["db", "upgrade"], env)
    category_id = _road_damage(database_url)
    dispatch = None
    if args.mode == "dispatch":
        operator_id, ids = _prepare_dispatch(database_url, category_id, args.reports)

    context = multiprocessing.get_context("spawn")
    results, ready, go = context.Queue(), context.Queue(), context.Queue()
    processes = []
    for index in range(args.writers):
        if args.mode == "dispatch":
            dispatch = (operator_id, ids[index :: args.writers])
        processes.append(
            context.Process(
                target=writer, args=(database_url, category_id, dispatch, ready, go, results)
            )
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
    waits: list[tuple[int, int]] = []
    statements: dict[str, int] = {}
    sampler = threading.Thread(
        target=sample_lock_waits, args=(database_url, until, waits, statements)
    )
    sampler.start()
    latencies: list[float] = []
    cpu = 0.0
    for _ in processes:
        got, got_cpu = results.get()
        latencies.extend(got)
        cpu += got_cpu
    for process in processes:
        process.join()
    sampler.join()
    differs = recount_differs(database_url)

    samples = max(1, len(waits))
    waiting = [w for w, _ in waits]
    on_days = [d for _, d in waits]
    lines = [
        f"## {args.label}: {args.writers} writers, mode {args.mode}, {args.duration:.0f} s, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores",
        f"- code: {args.tree or 'this checkout'}; load average before the run {load_before:.1f}",
        f"- writes committed: {len(latencies)} = **{len(latencies) / args.duration:.0f} /s**",
        f"- latency: p50 {base.latency_percentile(latencies, 50) * 1000:.1f} ms, "
        f"p95 {base.latency_percentile(latencies, 95) * 1000:.1f} ms, "
        f"p99 {base.latency_percentile(latencies, 99) * 1000:.1f} ms; "
        f"writer CPU {cpu / max(1, len(latencies)) * 1000:.2f} ms per write",
        f"- backends waiting on a lock (pg_locks granted = false, every 50 ms, {len(waits)} "
        f"samples): mean {sum(waiting) / samples:.2f}, max {max(waiting, default=0)} "
        f"of {args.writers}; in a day-row statement: mean {sum(on_days) / samples:.2f}, "
        f"max {max(on_days, default=0)}; samples with any wait "
        f"{sum(1 for w in waiting if w) / samples:.0%}",
        f"- day rows differing from a recount: {differs}",
        "- statements the waiting backends were in (backend-samples): "
        + "; ".join(
            f"{count} `{statement}`"
            for statement, count in sorted(statements.items(), key=lambda item: -item[1])[:4]
        ),
    ]
    print("\n".join(lines))
    return 0 if differs == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
