"""Distances for "near me" searches."""

from __future__ import annotations

import math

from binjai_api import geo


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude is about 111.2 km.
    assert abs(geo.haversine_m(3.0, 98.49, 4.0, 98.49) - 111_195) < 50


def test_the_box_holds_every_point_within_the_radius() -> None:
    lat, lon, radius = 3.6, 98.49, 1000.0
    box = geo.box_around(lat, lon, radius)
    for bearing in range(0, 360, 15):
        # A point just inside the radius in every direction lies inside the box.
        north = radius * 0.999 * math.cos(math.radians(bearing))
        east = radius * 0.999 * math.sin(math.radians(bearing))
        point_lat = lat + north / geo.METERS_PER_DEGREE_LAT
        point_lon = lon + east / geo.meters_per_degree_lon(lat)
        assert geo.haversine_m(lat, lon, point_lat, point_lon) < radius * 1.01
        assert box.min_lat <= point_lat <= box.max_lat
        assert box.min_lon <= point_lon <= box.max_lon
    # And the box is no wider than the circle.
    assert abs(geo.haversine_m(lat, lon, box.max_lat, lon) - radius) < radius * 0.01
    assert abs(geo.haversine_m(lat, lon, lat, box.max_lon) - radius) < radius * 0.01
