"""Complaints benchmark: the public feed and the GeoJSON map feed over 200,000 reports.

With PostgreSQL at 127.0.0.1 (database `binjai_bench_complaints`, dropped and created anew), the
run:
1. migrates, loads the demo data and writes `--reports` reports (default 200,000) spread over two
   years, the five kecamatan, every category and status, 10% confidential, 30% with a photo;
2. counts the SQL statements one request runs, in process, for page sizes 1, 20 and 100 (feed)
   and 1, 100 and 500 (GeoJSON): the count must not grow with the page size;
3. serves the API with gunicorn (2 workers) next to a Flask hello-world floor and loads, one
   after the other, the hello-world floor and each feed endpoint with closed-loop clients,
   reporting requests/s and p50/p90/p99 latency. One more API server runs with
   PUBLIC_COUNT_CACHE_SECONDS=0, to show what sharing a feed's total count saves.

Run: .venv/bin/python bench/complaints_feed.py [--reports 200000] [--duration 10] [--clients 16]
(or `make bench-complaints`). Prints the tables and writes bench/results/complaints_feed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (the shared gunicorn and load-generator machinery)

DATABASE_NAME = "binjai_bench_complaints"
DATABASE_URL = f"{base.PG_SERVER_URL}/{DATABASE_NAME}"
CHUNK = 10_000
# Binjai's bounding box (as in the default INSIDE_BINJAI setting), where the reports fall.
LAT_RANGE = (3.55, 3.66)
LON_RANGE = (98.44, 98.54)
FEED = "/api/v1/public/complaints"
GEOJSON = "/api/v1/public/complaints.geojson"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--duration", type=float, default=10.0, help="measured s per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    args.processes = min(args.clients, len(base.os.sched_getaffinity(0)))
    return args


def write_reports(count: int) -> dict[str, Any]:
    """`count` reports straight into the tables (the API path is measured, not the writes)."""
    from binjai_api import create_app
    from binjai_api.complaints.models import (
        Complaint,
        ComplaintCategory,
        ComplaintPhoto,
    )
    from binjai_api.complaints.states import OPEN_STATUSES, STATUSES
    from binjai_api.extensions import db
    from binjai_api.numbering import NumberSeries
    from binjai_api.regions.models import Kelurahan

    app = create_app({"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "BINJAI_ENV": "development"})
    rng = random.Random(311)
    started = time.monotonic()
    with app.app_context():
        categories = list(db.session.scalars(sa.select(ComplaintCategory)))
        kelurahan = list(db.session.scalars(sa.select(Kelurahan)))
        if not categories:
            raise RuntimeError("no complaint categories: did seed-demo run?")
        now = datetime.now(UTC)
        statuses = list(STATUSES)
        weights = [4 if status in OPEN_STATUSES else 3 for status in statuses]
        complaints = cast(sa.Table, Complaint.__table__)
        photos = cast(sa.Table, ComplaintPhoto.__table__)
        counters: dict[int, int] = {}
        with_photo = 0
        for start in range(0, count, CHUNK):
            rows, photo_rows = [], []
            for n in range(start, min(count, start + CHUNK)):
                created = now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
                year = created.year
                counters[year] = counters.get(year, 0) + 1
                category = rng.choice(categories)
                place = rng.choice(kelurahan)
                status = rng.choices(statuses, weights)[0]
                privacy = rng.choices(["public", "anonymous", "confidential"], [8, 1, 1])[0]
                complaint_id = uuid.uuid4()
                rows.append(
                    {
                        "id": complaint_id,
                        "tracking_number": f"BJI-{year}-{counters[year]:06d}",
                        "type": rng.choice(["complaint", "aspiration", "information_request"]),
                        "category_id": category.id,
                        "agency_id": category.agency_id,
                        "title": f"Laporan warga nomor {n}",
                        "description": "Laporan benchmark: jalan berlubang, lampu mati, sampah "
                        "menumpuk di pinggir jalan.",
                        "lat": rng.uniform(*LAT_RANGE),
                        "lon": rng.uniform(*LON_RANGE),
                        "address": f"Jl. Benchmark No. {n % 300}",
                        "kelurahan_code": place.code,
                        "kecamatan_code": place.kecamatan_code,
                        "privacy": privacy,
                        "status": status,
                        "source": "app",
                        "due_at": created + timedelta(days=5) if status in OPEN_STATUSES else None,
                        "supporter_count": rng.randint(0, 5),
                        "created_at": created,
                        "updated_at": created + timedelta(hours=rng.randint(0, 200)),
                    }
                )
                if rng.random() < 0.3:
                    with_photo += 1
                    photo_rows.append(
                        {
                            "id": uuid.uuid4(),
                            "complaint_id": complaint_id,
                            "purpose": "report",
                            "storage_key": uuid.uuid4().hex,
                            "media_type": "image/jpeg",
                            "size_bytes": 120_000,
                            "sha256": "0" * 64,
                            "created_at": created,
                        }
                    )
            db.session.execute(sa.insert(complaints), rows)
            if photo_rows:
                db.session.execute(sa.insert(photos), photo_rows)
            db.session.commit()
        for year, last in counters.items():
            db.session.merge(NumberSeries(series=f"complaint:{year}", last_value=last))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return {
        "reports": count,
        "with_photo": with_photo,
        "categories": len(categories),
        "seconds": round(time.monotonic() - started, 1),
    }


def count_queries() -> list[dict[str, Any]]:
    """SQL statements per request, in process, for growing page sizes."""
    from binjai_api import create_app
    from binjai_api.extensions import db

    # Every request counts its total here, so that each one runs all of its statements.
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
            "BINJAI_ENV": "development",
            "PUBLIC_COUNT_CACHE_SECONDS": 0,
        }
    )
    client = app.test_client()
    counted: list[str] = []
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.append(statement)

    rows = []
    for path, sizes in ((FEED, (1, 20, 100)), (GEOJSON, (1, 100, 500))):
        for size in sizes:
            counted.clear()
            response = client.get(f"{path}?page_size={size}")
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code} {response.data[:200]!r}")
            body = response.get_json()
            items = len(body["features"]) if "features" in body else len(body)
            rows.append({"path": path, "page_size": size, "items": items, "queries": len(counted)})
    return rows


def main() -> int:
    args = parse_args()
    started = datetime.now(UTC)
    machine = base.machine_info()
    print(f"preparing {DATABASE_NAME} with {args.reports} reports ...", flush=True)
    base.fresh_postgres_database(DATABASE_NAME)
    env = base.server_env(DATABASE_URL)
    base.run_flask(["db", "upgrade"], env)
    base.run_flask(["seed-demo"], env)
    data = write_reports(args.reports)
    print(f"  written in {data['seconds']} s", flush=True)
    queries = count_queries()
    constant = all(
        len({row["queries"] for row in queries if row["path"] == path}) == 1
        for path in (FEED, GEOJSON)
    )
    workdir = Path(tempfile.mkdtemp(prefix="binjai-bench-complaints-"))
    servers: list[base.Server] = []
    rows: list[dict[str, Any]] = []
    kecamatan = "12.75.02"
    endpoints = [
        ("hello-world floor", "hello", "/hello"),
        ("feed, page of 20", "api", FEED),
        ("feed, page of 20, total counted every time", "uncached", FEED),
        ("feed, page of 100", "api", f"{FEED}?page_size=100"),
        ("feed, kecamatan + open", "api", f"{FEED}?kecamatan_code={kecamatan}&status=dispatched"),
        ("feed, bounding box", "api", f"{FEED}?bbox=98.47,3.58,98.50,3.61"),
        ("feed, page 500 (deep)", "api", f"{FEED}?page=500"),
        ("geojson, 100 features", "api", f"{GEOJSON}?page_size=100"),
        ("geojson, 500 features", "api", f"{GEOJSON}?page_size=500"),
        ("open311 requests (<=1000)", "api", "/open311/v2/requests.json"),
    ]
    try:
        api = base.start_gunicorn("api", "binjai_api:create_app()", env, workdir, [])
        servers.append(api)
        hello = base.start_gunicorn(
            "hello", "hello_app:app", env, workdir, ["--pythonpath", str(BENCH_DIR)]
        )
        servers.append(hello)
        # The same API with PUBLIC_COUNT_CACHE_SECONDS=0: what the shared total saves.
        uncached = base.start_gunicorn(
            "uncached",
            "binjai_api:create_app()",
            {**env, "PUBLIC_COUNT_CACHE_SECONDS": "0"},
            workdir,
            [],
        )
        servers.append(uncached)
        base.wait_until_up(api, "/healthz")
        base.wait_until_up(hello, "/hello")
        base.wait_until_up(uncached, "/healthz")
        by_name = {"api": api, "hello": hello, "uncached": uncached}
        for name, server_name, path in endpoints:
            target = base.Target(name, by_name[server_name].port, path)
            rows.append(base.measure_endpoint(target, args, servers))
        problems = {server.name: base.server_log_problems(server) for server in servers}
    finally:
        base.stop_servers(servers)
        shutil.rmtree(workdir, ignore_errors=True)
    sizes = {
        path: "/".join(f"{row['queries']}" for row in queries if row["path"] == path)
        for path in (FEED, GEOJSON)
    }
    data_lines = [
        f"data: {data['reports']} reports ({data['with_photo']} with a photo, "
        f"{data['categories']} categories) in PostgreSQL, written in {data['seconds']} s",
        f"SQL statements per request, in process: feed {sizes[FEED]} for page sizes 1/20/100, "
        f"GeoJSON {sizes[GEOJSON]} for 1/100/500; constant in the page size: "
        + ("yes" if constant else "NO"),
    ]
    report = base.build_report(
        args,
        started,
        machine,
        f"PostgreSQL 127.0.0.1/{DATABASE_NAME}",
        rows,
        problems,
        benchmark="complaints_feed",
        title="Binjai API complaints feed benchmark",
        data_lines=data_lines,
    )
    report.update(data=data, queries_per_request=queries, queries_constant_in_page_size=constant)
    print()
    print(base.render_text(report))
    results = base.RESULTS_DIR
    base.write_atomically(results / "complaints_feed.json", json.dumps(report, indent=2) + "\n")
    base.write_atomically(results / "complaints_feed.md", base.render_markdown(report))
    print(f"\nwritten: {results / 'complaints_feed.json'}, {results / 'complaints_feed.md'}")
    failed = any(row["errors"] or not row["requests"] for row in rows) or not constant
    return 1 if failed or any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
