"""Prometheus metrics, served on /metrics to the monitoring system only.

Counters and histograms are `prometheus_client` objects updated where things happen (requests
here, pushes in the dispatcher, escalations in ops, caches where they answer). Under gunicorn
every worker (and the outbox worker, given the same directory) writes its values to files in
PROMETHEUS_MULTIPROC_DIR and a scrape adds them up (prometheus_client's multiprocess mode;
gunicorn.conf.py sets the directory up and forgets the values of workers that exit). Without
that directory, the one process's values are served.

The outbox's depth and the audit trail's pending records are read from the database when
scraped, so they are right whichever process answers. /metrics is not in the OpenAPI document:
it is not part of the API that apps and integrators code against, and it speaks Prometheus'
text format, not JSON. It answers loopback callers, the addresses in
METRICS_TRUSTED_ADDRESSES, and callers bearing METRICS_TOKEN; anyone else gets 403.
"""

from __future__ import annotations

import atexit
import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from binjai_api.access import public
from binjai_api.errors import forbidden
from binjai_api.extensions import db, limiter
from binjai_api.i18n import lazy_gettext

MULTIPROC_DIR_SETTING = "PROMETHEUS_MULTIPROC_DIR"
# Requests of the API are a few ms to a few hundred; exports and the BCC figures take longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "<unmatched>"  # a 404 for a path no route serves: never the raw path

REQUESTS = Counter(
    "binjai_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "binjai_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
PUSH_OUTCOMES = Counter(
    "binjai_notification_deliveries_total",
    "Outbox deliveries attempted, by channel (push, webhook) and outcome "
    "(sent, retried, failed, dropped)",
    ["channel", "outcome"],
)
ESCALATIONS = Counter(
    "binjai_escalations_sent_total",
    "Missed deadlines escalated to the staff who must act and the operators, by item type",
    ["item_type"],
)
CACHE_LOOKUPS = Counter(
    "binjai_cache_lookups_total",
    "Cache lookups, by cache and result (hit, miss)",
    ["cache", "result"],
)
DB_CONNECTIONS_IN_USE = Gauge(
    "binjai_db_pool_connections_in_use",
    "Database connections checked out of the pools, all processes together",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "binjai_db_pool_connections_max",
    "Connections the pools may hold (pool size plus overflow), all processes together",
    multiprocess_mode="livesum",
)


_OWN_METRICS = (
    REQUESTS,
    REQUEST_SECONDS,
    PUSH_OUTCOMES,
    ESCALATIONS,
    CACHE_LOOKUPS,
    DB_CONNECTIONS_IN_USE,
    DB_POOL_CAPACITY,
)


def count_push_outcomes(*, channel: str = "push", **outcomes: int) -> None:
    """Add a dispatch round's outcomes: count_push_outcomes(sent=3, retried=1)."""
    for outcome, count in outcomes.items():
        if count:
            PUSH_OUTCOMES.labels(channel=channel, outcome=outcome).inc(count)


def count_cache_lookup(cache: str, *, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache=cache, result="hit" if hit else "miss").inc()


# --- requests -------------------------------------------------------------------------------------


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    rule = request.url_rule
    key = (request.method, rule.rule if rule is not None else UNMATCHED_ROUTE, response.status_code)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        labels = {"method": key[0], "route": key[1], "status": str(key[2])}
        children = REQUESTS.labels(**labels), REQUEST_SECONDS.labels(**labels)
        _REQUEST_CHILDREN[key] = children
    children[0].inc()
    children[1].observe(time.perf_counter() - started)
    return response


# The counter and histogram of each (method, route template, status): looked up once, since
# `labels()` checks and joins the label values on every call. Bounded by the routes' templates.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


# --- figures read from the database when scraped -------------------------------------------------


class BacklogCollector(Collector):
    """The outbox's depth and the age of its oldest due delivery; the audit records waiting to be
    sealed and the age of the oldest. One query each, in the scraping request."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from binjai_api.audit import service as audit_service
        from binjai_api.db import utcnow
        from binjai_api.notifications import dispatcher

        now = utcnow()
        depth, due, oldest_due = dispatcher.outbox_backlog(now=now)
        yield _gauge("binjai_outbox_pending", "Deliveries waiting in the outbox", depth)
        yield _gauge("binjai_outbox_due", "Deliveries due now (not leased, not backing off)", due)
        yield _gauge(
            "binjai_outbox_oldest_due_age_seconds",
            "How long the oldest due delivery has been due (0: none due)",
            (now - oldest_due).total_seconds() if oldest_due is not None else 0.0,
        )
        pending, oldest = audit_service.pending_records()
        yield _gauge("binjai_audit_unsealed_records", "Audit records not sealed yet", pending)
        yield _gauge(
            "binjai_audit_oldest_unsealed_age_seconds",
            "Age of the oldest audit record not sealed yet (0: none)",
            (now - oldest).total_seconds() if oldest is not None else 0.0,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=max(0.0, float(value)))


# --- the pools ------------------------------------------------------------------------------------


def _watch_pool(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    pool: Any = engine.pool
    capacity = getattr(pool, "size", lambda: 0)() + max(0, getattr(pool, "_max_overflow", 0))
    if capacity:
        DB_POOL_CAPACITY.inc(capacity)
    sa.event.listen(engine, "checkout", lambda *_: DB_CONNECTIONS_IN_USE.inc())
    sa.event.listen(engine, "checkin", lambda *_: DB_CONNECTIONS_IN_USE.dec())


# --- /metrics ------------------------------------------------------------------------------------

blp = Blueprint("metrics", __name__)


def _trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = current_app.config["METRICS_TRUSTED_ADDRESSES"]
    parts = (part.strip() for part in raw.split(","))
    return [ipaddress.ip_network(part, strict=False) for part in parts if part]


def _admitted() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    presented = request.headers.get("Authorization", "")
    if token and presented.startswith("Bearer "):
        return hmac.compare_digest(presented[len("Bearer ") :].encode(), token.encode())
    if request.headers.get("X-Forwarded-For") and not current_app.config["TRUSTED_PROXY_COUNT"]:
        return False  # relayed by a proxy the app does not trust: the address is the proxy's
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in _trusted_networks())


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's values in multiprocess mode, else this process's."""
    scraped = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR_SETTING):
        multiprocess.MultiProcessCollector(scraped)
    else:
        for collector in _OWN_METRICS:
            scraped.register(collector)
    scraped.register(BacklogCollector())
    return scraped


@blp.get("/metrics")
@limiter.exempt  # scraped every few seconds by Prometheus
@public  # admitted by address or METRICS_TOKEN, checked here
def metrics() -> Response:
    """Prometheus metrics (text exposition format)."""
    if not _admitted():
        raise forbidden(lazy_gettext("Metrics are served to the monitoring system only."))
    body = generate_latest(registry())
    db.session.rollback()
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Time every request, watch the database pool, serve /metrics."""
    if os.environ.get(MULTIPROC_DIR_SETTING):
        # This process's live gauges leave the sums when it ends (a command, the outbox
        # worker); gunicorn.conf.py's child_exit covers workers killed outright.
        atexit.register(multiprocess.mark_process_dead, os.getpid())
    # First of the app's before-request hooks: a request refused by a later one (401 without
    # credentials, 429 past the default limit, 415, 422 for unstorable text) is answered too,
    # and counted and timed with the others instead of going unseen.
    app.before_request(_start_timer)
    hooks = app.before_request_funcs[None]
    hooks.insert(0, hooks.pop())
    app.after_request(_observe)
    _watch_pool(app)
    app.register_blueprint(blp)
