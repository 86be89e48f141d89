"""Text no database can store is refused at the door, as a 422 naming the field; JSON nested
deeper than any of our bodies is refused as a 400.

PostgreSQL text cannot hold U+0000, and no UTF-8 text can hold a lone surrogate (`"\\udcff"`
in JSON decodes to one): either would fail in the database driver as a 500 (SQLite stores a NUL,
so the two databases would disagree). Every string a client sends is checked once, before any
view runs: path segments, query and form fields, uploaded file names and JSON bodies. A JSON
body nested a thousand levels deep made the parser itself raise RecursionError (a 500).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, request

from binjai_api.errors import Problem, field_errors
from binjai_api.i18n import gettext

NUL = "\x00"
# Lone surrogates: a valid pair is decoded to one character, so any left over cannot be encoded.
SURROGATE = re.compile("[\ud800-\udfff]")
# Far deeper than any body of this API (a few levels); a parser's recursion stays well within.
MAX_JSON_DEPTH = 32


def _bad_text(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if NUL in text:
        return gettext("Text cannot contain NUL characters.")
    if SURROGATE.search(text):
        return gettext("Text cannot contain unpaired surrogate characters.")
    return None


def _first_bad_text(value: Any) -> str | None:
    """Why some string in this value (keys included) cannot be stored, or None."""
    if isinstance(value, str):
        return _bad_text(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _first_bad_text(key) or _first_bad_text(item)
            if found:
                return found
    if isinstance(value, list | tuple):
        for item in value:
            found = _first_bad_text(item)
            if found:
                return found
    return None


def _clean_name(name: str) -> str:
    return SURROGATE.sub("\ufffd", name.replace(NUL, ""))


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (without recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _json_body() -> Any:
    """The parsed JSON body (None when it is not JSON); 400 when nested too deeply."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
        too_deep = True
    else:
        too_deep = _depth(body) > MAX_JSON_DEPTH
    if too_deep:
        raise Problem(
            400,
            "json_too_deep",
            gettext(
                "The JSON body is nested more than %(limit)s levels deep.", limit=MAX_JSON_DEPTH
            ),
        )
    return body


def _unstorable_fields() -> Iterator[tuple[str, str, str]]:
    """(location, field, why) of every client string that cannot be stored."""
    for name, value in (request.view_args or {}).items():
        if why := _first_bad_text(value):
            yield "path", name, why
    if request.query_string:
        for name, value in request.args.items(multi=True):
            if why := _first_bad_text(name) or _first_bad_text(value):
                yield "query", _clean_name(name), why
    # From the environ: `request.headers.get` raises and catches a KeyError for an absent one.
    chunked = "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not (request.content_length or chunked):
        return  # no body (most GETs): no form, file or JSON to parse
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name, value in request.form.items(multi=True):
            if why := _first_bad_text(name) or _first_bad_text(value):
                yield "form", _clean_name(name), why
        for name, file in request.files.items(multi=True):
            if why := _first_bad_text(name) or _first_bad_text(file.filename or ""):
                yield "files", _clean_name(name), why
    if request.is_json:
        body = _json_body()
        if isinstance(body, Mapping):
            for name, value in body.items():
                if why := _first_bad_text(name) or _first_bad_text(value):
                    yield "json", _clean_name(str(name)), why
        elif why := _first_bad_text(body):
            yield "json", "_schema", why


def refuse_unstorable_text() -> None:
    """422 naming each field whose text no database can store; 400 for JSON nested too deeply."""
    if request.endpoint is None:
        return
    found = list(_unstorable_fields())
    if not found:
        return
    location = found[0][0]
    raise field_errors(
        {field: [why] for where, field, why in found if where == location}, location=location
    )


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
