"""What a poll costs: the lists the app polls answered in full (200) or as 304 (If-None-Match).

In process (the Flask test client, one thread), so that the figure is the app's own work: the
SQL statements and milliseconds per request, and the bytes sent. A resident with 100 inbox
entries and 20 reports; each list read a page of 20. On a temporary SQLite database, or on
BENCH_DATABASE_URL (an empty PostgreSQL database; its schema is replaced).

Run: .venv/bin/python bench/polled_lists.py [--requests N]
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
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from tests import factories  # noqa: E402
from tests.conftest import _reset_schema, make_test_app  # noqa: E402
from tests.queries import counting_queries  # noqa: E402

from binjai_api.complaints import service as complaints_service  # noqa: E402
from binjai_api.extensions import db  # noqa: E402
from binjai_api.notifications import kinds  # noqa: E402
from binjai_api.notifications import service as notifications_service  # noqa: E402

LISTS = ("/api/v1/notifications", "/api/v1/complaints/mine")


def _seed(app: Any, client: Any) -> dict[str, str]:
    account = factories.make_account(app, "citizen")
    headers = factories.login_headers(client, account)
    with app.app_context():
        complaints_service.seed_categories()
        category = next(iter(db.session.scalars(complaints_service.categories_query())))
        category_id = str(category.id)
        for _ in range(100):
            notifications_service.notify(
                recipients=[uuid.UUID(account.id)], kind=kinds.PASSWORD_CHANGED
            )
        db.session.commit()
    for n in range(20):
        body = {
            "type": "complaint",
            "category_id": category_id,
            "title": f"Jalan berlubang {n}",
            "description": "Lubang besar di depan toko nomor 12.",
            "lat": 3.6001,
            "lon": 98.4853,
            "kelurahan_code": "12.75.02.1001",
            "privacy": "public",
        }
        created = client.post("/api/v1/complaints", json=body, headers=headers)
        assert created.status_code == 201, created.get_json()
    return headers


def _measure(app: Any, client: Any, path: str, headers: dict[str, str], n: int) -> dict[str, Any]:
    response = client.get(path, headers=headers)
    etag = response.headers["ETag"]
    figures: dict[str, Any] = {}
    for label, extra in (("200", {}), ("304", {"If-None-Match": etag})):
        with counting_queries(app) as statements:
            answer = client.get(path, headers={**headers, **extra})
        assert str(answer.status_code) == label, (path, answer.status_code)
        timings = []
        for _ in range(n):
            began = time.perf_counter()
            client.get(path, headers={**headers, **extra})
            timings.append((time.perf_counter() - began) * 1000)
        figures[label] = {
            "queries": len(statements),
            "bytes": len(answer.data),
            "mean_ms": statistics.fmean(timings),
            "p50_ms": statistics.median(timings),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/polled.db"
        app = make_test_app(url, UPLOAD_DIR=tmp, COMPLAINT_SUBMIT_RATE_LIMIT="1000 per hour")
        _reset_schema(app)
        client = app.test_client()
        headers = _seed(app, client)
        print(f"database: {url.split('@')[-1]}; {arguments.requests} requests each, page of 20")
        print(f"{'list':28} {'answer':6} {'queries':>7} {'bytes':>7} {'mean ms':>8} {'p50 ms':>7}")
        for path in LISTS:
            for label, row in _measure(app, client, path, headers, arguments.requests).items():
                print(
                    f"{path:28} {label:6} {row['queries']:7d} {row['bytes']:7d} "
                    f"{row['mean_ms']:8.2f} {row['p50_ms']:7.2f}"
                )


if __name__ == "__main__":
    main()
