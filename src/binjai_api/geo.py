"""Distances on the ground, for "near me" searches (complaints nearby, facilities near a point).

Both databases must answer, so there is no PostGIS: a search narrows with a latitude/longitude box
(which the lat/lon indexes serve), then measures. At Binjai's latitude (3.6° N) and over a few
kilometres, the flat-earth figures below are within a metre or two of the great circle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0
METERS_PER_DEGREE_LAT = 110_574.0
METERS_PER_DEGREE_LON_AT_EQUATOR = 111_320.0


def meters_per_degree_lon(lat: float) -> float:
    """Length of one degree of longitude at a latitude (never zero, even at a pole)."""
    return METERS_PER_DEGREE_LON_AT_EQUATOR * max(math.cos(math.radians(lat)), 1e-6)


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def box_around(lat: float, lon: float, radius_m: float) -> Box:
    """The latitude/longitude box that holds every point within `radius_m` of a point."""
    dlat = radius_m / METERS_PER_DEGREE_LAT
    dlon = radius_m / meters_per_degree_lon(lat)
    return Box(lat - dlat, lat + dlat, lon - dlon, lon + dlon)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
