"""The public feed and the GeoJSON map: non-confidential reports only, no identities, filters,
and a constant number of queries whatever the page size."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import service
from binjai_api.complaints.models import Complaint
from binjai_api.complaints.schemas import PublicComplaintSchema
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, jpeg_with_gps, submit, update_complaint, upload
from tests.platform.test_errors import assert_problem
from tests.queries import counting_queries

IDENTITY_FIELDS = {"reporter", "reporter_id", "contact", "privacy", "assignee_id", "history"}


def test_confidential_reports_stay_out_of_the_feed_and_the_map(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    public = submit(client, resident.headers, categories["waste"])["id"]
    anonymous = submit(client, resident.headers, categories["waste"], privacy="anonymous")["id"]
    secret = submit(client, resident.headers, categories["waste"], privacy="confidential")["id"]
    feed = client.get("/api/v1/public/complaints").get_json()
    assert {c["id"] for c in feed} == {public, anonymous}
    for item in feed:
        assert not IDENTITY_FIELDS & set(item)
    geo = client.get("/api/v1/public/complaints.geojson")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    collection = geo.get_json()
    assert collection["type"] == "FeatureCollection"
    assert {f["id"] for f in collection["features"]} == {public, anonymous}
    feature = collection["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [98.4853, 3.6001]}
    assert set(feature["properties"]) == {
        "id",
        "tracking_number",
        "type",
        "category_code",
        "title",
        "status",
        "is_open",
        "is_overdue",
        "agency_code",
        "kecamatan_code",
        "supporter_count",
        "created_at",
        "updated_at",
    }
    assert feature["properties"]["id"] == feature["id"]
    assert feature["properties"]["category_code"] == "waste"
    assert feature["properties"]["agency_code"] == "DLH"
    # The same X-Pagination metadata as every other list (flask-smorest's).
    assert json.loads(geo.headers["X-Pagination"]) == {
        "total": 2,
        "total_pages": 1,
        "first_page": 1,
        "last_page": 1,
        "page": 1,
    }
    empty = client.get("/api/v1/public/complaints.geojson?status=closed")
    assert empty.get_json()["features"] == []
    assert json.loads(empty.headers["X-Pagination"]) == {"total": 0, "total_pages": 0}
    assert_problem(client.get(f"/api/v1/public/complaints/{secret}"), 404, "not_found")
    detail = client.get(f"/api/v1/public/complaints/{public}").get_json()
    assert [h["action"] for h in detail["history"]] == ["submit"]
    assert "actor_id" not in detail["history"][0] and "note" not in detail["history"][0]


def test_feed_filters(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    road = submit(client, resident.headers, categories["road_damage"])["id"]
    waste = submit(
        client,
        resident.headers,
        categories["waste"],
        lat=3.64,
        lon=98.52,
        kelurahan_code="12.75.05.1001",
    )["id"]
    act(client, operator.headers, waste, "dispatch")

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/v1/public/complaints?{query}")
        assert response.status_code == 200, response.get_json()
        return {c["id"] for c in response.get_json()}

    assert ids(f"category_id={categories['road_damage']}") == {road}
    assert ids(f"category_id={categories['road_damage']},{categories['waste']}") == {road, waste}
    assert ids("status=dispatched") == {waste}
    assert ids("status=submitted,dispatched") == {road, waste}
    assert ids("kecamatan_code=12.75.05") == {waste}
    assert ids("bbox=98.50,3.63,98.53,3.65") == {waste}
    assert ids("bbox=98.48,3.59,98.49,3.61") == {road}
    number = client.get(f"/api/v1/public/complaints/{road}").get_json()["tracking_number"]
    assert ids(f"tracking_number={number.lower()}") == {road}
    update_complaint(app, road, updated_at=utcnow() - timedelta(days=2))
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"updated_after={since}") == {waste}
    newest_first = [c["id"] for c in client.get("/api/v1/public/complaints").get_json()]
    assert newest_first == [waste, road]
    geo = client.get("/api/v1/public/complaints.geojson?status=dispatched").get_json()
    assert [f["id"] for f in geo["features"]] == [waste]
    assert_problem(client.get("/api/v1/public/complaints?bbox=1,2,3"), 422, "validation_error")
    assert_problem(client.get("/api/v1/public/complaints?status=lost"), 422, "validation_error")


def test_every_list_costs_the_same_queries_for_any_page_size(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    for n in range(6):
        cid = submit(client, resident.headers, categories["waste"], title=f"Sampah {n}")["id"]
        upload(client, resident.headers, cid, jpeg_with_gps())
    lists = {
        "/api/v1/public/complaints": {},
        "/api/v1/public/complaints.geojson": {},
        "/api/v1/complaints/mine": resident.headers,
        "/api/v1/complaints": operator.headers,
    }
    for path, headers in lists.items():
        counts = []
        for size in (1, 6):
            with counting_queries(app) as statements:
                response = client.get(f"{path}?page_size={size}", headers=headers)
                assert response.status_code == 200
            counts.append(len(statements))
        assert 2 <= counts[0] == counts[1], (path, counts)
    feed = client.get("/api/v1/public/complaints?page_size=6").get_json()
    assert all(len(item["photos"]) == 1 for item in feed)


def test_a_public_total_is_shared_for_a_while_but_the_items_are_always_fresh(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_COUNT_CACHE_SECONDS", 60)
    waste = categories["waste"]
    submit(client, resident.headers, waste)
    path = f"/api/v1/public/complaints?category_id={waste}"
    first = client.get(path)
    assert json.loads(first.headers["X-Pagination"])["total"] == 1
    newest = submit(client, resident.headers, waste)["id"]
    again = client.get(path)
    assert newest in {c["id"] for c in again.get_json()}  # the items: fresh
    assert json.loads(again.headers["X-Pagination"])["total"] == 1  # the total: shared
    map_path = f"/api/v1/public/complaints.geojson?category_id={waste}"
    assert json.loads(client.get(map_path).headers["X-Pagination"])["total"] == 2
    # Another query has its own total; with the setting at 0 every request counts.
    assert json.loads(client.get(f"{path}&status=submitted").headers["X-Pagination"])["total"] == 2
    monkeypatch.setitem(app.config, "PUBLIC_COUNT_CACHE_SECONDS", 0)
    assert json.loads(client.get(path).headers["X-Pagination"])["total"] == 2


def test_the_feed_writes_each_report_as_marshmallow_dumps_its_public_view(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    """The feed reads plain rows and writes its items in one pass: field for field, in the same
    order, what PublicComplaintSchema dumps of `public_view` (photos, deadlines, a resolution,
    a duplicate, missing coordinates and timestamps with microseconds included)."""
    first = submit(client, resident.headers, categories["waste"])["id"]
    for _ in range(2):
        assert upload(client, resident.headers, first, jpeg_with_gps()).status_code == 201
    second = submit(client, resident.headers, categories["road_damage"])["id"]
    now = utcnow()
    update_complaint(app, first, due_at=now - timedelta(hours=1), supporter_count=3)
    update_complaint(
        app,
        second,
        status="resolved",
        resolution_note="Sudah ditambal",
        resolved_at=now.replace(microsecond=123),
        duplicate_of_id=uuid.UUID(first),
        lat=None,
        lon=None,
    )
    for language in ("id", "en"):
        response = client.get("/api/v1/public/complaints", headers={"Accept-Language": language})
        items = json.loads(response.get_data(as_text=True))
        assert {item["id"] for item in items} == {first, second}
        with app.test_request_context(headers={"Accept-Language": language}):
            for item in items:
                complaint = db.session.get(Complaint, uuid.UUID(item["id"]))
                expected = ma.Schema.dump(PublicComplaintSchema(), service.public_view(complaint))
                assert list(item) == list(expected)
                assert item == json.loads(json.dumps(expected))
        assert len(next(i for i in items if i["id"] == first)["photos"]) == 2
