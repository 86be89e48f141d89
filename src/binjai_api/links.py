"""Absolute links the API writes (QR codes, verification links, pushes, Open311, Link headers).

They start with the PUBLIC_BASE_URL setting, never with the request's host: behind a reverse
proxy, in a push sent by the outbox worker or in a printed QR code, the request's host is wrong
or absent (CONVENTIONS: public base URL).
"""

from __future__ import annotations

from flask import current_app


def public_url(path: str = "") -> str:
    """The absolute public address of `path` (a path starting with `/`, or nothing)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if path and not path.startswith("/"):
        path = "/" + path
    return base + path
