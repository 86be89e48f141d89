"""Open311's two formats: JSON, and XML with the element names of the GeoReport v2 specification.

Every answer is a list (or, for discovery, an object) of flat records; lists inside a record
(a service's attributes, an attribute's values, discovery's endpoints and formats) become wrapper
elements whose children carry the singular name, as in the specification's examples.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from flask import Response

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MEDIA_TYPES = {JSON: "application/json", XML: "text/xml"}

# Children of a wrapper element, by the wrapper's name (GeoReport v2 examples).
_CHILD_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return timestamp(value) or ""
    return str(value)


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 with the zone, as the specification requires (UTC, `Z`)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _append(parent: ElementTree.Element, name: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ElementTree.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        child_name = _CHILD_NAMES.get(name, "item")
        for child in value:
            _append(element, child_name, child)
    else:
        element.text = _text(value)


def to_xml(root: str, payload: Any) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, root, payload)
    # The declaration exactly as the specification shows it, double quotes and UTF-8.
    return XML_DECLARATION + ElementTree.tostring(element, encoding="unicode").encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, Mapping):
        return {key: _jsonable(child) for key, child in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_jsonable(child) for child in value]
    return value


def respond(payload: Any, *, root: str, response_format: str, status: int = 200) -> Response:
    """The payload in the format the client asked for (`.json` or `.xml` on the path)."""
    if response_format == XML:
        return Response(
            to_xml(root, payload), status=status, content_type="text/xml; charset=utf-8"
        )
    return Response(
        json.dumps(_jsonable(payload), ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def error_response(status: int, description: str, response_format: str) -> Response:
    """Open311's own error shape: a list of `{code, description}`."""
    return respond(
        [{"code": status, "description": description}],
        root="errors",
        response_format=response_format,
        status=status,
    )
