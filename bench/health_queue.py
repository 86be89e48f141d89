"""Health benchmark: facility search near a point and polling a queue booking's live status.

On PostgreSQL (database `bench_health` on 127.0.0.1, dropped and created anew; BENCH_DATABASE_URL
names another one, which must be empty or already migrated), with the demo data plus generated
facilities up to 50 in all, and 20,000 bookings on today's date spread over their poli. Measured
one after the other in the same run, each under gunicorn with 2 workers (the machinery of
bench/http_baseline.py, imported):
- the Flask hello-world floor;
- `GET /api/v1/facilities?lat=..&lon=..&radius_m=3000` (search near the city centre);
- `GET /api/v1/queue-bookings/{id}` as the demo resident (the status the app polls), for a
  booking in the middle of the busiest queue (400 numbers).

Run: .venv/bin/python bench/health_queue.py [--duration S] [--clients N] [--warmup S]
(or `make bench-health`). Prints a table and writes bench/results/health_queue.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as hb  # noqa: E402

BENCH_DATABASE = "bench_health"
FACILITIES = 50
BOOKINGS = 20_000
BUSIEST_QUEUE = 400
CENTRE = (3.60, 98.49)
SEARCH_PATH = f"/api/v1/facilities?lat={CENTRE[0]}&lon={CENTRE[1]}&radius_m=3000"
CHUNK = 5_000


def generated_facility(n: int, rng: random.Random) -> dict[str, Any]:
    """A demo puskesmas or clinic somewhere in Binjai, open Monday to Saturday."""
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    session = {
        "starts_at": time(8, 0),
        "ends_at": time(14, 0),
        "online_quota": 500,
        "walk_in_quota": 100,
        "minutes_per_patient": 8,
    }
    return {
        "name": f"Klinik Bench {n:02d}",
        "type": "clinic" if n % 3 else "puskesmas",
        "address": f"Jl. Bench No. {n}, Binjai",
        "lat": CENTRE[0] + rng.uniform(-0.05, 0.05),
        "lon": CENTRE[1] + rng.uniform(-0.05, 0.05),
        "emergency_24h": n % 7 == 0,
        "opening_hours": [
            {"weekday": day, "opens_at": time(7, 30), "closes_at": time(16, 0)} for day in days
        ],
        "services": [
            {
                "code": code,
                "name": name,
                "sessions": [{**session, "weekday": day} for day in days],
            }
            for code, name in (("umum", "Poli Umum"), ("gigi", "Poli Gigi"), ("kia_kb", "KIA/KB"))
        ],
        "is_demo": True,
    }


def seed_queue(database_url: str) -> dict[str, Any]:
    """Facilities up to FACILITIES and BOOKINGS bookings today; returns the polled booking."""
    from binjai_api import create_app
    from binjai_api.auth import service as auth_service
    from binjai_api.extensions import db
    from binjai_api.health import service
    from binjai_api.health.models import Facility, QueueBooking, QueueDay
    from binjai_api.workcalendar.service import local_date

    app = create_app(
        {"BINJAI_ENV": "test", "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None}
    )
    rng = random.Random(6)
    with app.app_context():
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(Facility)) or 0
        for n in range(existing, FACILITIES):
            service.create_facility(**generated_facility(n, rng))
        resident = next(
            user
            for user in db.session.scalars(auth_service.accounts_query(role="citizen"))
            if user.phone == "+62" + hb.DEMO_USERNAME[1:]
        )
        today = local_date(datetime.now(UTC))
        facilities = db.session.scalars(sa.select(Facility).order_by(Facility.name)).all()
        queues = [
            (facility, poli, poli.sessions[0])
            for facility in facilities
            for poli in facility.services
            if poli.sessions
        ]
        # The busiest queue first, then the rest spread evenly.
        sizes = [BUSIEST_QUEUE] + [
            (BOOKINGS - BUSIEST_QUEUE) // (len(queues) - 1)
            + (i < (BOOKINGS - BUSIEST_QUEUE) % (len(queues) - 1))
            for i in range(len(queues) - 1)
        ]
        codes: set[str] = set()
        while len(codes) < BOOKINGS:
            codes.add(service.new_booking_code())
        code_iter = iter(codes)
        now = datetime.now(UTC)
        day_rows, booking_rows = [], []
        polled_id = uuid.uuid4()
        for index, ((facility, poli, session), size) in enumerate(zip(queues, sizes, strict=True)):
            day_id = uuid.uuid4()
            called = size // 4
            day_rows.append(
                {
                    "id": day_id,
                    "session_id": session.id,
                    "service_id": poli.id,
                    "facility_id": facility.id,
                    "day": today,
                    "status": "open",
                    "last_number": size,
                    "online_booked": size,
                    "walk_ins": 0,
                    "now_calling": called or None,
                    "served_count": max(called - 1, 0),
                    "service_seconds": max(called - 1, 0) * 420,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for number in range(1, size + 1):
                polled = index == 0 and number == BUSIEST_QUEUE // 2
                booking_rows.append(
                    {
                        "id": polled_id if polled else uuid.uuid4(),
                        "queue_day_id": day_id,
                        "facility_id": facility.id,
                        "service_id": poli.id,
                        "day": today,
                        "queue_number": number,
                        "booking_code": next(code_iter),
                        "source": "online",
                        "account_id": resident.id if polled else None,
                        "patient_name": f"Pasien {number}",
                        "patient_nik": f"{9_100_000_000_000_000 + len(booking_rows)}",
                        "status": "served" if number < called else "booked",
                        "three_ahead_notified": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        db.session.execute(sa.insert(QueueDay.__table__), day_rows)  # type: ignore[arg-type]
        for start in range(0, len(booking_rows), CHUNK):
            db.session.execute(
                sa.insert(QueueBooking.__table__),  # type: ignore[arg-type]
                booking_rows[start : start + CHUNK],
            )
        db.session.commit()
        counts = {
            "facilities": db.session.scalar(sa.select(sa.func.count()).select_from(Facility)),
            "bookings_today": db.session.scalar(
                sa.select(sa.func.count())
                .select_from(QueueBooking)
                .where(QueueBooking.day == today)
            ),
            "queues_today": len(day_rows),
        }
    return {**counts, "polled_booking_id": str(polled_id), "date": today.isoformat()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return hb.parse_args(argv)


def benchmark(args: argparse.Namespace) -> int:
    """Prepare the database, start both servers, measure the three endpoints, report."""
    started = datetime.now(UTC)
    machine = hb.machine_info()
    workdir = Path(tempfile.mkdtemp(prefix="binjai-health-bench-"))
    custom_url = os.environ.get("BENCH_DATABASE_URL")
    database_url = custom_url or hb.fresh_postgres_database(BENCH_DATABASE)
    database = hb.redact_url(database_url)
    servers: list[hb.Server] = []
    rows: list[dict[str, Any]] = []
    try:
        env = hb.server_env(database_url)
        print(f"preparing the database ({database}) ...", flush=True)
        hb.run_flask(["db", "upgrade"], env)
        hb.run_flask(["seed-demo"], env)
        data = seed_queue(database_url)
        print(
            f"seeded {data['facilities']} facilities, {data['bookings_today']:,} bookings on "
            f"{data['date']} in {data['queues_today']} queues",
            flush=True,
        )
        api = hb.start_gunicorn("api", "binjai_api:create_app()", env, workdir, [])
        servers.append(api)
        hello = hb.start_gunicorn(
            "hello", "hello_app:app", env, workdir, ["--pythonpath", str(BENCH_DIR)]
        )
        servers.append(hello)
        hb.wait_until_up(api, "/healthz")
        hb.wait_until_up(hello, "/hello")
        endpoints = [
            ("hello-world floor", hello, "/hello", False),
            ("facility search near a point", api, SEARCH_PATH, False),
            (
                "booking status (polled)",
                api,
                f"/api/v1/queue-bookings/{data['polled_booking_id']}",
                True,
            ),
        ]
        for name, server, path, authenticated in endpoints:
            headers = {"Authorization": f"Bearer {hb.log_in(api.port)}"} if authenticated else {}
            target = hb.Target(name, server.port, path, headers)
            rows.append(hb.measure_endpoint(target, args, servers))
        problems = {server.name: hb.server_log_problems(server) for server in servers}
    finally:
        hb.stop_servers(servers)
        shutil.rmtree(workdir, ignore_errors=True)
    data_line = (
        f"data: {data['facilities']} facilities; {data['bookings_today']:,} bookings on "
        f"{data['date']} in {data['queues_today']} queues; the polled booking is number "
        f"{BUSIEST_QUEUE // 2} of {BUSIEST_QUEUE} in the busiest queue"
    )
    report = hb.build_report(
        args,
        started,
        machine,
        database,
        rows,
        problems,
        benchmark="health_queue",
        title="Binjai health benchmark",
        data_lines=[data_line],
    )
    report["data"] = data
    print()
    print(hb.render_text(report))
    hb.write_atomically(hb.RESULTS_DIR / "health_queue.json", json.dumps(report, indent=2) + "\n")
    hb.write_atomically(hb.RESULTS_DIR / "health_queue.md", hb.render_markdown(report))
    print(
        f"\nwritten: {hb.RESULTS_DIR / 'health_queue.json'}, {hb.RESULTS_DIR / 'health_queue.md'}"
    )
    failed = any(row["errors"] or not row["requests"] for row in rows)
    return 1 if failed or any(problems.values()) else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, hb.exit_on_sigterm)
    try:
        return benchmark(args)
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
