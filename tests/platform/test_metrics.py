"""GET /metrics: Prometheus metrics per route template and status, the outbox and the audit
backlog, pushes, escalations and cache lookups; refused to callers outside the monitoring
system. Under gunicorn, every worker's values add up (multiprocess mode)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from binjai_api.audit import service as audit_service
from binjai_api.extensions import db
from binjai_api.notifications import dispatcher, fcm, kinds
from binjai_api.notifications.models import Device
from binjai_api.ops import escalation
from binjai_api.workcalendar import service as workcalendar_service
from tests.notifications.helpers import notify_and_commit, register_device
from tests.ops.test_escalation_worker import _overdue_report

pytestmark = pytest.mark.usefixtures("rollback_db")

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics (from loopback, as the test client is), by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_and_timed_per_route_template_and_status(
    client: FlaskClient,
) -> None:
    missing = f"/api/v1/public/complaints/{uuid.uuid4()}"
    route = "/api/v1/public/complaints/<uuid:complaint_id>"
    labels = {"method": "GET", "route": route, "status": "404"}
    before = scrape(client)

    for _ in range(3):
        assert client.get(missing).status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/path-xq").status_code == 404

    after = scrape(client)
    assert value(after, "binjai_http_requests_total", **labels) == (
        value(before, "binjai_http_requests_total", **labels) + 3
    )
    count = "binjai_http_request_duration_seconds_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 3
    slowest = "binjai_http_request_duration_seconds_bucket"
    assert value(after, slowest, **labels, le="+Inf") == value(after, count, **labels)
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    assert value(after, "binjai_http_requests_total", **healthz) >= 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "binjai_http_requests_total", **unmatched) >= 1
    text = client.get("/metrics").get_data(as_text=True)
    assert "path-xq" not in text and missing not in text  # templates, never raw paths


def test_metrics_are_refused_from_outside_unless_trusted_or_bearing_the_token(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = client.get("/metrics", environ_base=OUTSIDER)
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "forbidden"

    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-0123456789abcdef")
    bearer = {"Authorization": "Bearer scrape-token-0123456789abcdef"}
    assert client.get("/metrics", environ_base=OUTSIDER, headers=bearer).status_code == 200
    wrong = {"Authorization": "Bearer scrape-token-wrong"}
    assert client.get("/metrics", environ_base=OUTSIDER, headers=wrong).status_code == 403

    # Through a reverse proxy on the same host that the app was not told about, the address is
    # the proxy's own (loopback): not enough.
    relayed = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert relayed.status_code == 403

    monkeypatch.setitem(app.config, "METRICS_TRUSTED_ADDRESSES", "10.0.0.0/8")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_the_outbox_and_the_audit_backlog_are_read_when_scraped(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    with app.app_context():
        audit_service.seal_pending()
    resident = auth_headers("citizen")
    user_id = client.get("/api/v1/me", headers=resident).get_json()["id"]
    register_device(app, user_id, "m" * 40)
    before = scrape(client)

    notify_and_commit(app, [user_id], kinds.PASSWORD_CHANGED)
    with app.app_context():
        from datetime import date

        workcalendar_service.declare_day_off(day=date(2036, 3, 3), name="Libur")

    after = scrape(client)
    assert value(after, "binjai_outbox_pending") == value(before, "binjai_outbox_pending") + 1
    assert value(after, "binjai_outbox_due") >= 1
    assert value(after, "binjai_outbox_oldest_due_age_seconds") >= 0
    assert value(after, "binjai_audit_unsealed_records") >= 1
    with app.app_context():
        audit_service.seal_pending()
    assert value(scrape(client), "binjai_audit_unsealed_records") == 0


def test_pushes_and_escalations_are_counted(app: Flask, client: FlaskClient) -> None:
    operator, _complaint_id = _overdue_report(app, client)
    with app.app_context():
        db.session.add(Device(user_id=uuid.UUID(operator.id), token="e" * 40, platform="android"))
        db.session.commit()
    sent = {"channel": "push", "outcome": "sent"}
    escalated = {"item_type": "complaint"}
    before = scrape(client)

    job = dispatcher.PeriodicJob("escalate-overdue", 60, escalation.escalate_overdue)
    with app.app_context():
        dispatcher.run_worker(
            fcm.LoggingSender(), stop=threading.Event(), drain_only=True, periodic=[job]
        )

    after = scrape(client)
    assert value(after, "binjai_escalations_sent_total", **escalated) == (
        value(before, "binjai_escalations_sent_total", **escalated) + 1
    )
    assert value(after, "binjai_notification_deliveries_total", **sent) >= (
        value(before, "binjai_notification_deliveries_total", **sent) + 1
    )


def test_command_center_cache_lookups_are_counted_as_hits_and_misses(
    app: Flask,
    client: FlaskClient,
    auth_headers: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "OPS_CACHE_SECONDS", 30)
    operator = auth_headers("operator")
    query = {"from": "2031-07-01", "to": f"2031-07-{uuid.uuid4().int % 28 + 1:02d}"}
    hit, miss = {"cache": "ops", "result": "hit"}, {"cache": "ops", "result": "miss"}
    before = scrape(client)

    for _ in range(2):
        response = client.get("/api/v1/ops/overview", headers=operator, query_string=query)
        assert response.status_code == 200, response.get_json()

    after = scrape(client)
    lookups = "binjai_cache_lookups_total"
    assert value(after, lookups, **miss) == value(before, lookups, **miss) + 1
    assert value(after, lookups, **hit) == value(before, lookups, **hit) + 1


def test_database_pool_use_is_exposed(client: FlaskClient) -> None:
    samples = scrape(client)
    assert ("binjai_db_pool_connections_in_use", ()) in samples
    assert value(samples, "binjai_db_pool_connections_max") >= 1


def test_requests_refused_before_their_view_are_counted_too(client: FlaskClient) -> None:
    """A 401 (no credentials) and a 415 (wrong media type) are answered by hooks before the view:
    they are requests answered, counted under their route template and status like any other."""
    unauthorized = {"method": "GET", "route": "/api/v1/me", "status": "401"}
    unsupported = {"method": "POST", "route": "/api/v1/auth/login", "status": "415"}
    before = scrape(client)

    assert client.get("/api/v1/me").status_code == 401
    refused = client.post("/api/v1/auth/login", data="x", content_type="text/plain")
    assert refused.status_code == 415

    after = scrape(client)
    for labels in (unauthorized, unsupported):
        for name in ("binjai_http_requests_total", "binjai_http_request_duration_seconds_count"):
            assert value(after, name, **labels) == value(before, name, **labels) + 1, labels
