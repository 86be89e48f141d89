"""Texts come from gettext catalogs: complete in Indonesian and compiled from their sources."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response
from flask.testing import FlaskClient

from binjai_api.i18n import _add_content_language

SOURCE_DIR = Path(__file__).resolve().parents[2] / "src" / "binjai_api"
CATALOG_DIR = SOURCE_DIR / "translations"


def _read_catalog(language: str):  # type: ignore[no-untyped-def]
    with (CATALOG_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _messages_in_code() -> set[str]:
    keywords = {"gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE_DIR), method_map=[("**.py", "python")], keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_text_in_the_code_has_an_indonesian_translation() -> None:
    catalog = _read_catalog("id")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_messages_in_code() - translated)
    assert missing == [], f"run 'make translations' and translate: {missing}"


def test_compiled_catalogs_match_their_sources() -> None:
    for language in ("id", "en"):
        compiled = io.BytesIO()
        write_mo(compiled, _read_catalog(language))
        committed = (CATALOG_DIR / language / "LC_MESSAGES" / "messages.mo").read_bytes()
        assert compiled.getvalue() == committed, f"run 'make translations' ({language})"


def test_indonesian_is_the_default_and_english_is_served(client: FlaskClient) -> None:
    assert client.get("/healthz").headers["Content-Language"] == "id"
    english = client.get("/healthz", headers={"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"
    assert "Accept-Language" in english.headers["Vary"]
    unsupported = client.get("/healthz", headers={"Accept-Language": "fr, de;q=0.5"})
    assert unsupported.headers["Content-Language"] == "id"


@pytest.mark.parametrize(
    ("given", "language", "vary"),
    [
        ([], "en", "Accept-Language"),
        ([("Vary", "Accept")], "en", "Accept, Accept-Language"),
        ([("vary", "Accept-Language")], "en", "Accept-Language"),  # not named twice
        ([("Vary", ""), ("X-Other", "1")], "en", "Accept-Language"),
        ([("Vary", "Accept"), ("Vary", "Origin")], "en", "Accept, Accept-Language"),  # the first
        ([("content-language", "id")], "id", "Accept-Language"),  # a view's own is kept
    ],
)
def test_responses_say_their_language_and_vary_by_it(
    app: Flask, given: list[tuple[str, str]], language: str, vary: str
) -> None:
    """Content-Language is added unless the view set its own, and Accept-Language joins the Vary
    the view sent, whatever the case of the header names."""
    with app.test_request_context("/healthz", headers={"Accept-Language": "en"}):
        response = _add_content_language(Response("{}", headers=given))
    assert response.headers["Content-Language"] == language
    assert response.headers["Vary"] == vary
    assert len(response.headers.getlist("Content-Language")) == 1
