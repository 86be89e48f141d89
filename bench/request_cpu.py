"""CPU per request of the API's hot paths, in process, beside a minimal peer app (issue 17).

Each endpoint is called through the WSGI stack (Flask's test client: no sockets, no gunicorn)
100 times to warm up, then 1,000 times measured in 10 interleaved rounds (every endpoint, peer
included, 100 calls per round, so that the machine's changing load hits all alike): the
median round's CPU time per request of the process, the SQL statements (the pool's pre-pings,
the session check's own read and the public cache's data-version read included, SQLite's BEGIN
not) and the Redis round trips per request. The feed and facility search are measured twice:
as kept by the public response cache (public_cache.py) and built afresh, as after any commit.
The peer (`bench/peer_app.py`) is the same
stack with nothing else (Flask, flask-smorest, marshmallow, flask-jwt-extended, SQLAlchemy) on
the same tables: its `/me` (one statement) and a list of 20 public complaints with their count
(two statements). Both run in the same process, one after the other, so they share the machine's
state. The resident's inbox, bookings and complaints (`/notifications`, `/queue-bookings/mine`,
`/complaints/mine`) hold what the bench's own booking and complaint POSTs (warm-up included)
left there, as the demo data does not fill them.

Two passes: SQLite (a throwaway file, no Redis: the embedded default) and PostgreSQL + Redis
(BENCH_PG_URL, default the local database test_h5, its schema dropped and recreated; Redis
BENCH_REDIS_URL, default db 5, flushed). `--only sqlite` or `--only postgresql` runs one.

Run: .venv/bin/python bench/request_cpu.py [--requests N] [--label before|after]
Writes bench/results/request_cpu-<label>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "src"))

import http_baseline as hb  # noqa: E402
import peer_app  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_h5")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
WARMUP = 100
POINT = {"lat": 3.6, "lon": 98.49}
FACILITIES = "/api/v1/facilities?lat=3.6&lon=98.49&radius_m=5000"
FEED = "/api/v1/public/complaints?page_size=20"
# Limits high enough never to answer 429 in a run, but still evaluated, as in production.
SETTINGS = {
    "DEFAULT_RATE_LIMIT": "1000000 per minute",
    "COMPLAINT_SUBMIT_RATE_LIMIT": "1000000 per minute",
    "LOGIN_RATE_LIMIT": "1000 per minute",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    "ARGON2_PARALLELISM": 1,
}


class Counters:
    """SQL statements on the engines and round trips to Redis, since the last reset."""

    def __init__(self) -> None:
        self.statements = 0
        self.redis = 0
        self._patch_redis()

    def watch(self, engine: sa.Engine) -> None:
        """Count every statement `engine` sends, and its pool's pre-pings (a round trip each)."""
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        ping = engine.dialect.do_ping
        counters = self

        def counted_ping(dbapi_connection: Any) -> bool:
            counters.statements += 1
            return bool(ping(dbapi_connection))

        engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]

    def watch_session_checks(self) -> None:
        """Count the session check's read too: it is sent on a DBAPI connection of its own
        (auth/principals.py `_execute`), which the engine's events do not see. Code older than
        that read has no `_execute`, and its check goes through the engine."""
        from binjai_api.auth import principals

        execute = getattr(principals, "_execute", None)
        if execute is None:
            return
        counters = self

        def counted(dbapi_connection: Any, sql: str, parameters: Any) -> Any:
            counters.statements += 1
            return execute(dbapi_connection, sql, parameters)

        principals._execute = counted

    def watch_data_versions(self) -> None:
        """Count the public response cache's data-version read (public_cache.py) as a statement:
        it is sent on a connection of its own (a round trip on PostgreSQL)."""
        try:
            from binjai_api.public_cache import DataVersionWatcher
        except ImportError:  # code older than the cache
            return
        version = DataVersionWatcher.version
        counters = self

        def counted(watcher: Any) -> Any:
            found = version(watcher)
            if found is not None:
                counters.statements += 1
            return found

        DataVersionWatcher.version = counted  # type: ignore[method-assign,assignment]

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLite's explicit BEGIN (the API drives its transactions) is not a round trip.
        if not statement.startswith("BEGIN"):
            self.statements += 1

    def _patch_redis(self) -> None:
        import redis.connection

        original = redis.connection.AbstractConnection.send_packed_command
        counters = self

        def counted(self: Any, command: Any, check_health: bool = True) -> Any:
            counters.redis += 1  # one write per command or per pipeline: one round trip
            return original(self, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]

    def reset(self) -> None:
        self.statements = 0
        self.redis = 0


