"""NUL characters are refused at the door, as a 422 naming the field.

PostgreSQL text cannot hold U+0000: a NUL that reached a query would fail there as a 500 (SQLite
stores it, so the two databases would disagree). Every string a client sends is checked once,
before any view runs: path segments, query and form fields, uploaded file names and JSON bodies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, request

from binjai_api.errors import field_errors
from binjai_api.i18n import gettext

NUL = "\x00"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _fields_with_nul() -> Iterator[tuple[str, str]]:
    """(location, field) of every client string holding a NUL."""
    for name, value in (request.view_args or {}).items():
        if _has_nul(value):
            yield "path", name
    for name, value in request.args.items(multi=True):
        if _has_nul(name) or _has_nul(value):
            yield "query", name.replace(NUL, "")
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name, value in request.form.items(multi=True):
            if _has_nul(name) or _has_nul(value):
                yield "form", name.replace(NUL, "")
        for name, file in request.files.items(multi=True):
            if _has_nul(name) or _has_nul(file.filename or ""):
                yield "files", name.replace(NUL, "")
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, Mapping):
            for name, value in body.items():
                if _has_nul(name) or _has_nul(value):
                    yield "json", str(name).replace(NUL, "")
        elif _has_nul(body):
            yield "json", "_schema"


def refuse_nul_characters() -> None:
    if request.endpoint is None:
        return
    found = list(_fields_with_nul())
    if not found:
        return
    message = gettext("Text cannot contain NUL characters.")
    location = found[0][0]
    raise field_errors(
        {field: [message] for where, field in found if where == location}, location=location
    )


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
