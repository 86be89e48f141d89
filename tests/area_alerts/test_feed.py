"""The Atom feed of a kelurahan's public reports: valid Atom 1.0 (RFC 4287) as a feed reader
and xml.etree read it, absolute links from PUBLIC_BASE_URL, only what the public feed shows."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import feedparser
from flask import Flask
from flask.testing import FlaskClient

from tests.area_alerts.conftest import KELURAHAN, OTHER_KELURAHAN
from tests.complaints.conftest import Person
from tests.complaints.helpers import submit
from tests.platform.test_errors import assert_problem

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_url(code: str = KELURAHAN) -> str:
    return f"/api/v1/public/kelurahan/{code}/complaints.atom"


def test_the_feed_is_valid_atom_with_the_kelurahans_public_reports(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    public = submit(client, resident.headers, categories["waste"], title="Sampah menumpuk")
    anonymous = submit(client, resident.headers, categories["drainage"], privacy="anonymous")
    submit(client, resident.headers, categories["waste"], privacy="confidential", title="Rahasia")
    submit(
        client, resident.headers, categories["waste"], kelurahan_code=OTHER_KELURAHAN, title="Lain"
    )
    response = client.get(feed_url())
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Cache-Control"].startswith("public")

    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for required in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"{ATOM}{required}") is not None, required

    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert parsed.feed.id == base + feed_url()
    assert any(link.rel == "self" and link.href == base + feed_url() for link in parsed.feed.links)
    assert parsed.feed.title.startswith("Laporan warga di ")
    ids = {entry.id for entry in parsed.entries}
    assert ids == {f"urn:uuid:{public['id']}", f"urn:uuid:{anonymous['id']}"}
    titles = " ".join(entry.title for entry in parsed.entries)
    assert "Rahasia" not in titles and "Lain" not in titles
    first = next(e for e in parsed.entries if e.id.endswith(public["id"]))
    assert first.title == f"{public['tracking_number']}: Sampah menumpuk"
    assert [(link.rel, link.href) for link in first.links] == [
        ("alternate", f"{base}/api/v1/public/complaints/{public['id']}")
    ]
    assert first.tags[0].term == "waste"
    # Nothing of the reporter.
    assert b"Siti" not in response.data and b"reporter" not in response.data


def test_the_feed_speaks_english_caches_and_refuses_an_unknown_kelurahan(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    submit(client, resident.headers, categories["waste"])
    english = feedparser.parse(client.get(feed_url(), headers={"Accept-Language": "en"}).data)
    assert english.feed.title.startswith("Residents' reports in ")
    first = client.get(feed_url())
    again = client.get(feed_url(), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert_problem(client.get(feed_url("12.75.09.1999")), 404, "not_found")


def test_an_empty_kelurahan_has_a_valid_empty_feed(client: FlaskClient) -> None:
    parsed = feedparser.parse(client.get(feed_url(OTHER_KELURAHAN)).data)
    assert not parsed.bozo and parsed.entries == [] and parsed.feed.updated
