"""Webhook delivery throughput of one outbox worker (issue 21): N events to a local receiver on
127.0.0.1 that answers 204 at once, so what is measured is our side: claiming, signing
(Standard Webhooks, HMAC-SHA256 per secret), the POST over a fresh connection each time, and
recording the outcome. Also the cost of `emit()` in the domain's transaction.

Database: BENCH_DATABASE_URL (default a SQLite file in a temporary directory; e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test_h10, its schema dropped and recreated).

Run: .venv/bin/python bench/webhook_delivery.py [--events 500] [--endpoints 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_receiver() -> tuple[ThreadingHTTPServer, list[int]]:
    counted = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            counted[0] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--endpoints", type=int, default=2)
    args = parser.parse_args()

    from tests.conftest import _reset_schema, make_test_app

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = make_test_app(url, LOG_FORMAT="text")
    _reset_schema(app)
    server, counted = start_receiver()
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hooks"

    from binjai_api.auth import service as auth_service
    from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
    from binjai_api.extensions import db
    from binjai_api.notifications import dispatcher
    from binjai_api.notifications.fcm import LoggingSender
    from binjai_api.webhooks import service as webhooks_service
    from binjai_api.webhooks.events import WebhookEventType

    with app.app_context():
        client, _ = auth_service.create_api_client(
            name="bench", scopes=["webhooks:manage", "ops:read"], created_by_id=None
        )
        for _ in range(args.endpoints):
            webhooks_service.create_endpoint(
                api_client_id=client.id,
                scopes=frozenset(client.scopes),
                url=receiver_url,
                event_types=["deadline.missed"],
            )
        began = time.perf_counter()
        for number in range(args.events):
            item = OverdueItem(
                item_type=ItemType.COMPLAINT,
                item_id=uuid.uuid4(),
                reference=f"BJI-2026-{number:06d}",
                title="Jalan berlubang",
                agency_id=None,
                step="follow_up",
                waiting_on=WaitingOn.AGENCY_OFFICER,
                due_at=datetime(2026, 12, 4, 2, 30, tzinfo=UTC),
                link="/api/v1/complaints/x",
            )
            webhooks_service.emit(WebhookEventType.DEADLINE_MISSED, item)
            db.session.commit()
        emitted = time.perf_counter() - began

        began = time.perf_counter()
        report = dispatcher.drain(LoggingSender())
        elapsed = time.perf_counter() - began
    server.shutdown()
    total = args.events * args.endpoints
    print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
    print(
        f"emit: {args.events} events x {args.endpoints} endpoints, one commit each: "
        f"{emitted / args.events * 1000:.2f} ms per event (emit + commit)"
    )
    print(
        f"delivery: {report.sent}/{total} sent, {counted[0]} received in {elapsed:.2f} s: "
        f"{total / elapsed:.0f} webhooks/s, {elapsed / total * 1000:.2f} ms each "
        f"(of which sending {report.send_seconds / total * 1000:.2f} ms)"
    )


if __name__ == "__main__":
    main()
