"""Command-center benchmark: the BCC overview and the complaints wall map over a year of data.

On PostgreSQL (database `bench_ops` on 127.0.0.1, dropped and created anew), the run:
1. migrates, loads the demo data and writes, straight into the tables, a year of activity:
   `--complaints` reports (default 200,000) with their history (submission, verification,
   dispatch, resolution, closing; some rejected, duplicates, reopened, a few stuck open and
   overdue), `--applications` permit applications (default 50,000) with their steps, and
   `--bookings` queue bookings (default 20,000) over the last 60 days;
2. times each statistics query in process with EXPLAIN ANALYZE (what the indexes buy);
3. serves the API with gunicorn (2 workers) as the BCC operator, next to a Flask
   hello-world floor, and loads one endpoint after the other with closed-loop clients:
   the overview for 30 and 365 days and the wall map (per kelurahan, and on a 500 m grid), from
   a server with OPS_CACHE_SECONDS=30 (the dashboard's refresh: cached, per process) with 16
   clients, and from one with OPS_CACHE_SECONDS=0 (computed on every request) with 1 client
   (one dashboard's refresh) and 4 (several at once).

Run: .venv/bin/python bench/ops_dashboard.py [--duration 10] [--clients 16] (or
`make bench-ops`). Prints the tables and writes bench/results/ops_dashboard.{txt,md}.
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (the shared gunicorn and load-generator machinery)

DATABASE_NAME = "bench_ops"
DATABASE_URL = f"{base.PG_SERVER_URL}/{DATABASE_NAME}"
CHUNK = 10_000
LAT_RANGE = (3.55, 3.66)
LON_RANGE = (98.44, 98.54)
OPERATOR = ("operator@demo.binjaikota.go.id", "Demo-Operator-2026")
HOUR = 3600.0
DAY = 86400.0


def parse_args() -> argparse.Namespace:
    global DATABASE_NAME, DATABASE_URL
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--complaints", type=int, default=200_000)
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--bookings", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=10.0, help="measured s per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database", default=DATABASE_NAME, help="dropped and created anew")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the database's data (from an earlier run): only migrate it, then measure",
    )
    parser.add_argument(
        "--in-process-only",
        action="store_true",
        help="time the computations in process only (no gunicorn load), print, write nothing",
    )
    parser.add_argument("--repeat", type=int, default=5, help="in-process runs per period")
    args = parser.parse_args()
    DATABASE_NAME = args.database
    DATABASE_URL = f"{base.PG_SERVER_URL}/{DATABASE_NAME}"
    args.processes = min(args.clients, len(base.os.sched_getaffinity(0)))
    return args


def _app() -> Any:
    from binjai_api import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "BINJAI_ENV": "development"})


def _hours(rng: random.Random, median_h: float, spread: float = 0.9) -> timedelta:
    """A log-normal delay: most steps take about the median, a few much longer."""
    return timedelta(hours=median_h * math.exp(rng.gauss(0, spread)))


def _insert(table: Any, rows: list[dict[str, Any]]) -> None:
    from binjai_api.extensions import db

    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(cast(sa.Table, table)), rows[start : start + CHUNK])


def write_complaints(count: int, now: datetime, rng: random.Random) -> dict[str, int]:
    """A year of reports and their histories, as the service would have written them."""
    from binjai_api.complaints.models import Complaint, ComplaintCategory, ComplaintEvent
    from binjai_api.extensions import db
    from binjai_api.regions.models import Kelurahan

    categories = list(db.session.scalars(sa.select(ComplaintCategory)))
    kelurahan = list(db.session.scalars(sa.select(Kelurahan)))
    tally: dict[str, int] = {}
    for start in range(0, count, CHUNK):
        complaints: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for n in range(start, min(count, start + CHUNK)):
            created = now - timedelta(seconds=rng.uniform(0, 365 * DAY))
            category = rng.choice(categories)
            place = rng.choice(kelurahan) if rng.random() > 0.03 else None
            located = rng.random() > 0.05
            complaint_id = uuid.uuid4()
            history: list[tuple[str, str | None, str, datetime, datetime | None]] = []
            verify_due = created + timedelta(days=4)
            verified = created + _hours(rng, 20)
            status, due_at = "submitted", verify_due
            resolved_at = closed_at = dispatched_at = None
            if verified < now:
                outcome = rng.random()
                if outcome < 0.05:
                    status, due_at = "rejected", None
                    history.append(("reject", "submitted", "rejected", verified, verify_due))
                elif outcome < 0.08:
                    status, due_at = "duplicate", None
                    history.append(
                        ("mark_duplicate", "submitted", "duplicate", verified, verify_due)
                    )
                else:
                    dispatched_at = verified
                    follow_up_due = verified + timedelta(days=category.follow_up_days * 1.4)
                    history.append(("dispatch", "submitted", "dispatched", verified, verify_due))
                    status, due_at = "dispatched", follow_up_due
                    started = verified + _hours(rng, 10)
                    if started < now:
                        history.append(
                            ("start", "dispatched", "in_progress", started, follow_up_due)
                        )
                        status = "in_progress"
                    resolved = verified + _hours(rng, 24 * 4, 1.0)
                    stuck = rng.random() < 0.01  # forgotten: open and overdue
                    if resolved < now and not stuck:
                        history.append(("resolve", status, "resolved", resolved, follow_up_due))
                        status, due_at, resolved_at = "resolved", None, resolved
                        closed = resolved + _hours(rng, 48)
                        if rng.random() < 0.04 and closed < now:
                            history.append(("reopen", "resolved", "reopened", closed, None))
                            status, due_at = "reopened", closed + timedelta(days=7)
                        elif rng.random() < 0.7 and closed < now:
                            history.append(("close", "resolved", "closed", closed, None))
                            status, closed_at = "closed", closed
            tally[status] = tally.get(status, 0) + 1
            complaints.append(
                {
                    "id": complaint_id,
                    "tracking_number": f"BJI-B-{n:07d}",
                    "type": rng.choice(["complaint", "aspiration", "information_request"]),
                    "category_id": category.id,
                    "agency_id": category.agency_id,
                    "title": f"Laporan warga nomor {n}",
                    "description": "Laporan benchmark: jalan berlubang, lampu mati.",
                    "lat": rng.uniform(*LAT_RANGE) if located else None,
                    "lon": rng.uniform(*LON_RANGE) if located else None,
                    "kelurahan_code": place.code if place else None,
                    "kecamatan_code": place.kecamatan_code if place else None,
                    "privacy": rng.choices(["public", "anonymous", "confidential"], [8, 1, 1])[0],
                    "status": status,
                    "source": "app",
                    "due_at": due_at,
                    "dispatched_at": dispatched_at,
                    "resolved_at": resolved_at,
                    "closed_at": closed_at,
                    "supporter_count": 0,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            events.append(
                {
                    "id": uuid.uuid4(),
                    "complaint_id": complaint_id,
                    "action": "submit",
                    "from_status": None,
                    "to_status": "submitted",
                    "due_at": None,
                    "created_at": created,
                }
            )
            for action, source, target, at, deadline in history:
                events.append(
                    {
                        "id": uuid.uuid4(),
                        "complaint_id": complaint_id,
                        "action": action,
                        "from_status": source,
                        "to_status": target,
                        "due_at": deadline,
                        "created_at": at,
                    }
                )
        _insert(Complaint.__table__, complaints)
        _insert(ComplaintEvent.__table__, events)
        tally["events"] = tally.get("events", 0) + len(events)
        db.session.commit()
    return tally


def write_applications(count: int, now: datetime, rng: random.Random) -> dict[str, int]:
    """A year of permit applications through verification, review, decision and issuance."""
    from binjai_api.auth.models import User
    from binjai_api.extensions import db
    from binjai_api.licensing.models import PermitApplication, PermitApplicationEvent, PermitType

    types = list(db.session.scalars(sa.select(PermitType)))
    applicant = db.session.scalar(sa.select(User.id).where(User.role == "citizen").limit(1))
    tally: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def event(application_id: uuid.UUID, action: str, source: str, target: str, at: datetime):
        events.append(
            {
                "id": uuid.uuid4(),
                "application_id": application_id,
                "action": action,
                "from_status": source,
                "to_status": target,
                "actor_kind": "bench",
                "details": {},
                "created_at": at,
            }
        )

    for n in range(count):
        permit_type = rng.choice(types)
        application_id = uuid.uuid4()
        submitted = now - timedelta(seconds=rng.uniform(0, 365 * DAY))
        sla_due = submitted + timedelta(days=10)
        event(application_id, "submit", "draft", "submitted", submitted)
        status, action_due, moment = "submitted", submitted + timedelta(days=3), submitted
        steps: list[tuple[str, str, float]] = [("verify", "awaiting_decision", 24)]
        if permit_type.technical_agency_id is not None:
            steps = [
                ("verify", "technical_review", 24),
                ("record_review", "awaiting_decision", 48),
            ]
        steps += [("approve", "approved", 24), ("issue", "issued", 12)]
        outcome = rng.random()
        for action, target, median_h in steps:
            moment = moment + _hours(rng, median_h)
            stuck = rng.random() < 0.005
            if moment >= now or stuck:
                break
            if outcome < 0.06 and target in ("approved",):
                event(application_id, "reject", status, "rejected", moment)
                status, action_due = "rejected", None
                break
            if outcome > 0.96 and status == "submitted":
                event(application_id, "withdraw", status, "withdrawn", moment)
                status, action_due = "withdrawn", None
                break
            event(application_id, action, status, target, moment)
            status = target
            action_due = None if target == "issued" else moment + timedelta(days=3)
        tally[status] = tally.get(status, 0) + 1
        rows.append(
            {
                "id": application_id,
                "number": f"B/{n:07d}",
                "permit_type_id": permit_type.id,
                "applicant_id": applicant,
                "status": status,
                "form_data": {},
                "submitted_at": submitted,
                "decided_at": moment if status in ("issued", "rejected") else None,
                "action_due_at": action_due,
                "step_due_at": action_due,
                "sla_due_at": sla_due,
                "created_at": submitted,
                "updated_at": moment,
            }
        )
    _insert(PermitApplication.__table__, rows)
    _insert(PermitApplicationEvent.__table__, events)
    db.session.commit()
    tally["events"] = len(events)
    return tally


def write_bookings(count: int, now: datetime, rng: random.Random) -> dict[str, int]:
    """Bookings over the last 60 days, in the seeded poli's sessions."""
    from binjai_api.extensions import db
    from binjai_api.health.models import HealthService, QueueBooking, QueueDay, QueueSession
    from binjai_api.workcalendar.service import LOCAL_TIMEZONE

    sessions = db.session.execute(
        sa.select(QueueSession, HealthService.facility_id).join(
            HealthService, HealthService.id == QueueSession.service_id
        )
    ).all()
    today = now.astimezone(LOCAL_TIMEZONE).date()
    # seed-demo's history already holds some of these session days (demo_history.py).
    taken = set(db.session.execute(sa.select(QueueDay.session_id, QueueDay.day)).tuples())
    days: list[tuple[Any, Any, date]] = []
    for back in range(1, 61):
        day = today - timedelta(days=back)
        days += [
            (s, f, day)
            for s, f in sessions
            if s.weekday == day.weekday() and (s.id, day) not in taken
        ]
    queue_days: list[dict[str, Any]] = []
    bookings: list[dict[str, Any]] = []
    per_day = max(1, count // max(1, len(days)))
    tally: dict[str, int] = {}
    for session, facility_id, day in days:
        if len(bookings) >= count:
            break
        day_id = uuid.uuid4()
        queue_days.append(
            {
                "id": day_id,
                "session_id": session.id,
                "service_id": session.service_id,
                "facility_id": facility_id,
                "day": day,
                "status": "open",
                "created_at": now,
                "updated_at": now,
            }
        )
        opens = datetime.combine(day, session.starts_at, tzinfo=LOCAL_TIMEZONE).astimezone(UTC)
        for number in range(1, per_day + 1):
            checked_in = opens + timedelta(minutes=rng.uniform(-30, 90))
            called = checked_in + _hours(rng, 0.5)
            status = rng.choices(["served", "no_show", "cancelled"], [90, 6, 4])[0]
            walk_in = rng.random() < 0.3
            tally[status] = tally.get(status, 0) + 1
            bookings.append(
                {
                    "id": uuid.uuid4(),
                    "queue_day_id": day_id,
                    "facility_id": facility_id,
                    "service_id": session.service_id,
                    "day": day,
                    "queue_number": number,
                    "booking_code": uuid.uuid4().hex[:12].upper(),
                    "source": "walk_in" if walk_in else "online",
                    "patient_name": "Pasien Benchmark",
                    "status": status,
                    "checked_in_at": checked_in if status == "served" else None,
                    "called_at": called if status == "served" else None,
                    "finished_at": (
                        called + timedelta(minutes=rng.uniform(5, 20))
                        if status == "served"
                        else (opens + timedelta(hours=5) if status == "no_show" else None)
                    ),
                    "cancelled_at": opens - timedelta(days=1) if status == "cancelled" else None,
                    "three_ahead_notified": False,
                    "created_at": opens - timedelta(days=2),
                    "updated_at": opens,
                }
            )
    _insert(QueueDay.__table__, queue_days)
    _insert(QueueBooking.__table__, bookings)
    db.session.commit()
    return tally


def write_data(args: argparse.Namespace) -> dict[str, Any]:
    from binjai_api.extensions import db

    app = _app()
    rng = random.Random(7)
    now = datetime.now(UTC)
    started = time.monotonic()
    with app.app_context():
        data = {
            "complaints": write_complaints(args.complaints, now, rng),
            "applications": write_applications(args.applications, now, rng),
            "bookings": write_bookings(args.bookings, now, rng),
        }
        # The rows above went straight into the tables, past the services that keep the
        # command center's figures current: rebuild those once, as the migration's backfill does.
        try:
            from binjai_api.ops.figures import rebuild_figures
        except ImportError:  # the code before the rollups: nothing to rebuild
            pass
        else:
            rebuild_figures()
            db.session.commit()
    vacuum_analyze()
    data["seconds"] = round(time.monotonic() - started, 1)
    return data


def vacuum_analyze() -> None:
    """Statistics and visibility maps as autovacuum would leave them on a live database."""
    from binjai_api.extensions import db

    with _app().app_context(), db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def explain_queries(repeat: int = 1) -> list[dict[str, Any]]:
    """Each statistics query of a 365-day overview, timed by EXPLAIN ANALYZE on PostgreSQL."""
    from binjai_api.complaints import statistics as complaints_stats
    from binjai_api.extensions import db
    from binjai_api.health import statistics as health_stats
    from binjai_api.licensing import statistics as licensing_stats
    from binjai_api.ops import service
    from binjai_api.workcalendar.service import local_date

    app = _app()
    rows = []
    with app.app_context():
        now = datetime.now(UTC)
        today = local_date(now)
        for days in (30, 365):
            period = service.Period(today - timedelta(days=days - 1), today)
            captured: list[str] = []

            def capture(
                _conn: Any, _cursor: Any, statement: str, *_: Any, into: list[str] = captured
            ) -> None:
                into.append(statement)

            engine = db.engine
            sa.event.listen(engine, "before_cursor_execute", capture)
            timings = []
            for run in range(max(1, repeat)):
                if run == 1:  # statements counted over the first run only
                    sa.event.remove(engine, "before_cursor_execute", capture)
                started = time.perf_counter()
                service.compute_overview(period=period, agency_id=None, now=now)
                timings.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            if repeat > 1:
                sa.event.listen(engine, "before_cursor_execute", capture)
            overview_ms = sorted(timings)[len(timings) // 2]  # the median run
            started = time.perf_counter()
            filters = complaints_stats.HeatmapFilters(start=period.start, end=period.end)
            service.compute_heatmap(filters=filters, by="kelurahan", cell_m=500, now=now)
            kelurahan_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            service.compute_heatmap(filters=filters, by="grid", cell_m=500, now=now)
            grid_ms = (time.perf_counter() - started) * 1000
            sa.event.remove(engine, "before_cursor_execute", capture)
            rows.append(
                {
                    "period_days": days,
                    "overview_in_process_ms": round(overview_ms, 1),
                    "overview_runs_ms": [round(t, 1) for t in timings],
                    "heatmap_kelurahan_in_process_ms": round(kelurahan_ms, 1),
                    "heatmap_grid_in_process_ms": round(grid_ms, 1),
                    "statements": len(captured),
                }
            )
            window = {"start": period.start, "end": period.end, "agency_id": None}
            named = {
                "complaints by status": complaints_stats.status_counts,
                "complaints by channel": complaints_stats.channel_counts,
                "complaints by area": functools.partial(complaints_stats.counts_by_area, now=now),
                "complaint closings": complaints_stats.closings,
                "complaints time to verify": complaints_stats.time_to_verify_spans,
                "complaints time to resolve": complaints_stats.time_to_resolve_spans,
                "applications by status": licensing_stats.status_counts,
                "application closings": licensing_stats.closings,
                "applications time to verify": licensing_stats.time_to_verify_spans,
                "applications time to issue": licensing_stats.time_to_issue_spans,
                "bookings time to call": health_stats.time_to_call_spans,
            }
            try:  # closings and durations from the step rows (ops/figures.py), when present
                from binjai_api.ops.figures import step_figures
            except ImportError:
                pass
            else:
                named["closings and durations from the step rows"] = step_figures
            try:  # the day rows and the open reports' one pass, when present
                from binjai_api.ops.figures import opened_reports
            except ImportError:
                pass
            else:
                named["reports and applications opened, from the day rows"] = functools.partial(
                    _opened_from_days, opened_reports, period
                )
                named["open reports (open, overdue) per agency and area"] = functools.partial(
                    _open_reports, complaints_stats, now
                )
            for name, function in named.items():
                statements = _statements_of(function, window)
                if not statements:
                    continue
                total_ms, plans = 0.0, []
                for statement, params in statements:  # several: their times added up
                    plan = (
                        db.session.connection()
                        .exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
                        .scalar_one()
                    )
                    total_ms += plan[0]["Execution Time"]
                    plans.append(_plan_summary(plan[0]["Plan"]))
                rows.append(
                    {
                        "period_days": days,
                        "query": name,
                        "ms": round(total_ms, 1),
                        "plan": " | ".join(dict.fromkeys(plans)),
                    }
                )
    return rows


def _opened_from_days(opened_reports: Any, period: Any, **window: Any) -> Any:
    return opened_reports(period.first_day, period.last_day, window["agency_id"])


def _open_reports(complaints_stats: Any, now: datetime, **window: Any) -> Any:
    return complaints_stats.open_counts(now=now, agency_id=window["agency_id"])


def _statements_of(function: Any, window: dict[str, Any]) -> list[tuple[str, Any]]:
    """The SQL statements a statistics function sends (spans: its select, executed), settings
    (SET LOCAL) left out."""
    from binjai_api.extensions import db

    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        result = function(**window)
        if isinstance(result, sa.Select):
            db.session.execute(result).all()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    return [(sql, params) for sql, params in captured if not sql.lstrip().upper().startswith("SET")]


def _plan_summary(node: dict[str, Any]) -> str:
    """The plan's node types, outermost first, with the indexes used."""
    parts = []

    def walk(n: dict[str, Any]) -> None:
        label = n["Node Type"]
        if "Index Name" in n:
            label += f" {n['Index Name']}"
        parts.append(label)
        for child in n.get("Plans", []):
            walk(child)

    walk(node)
    return " > ".join(parts)


def main() -> int:
    args = parse_args()
    started = datetime.now(UTC)
    machine = base.machine_info()
    env = base.server_env(DATABASE_URL)
    if args.reuse_data:
        print(f"migrating {DATABASE_NAME} (data kept) ...", flush=True)
        started_migration = time.monotonic()
        base.run_flask(["db", "upgrade"], env)
        print(f"  migrated in {time.monotonic() - started_migration:.1f} s", flush=True)
        vacuum_analyze()
    else:
        print(f"preparing {DATABASE_NAME} ...", flush=True)
        base.fresh_postgres_database(DATABASE_NAME)
        base.run_flask(["db", "upgrade"], env)
        base.run_flask(["seed-demo"], env)
        data = write_data(args)
        print(f"  written in {data['seconds']} s: {data}", flush=True)
    explained = explain_queries(args.repeat)
    for row in explained:
        print("  ", row, flush=True)
    if args.in_process_only:
        return 0
    if args.reuse_data:
        raise SystemExit("--reuse-data measures in process only: add --in-process-only")
    today = datetime.now(UTC).date()
    month = f"from={today - timedelta(days=29)}&to={today}"
    year = f"from={today - timedelta(days=364)}&to={today}"
    overview = "/api/v1/ops/overview"
    heatmap = "/api/v1/ops/complaints-heatmap.geojson"
    # Cached: the figures a wall of dashboards sees (16 clients). Uncached, computed on every
    # request: one dashboard refreshing (1 client) and four at once; the slowest last, as a
    # closed loop leaves a backlog of requests on the server when it ends.
    endpoints = [
        ("hello-world floor", "hello", "/hello", None),
        ("overview 30 days, cached", "api", f"{overview}?{month}", None),
        ("overview 365 days, cached", "api", f"{overview}?{year}", None),
        ("heatmap kelurahan 30 days, cached", "api", f"{heatmap}?{month}", None),
        ("heatmap grid 500 m 365 days, cached", "api", f"{heatmap}?by=grid&{year}", None),
        ("heatmap kelurahan 30 days, uncached, 1 client", "uncached", f"{heatmap}?{month}", 1),
        ("heatmap kelurahan 365 days, uncached, 1 client", "uncached", f"{heatmap}?{year}", 1),
        (
            "heatmap grid 500 m 365 days, uncached, 1 client",
            "uncached",
            f"{heatmap}?by=grid&{year}",
            1,
        ),
        ("overview 30 days, uncached, 1 client", "uncached", f"{overview}?{month}", 1),
        ("overview 365 days, uncached, 1 client", "uncached", f"{overview}?{year}", 1),
        ("overview 30 days, uncached, 4 clients", "uncached", f"{overview}?{month}", 4),
        ("overview 365 days, uncached, 4 clients", "uncached", f"{overview}?{year}", 4),
    ]
    workdir = Path(tempfile.mkdtemp(prefix="binjai-bench-ops-"))
    servers: list[base.Server] = []
    rows: list[dict[str, Any]] = []
    try:
        api = base.start_gunicorn(
            "api", "binjai_api:create_app()", {**env, "OPS_CACHE_SECONDS": "30"}, workdir, []
        )
        servers.append(api)
        hello = base.start_gunicorn(
            "hello", "hello_app:app", env, workdir, ["--pythonpath", str(BENCH_DIR)]
        )
        servers.append(hello)
        uncached = base.start_gunicorn(
            "uncached", "binjai_api:create_app()", {**env, "OPS_CACHE_SECONDS": "0"}, workdir, []
        )
        servers.append(uncached)
        base.wait_until_up(api, "/healthz")
        base.wait_until_up(hello, "/hello")
        base.wait_until_up(uncached, "/healthz")
        by_name = {"api": api, "hello": hello, "uncached": uncached}
        # Logged in once per server before any load: a login (argon2id) on a machine busy with
        # the previous endpoint's backlog could outlast the client timeout.
        tokens = {name: base.log_in(by_name[name].port, *OPERATOR) for name in ("api", "uncached")}
        for name, server_name, path, clients in endpoints:
            server = by_name[server_name]
            headers = (
                {"Authorization": f"Bearer {tokens[server_name]}"} if server_name in tokens else {}
            )
            target = base.Target(name, server.port, path, headers)
            load = argparse.Namespace(**vars(args))
            if clients is not None:
                load.clients, load.processes = clients, min(clients, args.processes)
            rows.append(base.measure_endpoint(target, load, servers))
        problems = {server.name: base.server_log_problems(server) for server in servers}
    finally:
        base.stop_servers(servers)
        shutil.rmtree(workdir, ignore_errors=True)
    complaints = data["complaints"]
    applications = data["applications"]
    data_lines = [
        f"data: {args.complaints} complaints ({complaints['events']} history events) over 12 "
        f"months, {args.applications} permit applications ({applications['events']} events), "
        f"{sum(v for k, v in data['bookings'].items())} queue bookings over 60 days, in "
        f"PostgreSQL; written in {data['seconds']} s",
        "clients: 16 per endpoint unless its name says otherwise (the uncached ones: 1 client, "
        "a dashboard refreshing, and 4 at once)",
        "complaints by status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(complaints.items()) if k != "events"),
    ]
    for row in explained:
        if "query" in row:
            data_lines.append(
                f"EXPLAIN ANALYZE, {row['period_days']} days, {row['query']}: {row['ms']} ms "
                f"({row['plan']})"
            )
        else:
            data_lines.append(
                f"in process, {row['period_days']} days: overview computed in "
                f"{row['overview_in_process_ms']} ms ({row['statements']} SQL statements with "
                f"the heat maps), heat map per kelurahan {row['heatmap_kelurahan_in_process_ms']} "
                f"ms, 500 m grid {row['heatmap_grid_in_process_ms']} ms"
            )
    report = base.build_report(
        args,
        started,
        machine,
        f"PostgreSQL 127.0.0.1/{DATABASE_NAME}",
        rows,
        problems,
        benchmark="ops_dashboard",
        title="Binjai API command-center benchmark (overview and wall map)",
        data_lines=data_lines,
    )
    text = base.render_text(report)
    print()
    print(text)
    results = base.RESULTS_DIR
    base.write_atomically(results / "ops_dashboard.txt", text + "\n")
    base.write_atomically(results / "ops_dashboard.md", base.render_markdown(report))
    print(f"\nwritten: {results / 'ops_dashboard.txt'}, {results / 'ops_dashboard.md'}")
    failed = any(row["errors"] or not row["requests"] for row in rows)
    return 1 if failed or any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
