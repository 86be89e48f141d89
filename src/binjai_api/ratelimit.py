"""Rate-limit keys. Limits live in Redis when REDIS_URL is set, so they hold across instances."""

from __future__ import annotations

from flask import request


def client_address() -> str:
    """The caller's address (X-Forwarded-For is trusted only through ProxyFix's configured hops)."""
    return request.remote_addr or "unknown"


def login_account() -> str:
    """The account being tried, so that spreading a guess attack over addresses does not help."""
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    if not isinstance(username, str) or not username.strip():
        return f"addr:{client_address()}"
    return "account:" + username.strip().lower()[:200]


def client_id_key() -> str:
    """The API client asking for a token (OAuth 2 client credentials)."""
    client_id = request.form.get("client_id")
    if not client_id and request.authorization:
        client_id = request.authorization.username
    return f"client:{(client_id or client_address())[:200]}"
