"""Settings read from the environment (and `.env` in development), checked at start-up."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
INSTANCE_DIR = PROJECT_DIR / "instance"

API_V1_STR = "/api/v1"

# Development defaults. Production refuses to start with any of these.
DEV_SECRET_KEY = "dev-only-secret-key-change-me"
DEV_JWT_SECRET_KEY = "dev-only-jwt-secret-key-change-me"
DEV_PAYMENT_CALLBACK_SECRET = "dev-only-payment-callback-secret-change-me"
DEV_PERMIT_SIGNING_KEY = "dev-only-permit-signing-key-change-me"
DEV_AUDIT_PSEUDONYM_KEY = "dev-only-audit-pseudonym-key-change-me"
MIN_SECRET_LENGTH = 32


class UnsafeConfigurationError(RuntimeError):
    """Raised at start-up when the settings are unsafe for the chosen environment."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise UnsafeConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'binjai.db'}"


def _env_flag(name: str) -> bool | None:
    """A yes/no setting (1/true/yes or 0/false/no); None when unset."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return None
    return raw in ("1", "true", "yes")


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply `overrides` (tests)."""
    load_dotenv(PROJECT_DIR / ".env", override=False)
    env = os.environ.get("BINJAI_ENV", "development").strip().lower()
    redis_url = os.environ.get("REDIS_URL") or None
    settings: dict[str, Any] = {
        "BINJAI_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_database_url(),
        "REDIS_URL": redis_url,
        "DB_CONNECT_TIMEOUT_SECONDS": _env_int("DB_CONNECT_TIMEOUT_SECONDS", 5),
        "DB_STATEMENT_TIMEOUT_MS": _env_int("DB_STATEMENT_TIMEOUT_MS", 15000),
        "DB_POOL_SIZE": _env_int("DB_POOL_SIZE", 5),
        # How long a request waits for a free pooled connection before answering 503.
        "DB_POOL_TIMEOUT_SECONDS": _env_int("DB_POOL_TIMEOUT_SECONDS", 5),
        # Pooled connections are replaced after this long (below the idle timeouts of PostgreSQL,
        # pgbouncer and firewalls). There is no ping before each use: a connection found dead
        # (PostgreSQL restarted) fails its request with 503 and Retry-After, and the pool drops
        # every connection opened before then.
        "DB_POOL_RECYCLE_SECONDS": _env_int("DB_POOL_RECYCLE_SECONDS", 1800),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json" if env == "production" else "text"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "ACCESS_TOKEN_MINUTES": _env_int("ACCESS_TOKEN_MINUTES", 15),
        "REFRESH_TOKEN_DAYS": _env_int("REFRESH_TOKEN_DAYS", 30),
        # The refresh token just spent, presented again this soon, gets the same new pair back
        # (an app resuming with two refreshes in flight) instead of ending the session.
        "REFRESH_REUSE_GRACE_SECONDS": _env_int("REFRESH_REUSE_GRACE_SECONDS", 30),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "REGISTER_RATE_LIMIT": os.environ.get("REGISTER_RATE_LIMIT", "5 per minute"),
        # Registrations refused as already registered (409 nik_taken, phone_taken, email_taken)
        # one address may receive: the ration on probing who has an account.
        "REGISTER_CONFLICT_RATE_LIMIT": os.environ.get(
            "REGISTER_CONFLICT_RATE_LIMIT", "5 per hour"
        ),
        "TOKEN_RATE_LIMIT": os.environ.get("TOKEN_RATE_LIMIT", "30 per minute"),
        "DEFAULT_RATE_LIMIT": os.environ.get("DEFAULT_RATE_LIMIT", "300 per minute"),
        "TRUSTED_PROXY_COUNT": _env_int("TRUSTED_PROXY_COUNT", 0),
        "MAX_CONTENT_LENGTH": _env_int("MAX_REQUEST_BYTES", 26 * 1024 * 1024),
        # Uploaded images declaring more pixels than this are refused (413) before decoding.
        "MAX_IMAGE_PIXELS": _env_int("MAX_IMAGE_PIXELS", 40_000_000),
        # Uploaded photos and documents, outside any served folder: files are only read back
        # through authorised endpoints (CONVENTIONS: files).
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads")),
        "IDEMPOTENCY_TTL_HOURS": _env_int("IDEMPOTENCY_TTL_HOURS", 24),
        # Public feeds (complaints): how long one process reuses a list's total count.
        "PUBLIC_COUNT_CACHE_SECONDS": _env_int("PUBLIC_COUNT_CACHE_SECONDS", 30),
        # Command center: how long an overview or wall-map result is reused (in Redis when
        # REDIS_URL is set, else per process); its screens refresh every 30 seconds.
        "OPS_CACHE_SECONDS": _env_int("OPS_CACHE_SECONDS", 30),
        "IDEMPOTENCY_IN_FLIGHT_SECONDS": _env_int("IDEMPOTENCY_IN_FLIGHT_SECONDS", 60),
        # argon2id cost (RFC 9106 second recommended option by default).
        "ARGON2_TIME_COST": _env_int("ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_KIB": _env_int("ARGON2_MEMORY_KIB", 65536),
        "ARGON2_PARALLELISM": _env_int("ARGON2_PARALLELISM", 4),
        # Push notifications. Without FIREBASE_CREDENTIALS (a service-account JSON file) the
        # outbox worker logs each push instead of sending it.
        "FIREBASE_CREDENTIALS": os.environ.get("FIREBASE_CREDENTIALS") or None,
        "FCM_ENDPOINT": os.environ.get("FCM_ENDPOINT") or None,
        "FCM_HTTP_TIMEOUT_SECONDS": _env_int("FCM_HTTP_TIMEOUT_SECONDS", 10),
        "OUTBOX_BATCH_SIZE": _env_int("OUTBOX_BATCH_SIZE", 500),
        "OUTBOX_LEASE_SECONDS": _env_int("OUTBOX_LEASE_SECONDS", 300),
        "OUTBOX_MAX_ATTEMPTS": _env_int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_RETRY_BASE_SECONDS": _env_int("OUTBOX_RETRY_BASE_SECONDS", 30),
        "OUTBOX_RETRY_MAX_SECONDS": _env_int("OUTBOX_RETRY_MAX_SECONDS", 3600),
        "OUTBOX_POLL_SECONDS": _env_int("OUTBOX_POLL_SECONDS", 1),
        "BROADCAST_BATCH_SIZE": _env_int("BROADCAST_BATCH_SIZE", 1000),
        "DEVICE_RETENTION_DAYS": _env_int("DEVICE_RETENTION_DAYS", 60),
        "OUTBOX_RETENTION_DAYS": _env_int("OUTBOX_RETENTION_DAYS", 30),
        # Webhooks to integrators (webhooks/): sent by the outbox worker, WEBHOOK_BATCH_SIZE at
        # a time, retried with backoff up to WEBHOOK_MAX_ATTEMPTS; an endpoint failing for
        # WEBHOOK_DISABLE_AFTER_DAYS is disabled. After a secret rotation the old secret also
        # signs for WEBHOOK_SECRET_OVERLAP_HOURS. Private, loopback and link-local receivers
        # (and plain http) are refused unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES (never in
        # production).
        "WEBHOOK_BATCH_SIZE": _env_int("WEBHOOK_BATCH_SIZE", 20),
        "WEBHOOK_TIMEOUT_SECONDS": _env_int("WEBHOOK_TIMEOUT_SECONDS", 10),
        "WEBHOOK_MAX_ATTEMPTS": _env_int("WEBHOOK_MAX_ATTEMPTS", 15),
        "WEBHOOK_RETRY_BASE_SECONDS": _env_int("WEBHOOK_RETRY_BASE_SECONDS", 30),
        "WEBHOOK_RETRY_MAX_SECONDS": _env_int("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600),
        "WEBHOOK_DISABLE_AFTER_DAYS": _env_int("WEBHOOK_DISABLE_AFTER_DAYS", 5),
        "WEBHOOK_SECRET_OVERLAP_HOURS": _env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24),
        # Unset: on outside production (decided once the environment is known, in _derive).
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": _env_flag("WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
        # Online queue (antrean online): how far ahead residents may book (today to N days), and
        # how many active bookings one account may hold at once (family members included).
        "QUEUE_BOOKING_DAYS_AHEAD": _env_int("QUEUE_BOOKING_DAYS_AHEAD", 7),
        "QUEUE_MAX_ACTIVE_BOOKINGS": _env_int("QUEUE_MAX_ACTIVE_BOOKINGS", 3),
        # The agency answerable for the online queues of every facility (the command center counts
        # their overdue sessions under it and escalates to its officers).
        "HEALTH_AGENCY_CODE": os.environ.get("HEALTH_AGENCY_CODE", "DINKES"),
        # /metrics answers these addresses or networks (comma-separated) and callers bearing
        # METRICS_TOKEN ("Authorization: Bearer <token>"); everyone else gets 403.
        "METRICS_TRUSTED_ADDRESSES": os.environ.get("METRICS_TRUSTED_ADDRESSES", "127.0.0.1,::1"),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # The outbox worker seals new audit records into the hash chain this often (seconds; also
        # `flask audit-seal`). Until then they are listed as pending by `flask audit-verify`.
        "AUDIT_SEAL_INTERVAL_SECONDS": _env_int("AUDIT_SEAL_INTERVAL_SECONDS", 1),
        # The outbox worker looks for missed deadlines to escalate this often (0: never; the
        # `escalate-overdue` command still runs one round).
        "ESCALATION_INTERVAL_SECONDS": _env_int("ESCALATION_INTERVAL_SECONDS", 60),
        # Area alerts: pushes a follower gets a day at most (the rest in the next morning's
        # digest), and how often the worker fans out new reports (0: never).
        "AREA_ALERTS_DAILY_LIMIT": _env_int("AREA_ALERTS_DAILY_LIMIT", 3),
        "AREA_ALERTS_INTERVAL_SECONDS": _env_int("AREA_ALERTS_INTERVAL_SECONDS", 30),
        # FHIR face: the city's SATUSEHAT (IHS) organisation number in identifier systems; empty,
        # a documented placeholder (fhir/identifiers.py).
        "SATUSEHAT_ORGANIZATION_ID": os.environ.get("SATUSEHAT_ORGANIZATION_ID", ""),
        # "Is it fixed?": this many working days after a report is resolved, its reporter and
        # supporters are asked (quality/fix_checks.py); the worker looks this often (0: never).
        "FIX_CHECK_WORKING_DAYS": _env_int("FIX_CHECK_WORKING_DAYS", 14),
        "FIX_CHECK_INTERVAL_SECONDS": _env_int("FIX_CHECK_INTERVAL_SECONDS", 600),
        # Complaints: locations must fall in this box (min_lon,min_lat,max_lon,max_lat).
        "COMPLAINT_AREA_BBOX": os.environ.get("COMPLAINT_AREA_BBOX", "98.40,3.52,98.58,3.68"),
        "COMPLAINT_SUBMIT_RATE_LIMIT": os.environ.get("COMPLAINT_SUBMIT_RATE_LIMIT", "20 per hour"),
        # Licensing: the payment gateway signs its callbacks with this shared secret
        # (HMAC-SHA256); issued permits' verification codes are signed with the signing key.
        "PAYMENT_CALLBACK_SECRET": os.environ.get(
            "PAYMENT_CALLBACK_SECRET", DEV_PAYMENT_CALLBACK_SECRET
        ),
        "PERMIT_SIGNING_KEY": os.environ.get("PERMIT_SIGNING_KEY", DEV_PERMIT_SIGNING_KEY),
        # Keys the pseudonyms under which an anonymous reporter's own actions enter the audit
        # trail (HMAC-SHA256). Kept out of the database: only whoever holds it can link a
        # pseudonym to an account (`flask audit-pseudonym`).
        "AUDIT_PSEUDONYM_KEY": os.environ.get("AUDIT_PSEUDONYM_KEY", DEV_AUDIT_PSEUDONYM_KEY),
        # Every absolute link the API writes (QR codes, verification links, links in pushes,
        # Open311) starts with this, never with the request's host. Unset: this machine's PORT.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL")
        or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}",
        "TESTING": False,
    }
    if overrides:
        settings.update(overrides)
    _derive(settings)
    check_settings(settings)
    return settings


