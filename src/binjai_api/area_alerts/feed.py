"""The Atom feed (RFC 4287) of a kelurahan's public reports, for people without the app: a feed
reader or a neighbourhood's WhatsApp bot polls it. It shows what the public feed shows, with
absolute links from PUBLIC_BASE_URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from binjai_api.errors import not_found
from binjai_api.i18n import gettext, negotiated_language
from binjai_api.links import public_url
from binjai_api.regions import service as regions_service

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
FEED_ENTRIES = 50
SUMMARY_CHARACTERS = 300
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def feed_path(kelurahan_code: str) -> str:
    return f"/api/v1/public/kelurahan/{kelurahan_code}/complaints.atom"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    element.text = text
    return element


def _link(parent: ET.Element, **attributes: str) -> None:
    ET.SubElement(parent, f"{{{ATOM_NS}}}link", attributes)


def kelurahan_feed(kelurahan_code: str) -> bytes:
    """The newest public reports of a kelurahan as an Atom document (404 for an unknown code)."""
    from binjai_api.complaints import service as complaints_service

    kelurahan = regions_service.find_kelurahan(kelurahan_code)
    if kelurahan is None:
        raise not_found(gettext("No such kelurahan in Kota Binjai."))
    complaints = complaints_service.public_complaints(
        limit=FEED_ENTRIES, kelurahan_code=kelurahan_code, sort="-updated_at"
    )
    views: list[dict[str, Any]] = [complaints_service.public_view(c) for c in complaints]
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": negotiated_language()})
    self_url = public_url(feed_path(kelurahan_code))
    _text(feed, "id", self_url)
    _text(feed, "title", gettext("Residents' reports in %(kelurahan)s", kelurahan=kelurahan.name))
    _text(
        feed,
        "subtitle",
        gettext("Public reports filed in this kelurahan through the Binjai app, newest first."),
    )
    latest = max((view["updated_at"] for view in views), default=_EPOCH)
    _text(feed, "updated", _stamp(latest))
    _link(feed, rel="self", type=ATOM_MEDIA_TYPE, href=self_url)
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _text(author, "name", "Pemerintah Kota Binjai")
    _text(feed, "generator", "Binjai API")
    for view in views:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _text(entry, "id", f"urn:uuid:{view['id']}")
        _text(entry, "title", f"{view['tracking_number']}: {view['title']}")
        _text(entry, "published", _stamp(view["created_at"]))
        _text(entry, "updated", _stamp(view["updated_at"]))
        _link(
            entry,
            rel="alternate",
            type="application/json",
            href=public_url(f"/api/v1/public/complaints/{view['id']}"),
        )
        ET.SubElement(
            entry,
            f"{{{ATOM_NS}}}category",
            {"term": view["category_code"], "label": view["category_name"]},
        )
        description = view["description"]
        if len(description) > SUMMARY_CHARACTERS:
            description = description[: SUMMARY_CHARACTERS - 1].rstrip() + "…"
        _text(
            entry,
            "summary",
            f"{view['status_label']} · {view['category_name']}. {description}",
            type="text",
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
