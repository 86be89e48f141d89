"""The API docs load only assets this server serves, so they render without internet access."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

DOCS_PAGES = ("/api/docs", "/api/redoc")
URL_RE = re.compile(r"""https?://[^\s"'<>()\\]+""")
# Namespace names (SVG, XHTML...) look like URLs but are never fetched.
NAMESPACE_PREFIXES = ("http://www.w3.org/",)


class LinkCollector(HTMLParser):
    """Collects every src and href attribute of a page."""

    def __init__(self) -> None:
        """Start with no links."""
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep the tag's src and href values."""
        self.links += [value for name, value in attrs if name in {"src", "href"} and value]


def page_links(html: str) -> list[str]:
    """The src and href values of an HTML page."""
    collector = LinkCollector()
    collector.feed(html)
    collector.close()
    return collector.links


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_page_is_html_in_indonesian(client: FlaskClient, path: str) -> None:
    """The docs page answers 200 HTML with its language and charset declared."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert '<meta charset="utf-8">' in html
    assert "<title>Binjai API</title>" in html


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_page_assets_are_served_locally(client: FlaskClient, path: str) -> None:
    """Every src and href is a local path that this server answers with 200."""
    links = page_links(client.get(path).get_data(as_text=True))
    assert any(link.endswith(".js") for link in links), links
    for link in links:
        assert link.startswith("/") and not link.startswith("//"), link
        response = client.get(link)
        try:
            assert response.status_code == 200, link
            assert response.content_length, link
        finally:
            response.close()


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_page_references_no_external_url(client: FlaskClient, path: str) -> None:
    """The served HTML names no http(s) URL outside this server."""
    html = client.get(path).get_data(as_text=True)
    external = [url for url in URL_RE.findall(html) if not url.startswith(NAMESPACE_PREFIXES)]
    assert external == []


def test_openapi_document_is_json(client: FlaskClient) -> None:
    """The OpenAPI document the docs load answers 200 JSON."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["info"]["title"] == "Binjai API"
    assert "/api/v1/auth/login" in document["paths"]
