"""Rate-limit keys. Limits live in Redis when REDIS_URL is set, so they hold across instances."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException


def default_rate_limit() -> str:
    """The limit on every endpoint without its own, read per request from the settings."""
    return str(current_app.config["DEFAULT_RATE_LIMIT"])


def client_address() -> str:
    """The caller's address (X-Forwarded-For is trusted only through ProxyFix's configured hops)."""
    return request.remote_addr or "unknown"


def _json_field(name: str) -> str | None:
    """A string field of the JSON body, or None. Never raises: Flask-Limiter takes an exception
    in a key function for a storage failure and silently falls back to per-instance memory."""
    try:
        body = request.get_json(silent=True)
    except HTTPException:  # e.g. 413: the view answers it; the limit uses the address
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def login_account() -> str:
    """The account being tried, so that spreading a guess attack over addresses does not help."""
    username = _json_field("username")
    if not username or not username.strip():
        return f"addr:{client_address()}"
    return "account:" + username.strip().lower()[:200]


def registration_identity() -> str:
    """The NIK being registered: one person cannot be registered over and over from many
    addresses."""
    nik = _json_field("nik")
    if not nik or not nik.strip():
        return f"addr:{client_address()}"
    return "nik:" + nik.strip()[:32]


def client_id_key() -> str:
    """The API client asking for a token (OAuth 2 client credentials)."""
    try:
        client_id = request.form.get("client_id")
    except HTTPException:
        client_id = None
    if not client_id and request.authorization:
        client_id = request.authorization.username
    return f"client:{(client_id or client_address())[:200]}"


def _keep_retry_after_meaningful(response: Response) -> Response:
    """Flask-Limiter writes its window's Retry-After on every response. It is right on its own
    429; elsewhere it would tell a client to wait for no reason, or overwrite the value an
    error chose (503, an idempotent request still in flight)."""
    if response.status_code == 429:
        return response
    chosen = g.get("retry_after")
    if chosen:
        response.headers["Retry-After"] = chosen
    else:
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    """Call before `limiter.init_app`: after-request hooks run in reverse order, so this one
    sees the limiter's headers."""
    app.after_request(_keep_retry_after_meaningful)