def prepare_postgres() -> None:
    """Empty the bench database's schema (the migrations then build it afresh)."""
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def build_api(database_url: str, redis_url: str | None) -> Any:
    """The API on a migrated database with the demo data; logs formatted but discarded."""
    from flask_migrate import upgrade

    from binjai_api import create_app
    from binjai_api.seed import seed_demo

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url or "memory://",
            **SETTINGS,
        }
    )
    with app.app_context():
        upgrade()
        seed_demo()
    for handler in logging.getLogger("binjai_api").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    return app


def log_in(client: Any) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": hb.DEMO_USERNAME, "password": hb.DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def book_queue_number(client: Any, headers: dict[str, str]) -> str:
    """A booking of the demo resident at the first facility and poli that takes one."""
    facilities = client.get(FACILITIES).get_json()
    for days in range(0, 8):
        day = (date.today() + timedelta(days=days)).isoformat()
        for facility in facilities:
            for service in facility.get("services", []):
                response = client.post(
                    "/api/v1/queue-bookings",
                    json={"facility_id": facility["id"], "service_id": service["id"], "date": day},
                    headers=headers,
                )
                if response.status_code == 201:
                    return str(response.get_json()["id"])
    raise RuntimeError("no facility took a booking in the next 7 days")


def complaint_body(category_id: str, n: int) -> dict[str, Any]:
    return {
        "type": "complaint",
        "category_id": category_id,
        "title": f"Jalan berlubang nomor {n}",
        "description": f"Lubang besar di depan toko nomor {n}, berbahaya bagi pengendara motor.",
        "lat": 3.55 + (n % 97) * 0.001,
        "lon": 98.45 + (n % 89) * 0.001,
        "address": f"Jl. Soekarno-Hatta No. {n}",
        "kelurahan_code": "12.75.02.1001",
        "privacy": "public",
    }


ROUNDS = 10


