"""Language negotiation: Bahasa Indonesia by default, English on request, via gettext catalogs."""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask_babel import gettext, lazy_gettext, ngettext

SUPPORTED_LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

__all__ = ["SUPPORTED_LANGUAGES", "gettext", "lazy_gettext", "negotiated_language", "ngettext"]


def negotiated_language() -> str:
    """The language of this response: the best match of Accept-Language, else Indonesian."""
    cached = g.get("language")
    if cached:
        return str(cached)
    language = DEFAULT_LANGUAGE
    if request:
        best = request.accept_languages.best_match(SUPPORTED_LANGUAGES)
        if best:
            language = best
    g.language = language
    return language


def _add_content_language(response: Response) -> Response:
    response.headers.setdefault("Content-Language", negotiated_language())
    vary = response.headers.get("Vary", "")
    if "Accept-Language" not in vary:
        response.headers["Vary"] = ", ".join(v for v in (vary, "Accept-Language") if v)
    return response


def init_app(app: Flask) -> None:
    from binjai_api.extensions import babel

    babel.init_app(app, locale_selector=negotiated_language, timezone_selector=lambda: "UTC")
    app.after_request(_add_content_language)
