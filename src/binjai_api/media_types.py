"""415 for a body of the wrong media type, before any parsing (CONVENTIONS: status codes).

Each view's body media type is read from its flask-smorest argument docs, so the rule and the
spec cannot disagree.
"""

from __future__ import annotations

from functools import cache

from flask import Flask, current_app, request

from binjai_api.errors import Problem
from binjai_api.i18n import lazy_gettext

_LOCATION_MEDIA_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "files": "multipart/form-data",
}


@cache
def _expected_media_type(endpoint: str, method: str) -> str | None:
    view = current_app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, method.lower(), None) if view_class else view
    apidoc = getattr(handler, "_apidoc", {}) or {}
    for parameter in apidoc.get("arguments", {}).get("parameters", []):
        location = parameter.get("in") if isinstance(parameter, dict) else None
        if location in _LOCATION_MEDIA_TYPES:
            return str(parameter.get("content_type") or _LOCATION_MEDIA_TYPES[location])
    return None


def _matches(expected: str, actual: str) -> bool:
    if expected == "application/json":
        return actual == "application/json" or (
            actual.startswith("application/") and actual.endswith("+json")
        )
    if expected == "multipart/form-data":
        return actual in ("multipart/form-data", "application/x-www-form-urlencoded")
    return actual == expected


def check_request_media_type() -> None:
    if request.method not in ("POST", "PUT", "PATCH") or request.endpoint is None:
        return
    has_body = (
        bool(request.content_length)
        or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )
    if not has_body:
        return
    expected = _expected_media_type(request.endpoint, request.method)
    if expected and not _matches(expected, request.mimetype):
        raise Problem(
            415,
            "unsupported_media_type",
            lazy_gettext("Send this request as %(media_type)s.", media_type=expected),
        )


def init_app(app: Flask) -> None:
    app.before_request(check_request_media_type)
