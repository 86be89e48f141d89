"""Language negotiation: Bahasa Indonesia by default, English on request, via gettext catalogs."""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, Response, g, request
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

SUPPORTED_LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

__all__ = ["SUPPORTED_LANGUAGES", "gettext", "lazy_gettext", "negotiated_language", "ngettext"]


def negotiated_language() -> str:
    """The language of this response: the best match of Accept-Language, else Indonesian."""
    cached = g.get("language")
    if cached:
        return str(cached)
    # From the WSGI environ: `request.headers.get` raises and catches a KeyError when the header
    # is absent.
    language = _best_language(request.environ.get("HTTP_ACCEPT_LANGUAGE")) if request else None
    g.language = language = language or DEFAULT_LANGUAGE
    return language


@lru_cache(maxsize=256)
def _best_language(accept_language: str | None) -> str | None:
    """The supported language an Accept-Language header prefers: parsed once per distinct
    header (an app sends the same one on every request)."""
    if not accept_language:
        return None
    parsed = parse_accept_header(accept_language, LanguageAccept)
    return parsed.best_match(SUPPORTED_LANGUAGES)


def _add_content_language(response: Response) -> Response:
    headers = response.headers
    # One pass over the response's few headers: werkzeug's `in` and `get` raise and catch a
    # KeyError for each header that is absent, as both usually are.
    language = vary = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-language":
            language = value
        elif lowered == "vary" and vary is None:
            vary = value
    if language is None:
        headers["Content-Language"] = negotiated_language()
    if not vary:
        headers["Vary"] = "Accept-Language"
    elif "Accept-Language" not in vary:
        headers["Vary"] = f"{vary}, Accept-Language"
    return response


def init_app(app: Flask) -> None:
    from binjai_api.extensions import babel

    babel.init_app(app, locale_selector=negotiated_language, timezone_selector=lambda: "UTC")
    app.after_request(_add_content_language)
