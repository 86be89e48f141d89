"""What the IKM report and the public performance page cost over a year of SKM answers.

In process (the Flask test client): a city's year of answers (ANSWERS, spread over 12 months,
the six demo services of five agencies and a hundred more services) is written straight into the
tables, then the IKM report (a year, then a month), its CSV and the public page (JSON and HTML)
are timed, computed afresh (OPS_CACHE_SECONDS=0) and then from the cache (30 s). On a temporary
SQLite database, or on BENCH_DATABASE_URL (an empty PostgreSQL database; its schema is replaced).

Run: .venv/bin/python bench/service_quality.py [--answers N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from tests import factories  # noqa: E402
from tests.conftest import _reset_schema, make_test_app  # noqa: E402

from binjai_api.db import utcnow  # noqa: E402
from binjai_api.extensions import db  # noqa: E402
from binjai_api.quality import performance  # noqa: E402
from binjai_api.quality.models import SurveyAnswer, SurveyInvitation  # noqa: E402

AGENCIES = ("PUPR", "DLH", "PERKIM", "DPMPTSP", "DISHUB", "DINKES")


def _write(app: Any, answers: int) -> None:
    rng = random.Random(19)
    user = factories.make_account(app, "citizen")
    with app.app_context():
        agencies = [uuid.UUID(factories.agency_id(app, code)) for code in AGENCIES]
        year = utcnow().year
        invitations, rows = [], []
        for n in range(answers):
            agency = agencies[n % len(agencies)]
            key = f"S{n % 106:03d}"
            period = f"{year}-{n % 12 + 1:02d}"
            common = {
                "agency_id": agency,
                "service_kind": ("complaint", "permit", "queue")[n % 3],
                "service_key": key,
                "service_name": f"Layanan {key}",
                "service_name_en": f"Service {key}",
                "period": period,
            }
            invitations.append(
                {
                    **common,
                    "id": uuid.uuid4(),
                    "user_id": uuid.UUID(user.id),
                    "service_id": uuid.uuid4(),
                    "reference": f"B-{n}",
                    "created_at": utcnow(),
                    "expires_at": utcnow(),
                    "answered": True,
                }
            )
            scores = {f"u{i}": rng.choice((2, 3, 3, 3, 4, 4)) for i in range(1, 10)}
            rows.append({**common, "id": uuid.uuid4(), "suggestion": None, **scores})
        db.session.execute(SurveyInvitation.__table__.insert(), invitations)
        db.session.execute(SurveyAnswer.__table__.insert(), rows)
        db.session.commit()


def _time(client: Any, path: str, headers: dict[str, str], repeat: int) -> tuple[float, int]:
    spans, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        spans.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        size = len(response.get_data())
    return statistics.median(spans), size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='bench-quality-')}/bench.db"
    )
    month = None
    for cache_seconds in (0, 30):
        app = make_test_app(url, OPS_CACHE_SECONDS=cache_seconds)
        if cache_seconds == 0:
            _reset_schema(app)
            started = time.perf_counter()
            _write(app, args.answers)
            print(
                f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}; "
                f"{args.answers:,} answers written in {time.perf_counter() - started:.1f} s"
            )
        client = app.test_client()
        operator = factories.login_headers(client, factories.make_account(app, "operator"))
        with app.app_context():
            month = performance.current_month()
        year = month[:4]
        cases = (
            (f"/api/v1/ops/ikm?period={year}", operator, "IKM report, a year (JSON)"),
            (f"/api/v1/ops/ikm?period={month}", operator, "IKM report, a month (JSON)"),
            (
                f"/api/v1/ops/ikm?period={year}",
                {**operator, "Accept": "text/csv"},
                "IKM report, a year (CSV)",
            ),
            (f"/api/v1/public/performance?month={month}", {}, "public page (JSON)"),
            (f"/api/v1/public/performance?month={month}", {"Accept": "text/html"}, "page (HTML)"),
        )
        label = "computed afresh" if cache_seconds == 0 else "cached (OPS_CACHE_SECONDS=30)"
        print(f"-- {label}, median of {args.repeat}")
        for path, headers, name in cases:
            if cache_seconds and path.startswith("/api/v1/ops/ikm"):
                continue  # the IKM report is not cached: it is staff's, per scope
            if cache_seconds:
                client.get(path, headers=headers)  # fill the cache
            median, size = _time(client, path, headers, args.repeat)
            print(f"{name:32} {median:8.1f} ms  {size / 1024:7.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
