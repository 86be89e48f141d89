"""The complaints wall map: per kelurahan and per grid cell, RFC 7946 geometry, filters, CSV."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from binjai_api.geo import METERS_PER_DEGREE_LAT, meters_per_degree_lon
from tests.ops.conftest import HEATMAP, PERIOD, City

pytestmark = pytest.mark.usefixtures("frozen_now")

# Located complaints opened in the period (conftest): C1, C2 (K1), C4 (no area), C6, C7 (K2).
LOCATED = [(3.60, 98.48), (3.61, 98.49), (3.62, 98.50), (3.58, 98.47), (3.59, 98.46)]


def _map(client: FlaskClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(HEATMAP, query_string={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def test_one_feature_per_kelurahan_at_the_mean_of_its_located_reports(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    collection = _map(client, staff("operator"))
    assert collection["type"] == "FeatureCollection"
    features = {f["properties"]["kelurahan_code"]: f for f in collection["features"]}
    assert set(features) == {city.kelurahan["K1"], city.kelurahan["K2"], None}
    k1 = features[city.kelurahan["K1"]]
    assert k1["geometry"]["type"] == "Point"
    assert k1["geometry"]["coordinates"] == pytest.approx([98.485, 3.605])  # [lon, lat]
    assert (k1["properties"]["count"], k1["properties"]["open"]) == (2, 1)
    assert k1["properties"]["kecamatan_code"] == city.kecamatan["K1"]
    assert k1["properties"]["kelurahan_name"]
    k2 = features[city.kelurahan["K2"]]
    # C3 is confidential and has no coordinates: counted, but not in the mean position.
    props = k2["properties"]
    assert (props["count"], props["open"], props["overdue"]) == (3, 3, 2)
    assert k2["geometry"]["coordinates"] == pytest.approx([98.465, 3.585])
    unknown = features[None]
    assert unknown["geometry"]["coordinates"] == pytest.approx([98.50, 3.62])
    assert unknown["properties"]["count"] == 1
    assert not any(key in str(collection) for key in ("contact", "reporter", "Laporan"))


def test_a_kelurahan_without_located_reports_has_no_geometry(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    collection = _map(client, staff("operator"), status="submitted", to="2026-12-30")
    [feature] = collection["features"]  # C3 only: C7 came on the 31st
    assert feature["properties"]["kelurahan_code"] == city.kelurahan["K2"]
    assert feature["geometry"] is None


def test_grid_cells_are_squares_counting_the_located_reports(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    collection = _map(client, staff("operator"), by="grid", cell_m=1000)
    step_lat = 1000 / METERS_PER_DEGREE_LAT
    step_lon = 1000 / meters_per_degree_lon(3.6)
    expected: dict[tuple[int, int], int] = {}
    for lat, lon in LOCATED:
        key = (math.floor(lat / step_lat), math.floor(lon / step_lon))
        expected[key] = expected.get(key, 0) + 1
    found = {}
    for feature in collection["features"]:
        assert feature["geometry"]["type"] == "Polygon"
        [ring] = feature["geometry"]["coordinates"]
        assert ring[0] == ring[-1] and len(ring) == 5
        (west, south), (east, _), (_, north) = ring[0], ring[1], ring[2]
        assert east - west == pytest.approx(step_lon, abs=1e-5)
        assert north - south == pytest.approx(step_lat, abs=1e-5)
        row, column = (int(part) for part in feature["properties"]["cell"].split(":"))
        found[(row, column)] = feature["properties"]["count"]
        # A report's [lon, lat] lies inside its cell.
        for lat, lon in LOCATED:
            if (math.floor(lat / step_lat), math.floor(lon / step_lon)) == (row, column):
                assert west - 1e-6 <= lon <= east + 1e-6 and south - 1e-6 <= lat <= north + 1e-6
    assert found == expected
    assert sum(found.values()) == 5


def test_filters_and_the_period_narrow_the_map(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = staff("operator")
    rejected = _map(client, headers, status="rejected")
    assert [f["properties"]["count"] for f in rejected["features"]] == [1]
    none = _map(client, headers, type="aspiration")
    assert none["features"] == []
    response = client.get(HEATMAP, query_string={"by": "grid", "cell_m": 50}, headers=headers)
    assert response.status_code == 422


def test_the_map_downloads_as_csv_with_centroids(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = {**staff("operator"), "Accept": "text/csv"}
    response = client.get(HEATMAP, query_string=PERIOD, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_code = {row["kelurahan_code"]: row for row in rows}
    k1 = by_code[city.kelurahan["K1"]]
    assert (float(k1["lat"]), float(k1["lon"])) == pytest.approx((3.605, 98.485))
    assert k1["count"] == "2"
    grid = client.get(HEATMAP, query_string={**PERIOD, "by": "grid"}, headers=headers)
    cells = list(csv.DictReader(io.StringIO(grid.get_data(as_text=True).lstrip("\ufeff"))))
    assert sum(int(cell["count"]) for cell in cells) == 5
    assert all(cell["lat"] and cell["lon"] for cell in cells)
