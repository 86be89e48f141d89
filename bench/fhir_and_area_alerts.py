"""What the FHIR face and area alerts cost, in process (Flask test client, one thread).

FHIR: the demo facility directory (`seed_demo_facilities`), each interaction answered in full and
as 304: SQL statements, bytes and milliseconds per request. Area alerts: one public report in a
kecamatan followed by `--followers` residents (each with one device), fanned out by one round of
the outbox worker's job: statements, seconds, inbox entries and pushes queued; then reports past
the daily cap, held for the digest. On a temporary SQLite database, or on BENCH_DATABASE_URL (an
empty PostgreSQL database; its schema is replaced).

Run: .venv/bin/python bench/fhir_and_area_alerts.py [--requests N] [--followers N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, cast

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

import sqlalchemy as sa  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import _reset_schema, make_test_app  # noqa: E402
from tests.queries import counting_queries  # noqa: E402

from binjai_api.area_alerts import service as area_alerts  # noqa: E402
from binjai_api.area_alerts.models import AreaSubscription  # noqa: E402
from binjai_api.auth.models import User  # noqa: E402
from binjai_api.complaints import service as complaints_service  # noqa: E402
from binjai_api.db import utcnow  # noqa: E402
from binjai_api.extensions import db  # noqa: E402
from binjai_api.health import service as health_service  # noqa: E402
from binjai_api.notifications.models import Delivery, Device, Notification  # noqa: E402

FHIR_PATHS = (
    "/fhir/r4/metadata",
    "/fhir/r4/Location",
    "/fhir/r4/Location?near=3.60|98.49|3|km",
    "/fhir/r4/Location?type=puskesmas&_count=5",
    "/fhir/r4/HealthcareService",
    "/fhir/r4/Slot",
)


def _fhir(app: Any, client: Any, requests: int) -> None:
    with app.app_context():
        count = health_service.seed_demo_facilities()
        db.session.commit()
    first = client.get("/fhir/r4/Location?_count=1").get_json()["entry"][0]["resource"]["id"]
    paths = (*FHIR_PATHS, f"/fhir/r4/Location/{first}")
    print(f"FHIR face over {count} demo facilities; {requests} requests each")
    print(f"{'request':44} {'answer':6} {'queries':>7} {'bytes':>7} {'mean ms':>8} {'p50 ms':>7}")
    for path in paths:
        etag = client.get(path).headers["ETag"]
        for label, headers in (("200", {}), ("304", {"If-None-Match": etag})):
            with counting_queries(app) as statements:
                answer = client.get(path, headers=headers)
            assert str(answer.status_code) == label, (path, answer.status_code)
            timings = []
            for _ in range(requests):
                began = time.perf_counter()
                client.get(path, headers=headers)
                timings.append((time.perf_counter() - began) * 1000)
            print(
                f"{path:44} {label:6} {len(statements):7d} {len(answer.data):7d} "
                f"{statistics.fmean(timings):8.2f} {statistics.median(timings):7.2f}"
            )


def _followers(app: Any, count: int) -> None:
    """`count` residents following kecamatan 12.75.02, each with a device (bulk rows: the
    registration's password hashing is not what is measured)."""
    template = factories.make_account(app, "citizen")
    with app.app_context():
        row = db.session.get(User, uuid.UUID(template.id))
        assert row is not None
        base = {c.name: getattr(row, c.name) for c in cast(sa.Table, User.__table__).columns}
        now = utcnow()
        users, subscriptions, devices = [], [], []
        for n in range(count):
            user_id = uuid.uuid4()
            nik, phone = f"9975{n:012d}", f"+628999{n:07d}"
            users.append({**base, "id": user_id, "nik": nik, "phone": phone, "email": None})
            subscriptions.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "area_type": "kecamatan",
                    "area_code": "12.75.02",
                    "category_codes": [],
                    "created_at": now,
                }
            )
            devices.append(
                {
                    "id": uuid.uuid4(),
                    "token": f"bench-area-alert-device-{n:08d}",
                    "user_id": user_id,
                    "platform": "android",
                    "created_at": now,
                    "refreshed_at": now,
                }
            )
        db.session.execute(sa.insert(cast(sa.Table, User.__table__)), users)
        db.session.execute(sa.insert(cast(sa.Table, AreaSubscription.__table__)), subscriptions)
        db.session.execute(sa.insert(cast(sa.Table, Device.__table__)), devices)
        db.session.commit()


def _area_alerts(app: Any, client: Any, followers: int) -> None:
    _followers(app, followers)
    reporter = factories.make_account(app, "citizen")
    headers = factories.login_headers(client, reporter)
    with app.app_context():
        complaints_service.seed_categories()
        category = complaints_service.find_category_by_code("waste")
        assert category is not None
        category_id = str(category.id)
    body = {
        "type": "complaint",
        "category_id": category_id,
        "title": "Sampah menumpuk",
        "description": "Sampah tidak diangkut tiga hari.",
        "lat": 3.6001,
        "lon": 98.4853,
        "kelurahan_code": "12.75.02.1001",
        "privacy": "public",
    }
    limit = app.config["AREA_ALERTS_DAILY_LIMIT"]
    print(f"\nArea alerts: {followers} followers of kecamatan 12.75.02, daily cap {limit}")
    print(f"{'round':34} {'queries':>7} {'seconds':>8} {'pushed':>7} {'held':>6}")
    for n in range(limit + 1):
        began = time.perf_counter()
        created = client.post("/api/v1/complaints", json=body, headers=headers)
        submit_ms = (time.perf_counter() - began) * 1000
        assert created.status_code == 201, created.get_json()
        with app.app_context(), counting_queries(app) as statements:
            began = time.perf_counter()
            report = area_alerts.run_area_alerts()
            seconds = time.perf_counter() - began
        label = f"report {n + 1} (submit {submit_ms:.0f} ms)"
        print(f"{label:34} {len(statements):7d} {seconds:8.2f} {report.pushed:7d} {report.held:6d}")
    with app.app_context():
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
        pushes = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
    print(f"inbox entries {entries}, pushes queued in the outbox {pushes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--followers", type=int, default=2000)
    arguments = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/fhir_alerts.db"
        app = make_test_app(url, UPLOAD_DIR=tmp, COMPLAINT_SUBMIT_RATE_LIMIT="1000 per hour")
        _reset_schema(app)
        client = app.test_client()
        print(f"database: {url.split('@')[-1]}")
        _fhir(app, client, arguments.requests)
        _area_alerts(app, client, arguments.followers)


if __name__ == "__main__":
    main()