def measure_interleaved(
    calls: list[tuple[str, Callable[[int], Any]]], counters: Counters, requests: int
) -> list[dict[str, Any]]:
    """Warm every endpoint up, then measure them in turns: ROUNDS rounds of requests/ROUNDS calls
    each, so that a change in the machine's load hits peer and API alike. Per endpoint: the
    median of its rounds' CPU per call (and the lowest), wall time, statements and Redis trips."""
    for name, call in calls:
        for n in range(WARMUP):
            response = call(n)
            if response.status_code >= 400:
                body = response.get_data()[:300]
                raise RuntimeError(f"{name}: HTTP {response.status_code} {body!r}")
    per_round = max(1, requests // ROUNDS)
    cpu: dict[str, list[float]] = {name: [] for name, _ in calls}
    wall = dict.fromkeys(cpu, 0.0)
    statements = dict.fromkeys(cpu, 0)
    trips = dict.fromkeys(cpu, 0)
    statuses: dict[str, set[int]] = {name: set() for name in cpu}
    n = WARMUP
    for _round in range(ROUNDS):
        for name, call in calls:
            counters.reset()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(per_round):
                statuses[name].add(call(n).status_code)
                n += 1
            cpu[name].append((time.process_time() - cpu0) / per_round)
            wall[name] += time.perf_counter() - wall0
            statements[name] += counters.statements
            trips[name] += counters.redis
    rows = []
    total = per_round * ROUNDS
    for name, _ in calls:
        row = {
            "name": name,
            "cpu_ms": round(1000 * statistics.median(cpu[name]), 3),
            "cpu_ms_lowest_round": round(1000 * min(cpu[name]), 3),
            "wall_ms": round(1000 * wall[name] / total, 3),
            "statements": round(statements[name] / total, 2),
            "redis_round_trips": round(trips[name] / total, 2),
            "statuses": sorted(statuses[name]),
        }
        print(
            f"  {name:<42} {row['cpu_ms']:7.2f} ms CPU (lowest round "
            f"{row['cpu_ms_lowest_round']:.2f}) {row['wall_ms']:7.2f} ms wall "
            f"{row['statements']:6.2f} stmts {row['redis_round_trips']:5.2f} redis "
            f"{row['statuses']}",
            flush=True,
        )
        rows.append(row)
    return rows


def run_pass(kind: str, requests: int) -> dict[str, Any]:
    """Both apps on one database: every endpoint measured, peer and API in one process."""
    workdir = Path(tempfile.mkdtemp(prefix="binjai-cpu-"))
    if kind == "sqlite":
        database_url, redis_url = f"sqlite:///{workdir / 'bench.db'}", None
    else:
        prepare_postgres()
        database_url, redis_url = PG_URL, REDIS_URL
    print(f"{kind}: preparing {hb.redact_url(database_url)} ...", flush=True)
    app = build_api(database_url, redis_url)
    counters = Counters()
    client = app.test_client()
    headers = log_in(client)
    categories = client.get("/api/v1/complaint-categories").get_json()
    category_id = categories[0]["id"]
    booking_id = book_queue_number(client, headers)
    peer = peer_app.create_peer_app(database_url, app.config["JWT_SECRET_KEY"])
    peer_client = peer.test_client()
    with app.app_context():
        from binjai_api.extensions import db

        counters.watch(db.engine)
    counters.watch(peer.extensions["peer_engine"])
    counters.watch_session_checks()
    counters.watch_data_versions()

    def post_complaint(n: int) -> Any:
        return client.post(
            "/api/v1/complaints",
            json=complaint_body(category_id, n),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )

    def fresh(path: str) -> Any:
        """`path` answered without a kept answer (public_cache), as the first request after a
        commit is; the same request on code older than the cache."""
        try:
            from binjai_api import public_cache
        except ImportError:
            return client.get(path)
        public_cache.cache_of(app).clear()
        return client.get(path)

    calls: list[tuple[str, Callable[[int], Any]]] = [
        ("POST /complaints (Idempotency-Key)", post_complaint),
        ("peer GET /me", lambda _n: peer_client.get("/me", headers=headers)),
        (
            "peer GET /complaints?page_size=20",
            lambda _n: peer_client.get("/complaints?page_size=20"),
        ),
        ("GET /me", lambda _n: client.get("/api/v1/me", headers=headers)),
        ("GET /agencies", lambda _n: client.get("/api/v1/agencies")),
        ("GET /public/complaints?page_size=20", lambda _n: client.get(FEED)),
        ("GET /facilities near a point", lambda _n: client.get(FACILITIES)),
        # The same two built afresh, as after any commit (the kept answers dropped first).
        ("GET /public/complaints (built, not kept)", lambda _n: fresh(FEED)),
        ("GET /facilities (built, not kept)", lambda _n: fresh(FACILITIES)),
        (
            "GET /queue-bookings/{id}",
            lambda _n: client.get(f"/api/v1/queue-bookings/{booking_id}", headers=headers),
        ),
        ("GET /healthz", lambda _n: client.get("/healthz")),
        (
            "GET /notifications?page_size=20",
            lambda _n: client.get("/api/v1/notifications?page_size=20", headers=headers),
        ),
        (
            "GET /queue-bookings/mine",
            lambda _n: client.get("/api/v1/queue-bookings/mine", headers=headers),
        ),
        (
            "GET /complaints/mine",
            lambda _n: client.get("/api/v1/complaints/mine", headers=headers),
        ),
    ]
    rows = measure_interleaved(calls, counters, requests)
    peer.extensions["peer_engine"].dispose()
    with app.app_context():
        from binjai_api.extensions import db

        db.engine.dispose()
    return {"database": kind, "rows": rows, "ratios": ratios(rows)}


def ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The targets of issue 17, as multiples of the peer's CPU per request."""
    cpu = {row["name"]: row["cpu_ms"] for row in rows}
    me, lst = cpu["peer GET /me"], cpu["peer GET /complaints?page_size=20"]
    return {
        "/me vs peer /me (target <= 1.5)": round(cpu["GET /me"] / me, 2),
        "booking status vs peer /me (target <= 1.5)": round(
            cpu["GET /queue-bookings/{id}"] / me, 2
        ),
        "feed vs peer list (target <= 1.5)": round(
            cpu["GET /public/complaints?page_size=20"] / lst, 2
        ),
        "facility search vs peer list (target <= 2)": round(
            cpu["GET /facilities near a point"] / lst, 2
        ),
        "feed built afresh vs peer list (target <= 1.5)": round(
            cpu["GET /public/complaints (built, not kept)"] / lst, 2
        ),
        "facility search built afresh vs peer list (target <= 2)": round(
            cpu["GET /facilities (built, not kept)"] / lst, 2
        ),
        "complaint POST vs peer /me (target <= 4)": round(
            cpu["POST /complaints (Idempotency-Key)"] / me, 2
        ),
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# CPU per request, in process ({report['label']})",
        "",
        f"Measured {report['date']} with `{report['command']}`: {report['requests']} requests "
        f"per endpoint after {WARMUP} of warm-up, through the WSGI stack (no sockets).",
        f"Machine: {report['machine']['nproc']} CPUs, {report['machine']['cpu_model']}, Python "
        f"{report['machine']['python']}; load average at start "
        f"{report['machine']['load_average_at_start']} (shared machine: compare rows within a "
        "pass, and the ratios).",
        "",
    ]
    for result in report["passes"]:
        title = "SQLite, no Redis" if result["database"] == "sqlite" else "PostgreSQL + Redis"
        lines += [
            f"## {title}",
            "",
            "| endpoint | CPU ms/request (median round) | lowest round | wall ms/request | "
            "SQL statements | Redis round trips |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {row['name']} | {row['cpu_ms']:.2f} | {row['cpu_ms_lowest_round']:.2f} | "
            f"{row['wall_ms']:.2f} | "
            f"{row['statements']:g} | {row['redis_round_trips']:g} |"
            for row in result["rows"]
        ]
        lines += ["", "| ratio (CPU) | value |", "| --- | ---: |"]
        lines += [f"| {name} | {value:.2f}x |" for name, value in result["ratios"].items()]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--label", default="after")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    machine = hb.machine_info()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    passes = [run_pass(kind, args.requests) for kind in kinds]
    report = {
        "benchmark": "request_cpu",
        "label": args.label,
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/request_cpu.py", *sys.argv[1:]]),
        "requests": args.requests,
        "machine": machine,
        "passes": passes,
    }
    for result in passes:
        print(f"\n{result['database']}:")
        for name, value in result["ratios"].items():
            print(f"  {name}: {value:.2f}x")
    stem = RESULTS_DIR / f"request_cpu-{args.label}"
    hb.write_atomically(stem.with_suffix(".json"), json.dumps(report, indent=2) + "\n")
    hb.write_atomically(stem.with_suffix(".md"), render_markdown(report))
    print(f"\nwritten: {stem}.json, {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