def _derive(settings: dict[str, Any]) -> None:
    """Fill in the framework settings that follow from ours."""
    settings["PUBLIC_BASE_URL"] = str(settings.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if settings.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES") is None:
        settings["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = settings["BINJAI_ENV"] != "production"
    uri: str = settings["SQLALCHEMY_DATABASE_URI"]
    engine_options: dict[str, Any] = {"hide_parameters": True}
    if uri.startswith("postgresql"):
        engine_options.update(
            pool_recycle=settings["DB_POOL_RECYCLE_SECONDS"],
            pool_size=settings["DB_POOL_SIZE"],
            max_overflow=settings["DB_POOL_SIZE"],
            pool_timeout=settings["DB_POOL_TIMEOUT_SECONDS"],
            connect_args={
                "connect_timeout": settings["DB_CONNECT_TIMEOUT_SECONDS"],
                "options": f"-c statement_timeout={settings['DB_STATEMENT_TIMEOUT_MS']}"
                " -c lock_timeout=10000 -c TimeZone=UTC",
            },
        )
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    settings["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=settings["ACCESS_TOKEN_MINUTES"])
    settings["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(days=settings["REFRESH_TOKEN_DAYS"])
    settings["JWT_ALGORITHM"] = "HS256"
    settings["JWT_DECODE_ALGORITHMS"] = ["HS256"]
    settings["JWT_TOKEN_LOCATION"] = ["headers"]
    settings["JWT_COOKIE_CSRF_PROTECT"] = False
    settings["JWT_ERROR_MESSAGE_KEY"] = "detail"
    # Without Redis, limits' memory storage without its per-hit timer thread (ratelimit.py).
    settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "process-memory://"
    # The limit headers go on the 429 itself (errors.py); Flask-Limiter would otherwise put its
    # window's Retry-After on every response, successes and other errors included.
    settings["RATELIMIT_HEADERS_ENABLED"] = False
    # When Redis is unreachable, limits fall back to each instance's memory instead of failing
    # every request: the service stays up and limits still hold per instance.
    settings["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    settings["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
    settings["RATELIMIT_KEY_PREFIX"] = "binjai"
    settings["BABEL_DEFAULT_LOCALE"] = "id"
    settings["BABEL_DEFAULT_TIMEZONE"] = "Asia/Jakarta"
    settings["BABEL_TRANSLATION_DIRECTORIES"] = str(PACKAGE_DIR / "translations")
    settings["JSON_SORT_KEYS"] = False


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse to start with settings that would be unsafe in production."""
    env = settings["BINJAI_ENV"]
    if env not in {"development", "production", "test"}:
        raise UnsafeConfigurationError(
            f"BINJAI_ENV must be development, production or test, not {env!r}"
        )
    if settings.get("OPS_CACHE_SECONDS", 0) < 0:
        raise UnsafeConfigurationError("OPS_CACHE_SECONDS must be 0 (no caching) or more")
    for part in filter(None, (p.strip() for p in settings["METRICS_TRUSTED_ADDRESSES"].split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError as exc:
            raise UnsafeConfigurationError(
                f"METRICS_TRUSTED_ADDRESSES: {part!r} is not an address or network"
            ) from exc
    if settings["AUDIT_SEAL_INTERVAL_SECONDS"] <= 0:
        raise UnsafeConfigurationError("AUDIT_SEAL_INTERVAL_SECONDS must be more than 0")
    if settings["ESCALATION_INTERVAL_SECONDS"] < 0:
        raise UnsafeConfigurationError("ESCALATION_INTERVAL_SECONDS must be 0 (off) or more")
    if not 0 <= settings["AREA_ALERTS_DAILY_LIMIT"] <= 100:
        raise UnsafeConfigurationError("AREA_ALERTS_DAILY_LIMIT must be from 0 to 100")
    if settings["AREA_ALERTS_INTERVAL_SECONDS"] < 0:
        raise UnsafeConfigurationError("AREA_ALERTS_INTERVAL_SECONDS must be 0 (off) or more")
    if settings["FIX_CHECK_WORKING_DAYS"] < 1:
        raise UnsafeConfigurationError("FIX_CHECK_WORKING_DAYS must be 1 or more")
    if settings["FIX_CHECK_INTERVAL_SECONDS"] < 0:
        raise UnsafeConfigurationError("FIX_CHECK_INTERVAL_SECONDS must be 0 (off) or more")
    if env == "production" and settings["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]:
        raise UnsafeConfigurationError(
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES must be off in production (SSRF)"
        )
    if env != "production":
        return
    for name, dev_default in (
        ("SECRET_KEY", DEV_SECRET_KEY),
        ("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY),
        ("PAYMENT_CALLBACK_SECRET", DEV_PAYMENT_CALLBACK_SECRET),
        ("PERMIT_SIGNING_KEY", DEV_PERMIT_SIGNING_KEY),
        ("AUDIT_PSEUDONYM_KEY", DEV_AUDIT_PSEUDONYM_KEY),
    ):
        value = settings.get(name) or ""
        if value == dev_default or len(value) < MIN_SECRET_LENGTH:
            raise UnsafeConfigurationError(
                f"{name} must be set to a random value of at least {MIN_SECRET_LENGTH} "
                "characters in production"
            )
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise UnsafeConfigurationError("production needs DATABASE_URL pointing at PostgreSQL")
    base_url = urlsplit(str(settings.get("PUBLIC_BASE_URL") or ""))
    if base_url.scheme != "https" or not base_url.hostname or base_url.query or base_url.fragment:
        raise UnsafeConfigurationError(
            "production needs PUBLIC_BASE_URL set to the API's public https address "
            "(e.g. https://api.binjaikota.go.id): QR codes and links are built from it"
        )
