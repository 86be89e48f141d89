"""Open311 GeoReport v2, translated to and from the complaints service."""

from __future__ import annotations

from binjai_api.openapi import Blueprint

blp = Blueprint(
    "open311",
    __name__,
    url_prefix="/open311/v2",
    description="Open311 GeoReport v2 for integrators, over the city's complaints.",
)
