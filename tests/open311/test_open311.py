"""Open311 GeoReport v2 over the complaints service: the specification's endpoints, formats,
errors and mapping, and the same privacy as the public feed."""

from __future__ import annotations

import io
import uuid
from typing import Any
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.enums import ApiScope
from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, jpeg_with_gps, submit
from tests.open311.conftest import issue_api_key

BASE = "/open311/v2"


def open311_request(api_key: str, **fields: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "api_key": api_key,
        "service_code": "road_damage",
        "lat": "3.6001",
        "long": "98.4853",
        "address_string": "Jl. Sudirman depan Lapangan Merdeka",
        "description": "Lubang besar di badan jalan.\nSudah dua minggu.",
        "first_name": "Budi",
        "last_name": "Santoso",
        "email": "budi.santoso@example.id",
        "phone": "081234567890",
        "attribute[kelurahan_code]": "12.75.02.1001",
    }
    form.update(fields)
    return {key: value for key, value in form.items() if value is not None}


def post_request(client: FlaskClient, api_key: str, fmt: str = "json", **fields: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data=open311_request(api_key, **fields))


def xml(response: Any) -> ElementTree.Element:
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<')
    return ElementTree.fromstring(response.data)


def assert_open311_error(response: Any, status: int, fmt: str = "json") -> str:
    """Open311's own error shape, in the requested format; returns the description."""
    assert response.status_code == status, response.data
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        error = root.find("error")
        assert error is not None and error.findtext("code") == str(status)
        return error.findtext("description") or ""
    assert response.content_type == "application/json; charset=utf-8"
    body = response.get_json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    return str(body[0]["description"])


@pytest.fixture(autouse=True)
def public_base_url(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Links are built from PUBLIC_BASE_URL: a value unlike the test client's host."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://open311.binjai.test")


def test_discovery_names_the_specification_and_both_formats(client: FlaskClient) -> None:
    body = client.get(f"{BASE}/discovery.json", headers={"Host": "evil.example"}).get_json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    # From PUBLIC_BASE_URL, whatever host the request named.
    assert endpoint["url"] == "https://open311.binjai.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_are_the_complaint_categories(
    client: FlaskClient, categories: dict[str, str]
) -> None:
    services = client.get(f"{BASE}/services.json").get_json()
    by_code = {service["service_code"]: service for service in services}
    assert set(by_code) == set(categories)
    road = by_code["road_damage"]
    assert road["metadata"] is True and road["type"] == "realtime"
    assert road["group"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert road["service_name"] == "Jalan rusak / berlubang"
    english = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).get_json()
    english_road = {s["service_code"]: s for s in english}["road_damage"]
    assert english_road["service_name"] == "Damaged road / pothole"
    assert english_road["group"] == "Public Works and Spatial Planning Agency"
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    codes = [service.findtext("service_code") for service in root.iterfind("service")]
    assert sorted(codes) == sorted(categories)
    assert root.find("service/metadata").text == "true"  # type: ignore[union-attr]


def test_a_service_definition_lists_its_attributes(
    client: FlaskClient, categories: dict[str, str]
) -> None:
    definition = client.get(f"{BASE}/services/road_damage.json").get_json()
    assert definition["service_code"] == "road_damage"
    attributes = {a["code"]: a for a in definition["attributes"]}
    # The built-in attributes, then the category's own questions (test_category_questions.py).
    assert list(attributes)[:4] == ["type", "privacy", "title", "kelurahan_code"]
    assert list(attributes)[4:] == ["hole_size", "hole_depth_cm"]
    assert [v["key"] for v in attributes["type"]["values"]] == [
        "complaint",
        "aspiration",
        "information_request",
    ]
    assert len(attributes["kelurahan_code"]["values"]) == 37
    assert all(a["variable"] and not a["required"] for a in attributes.values())
    root = xml(client.get(f"{BASE}/services/road_damage.xml"))
    assert root.tag == "service_definition"
    assert len(root.findall("attributes/attribute")) == 6
    assert root.find("attributes/attribute/values/value/key") is not None
    assert "no_such_service" in assert_open311_error(
        client.get(f"{BASE}/services/no_such_service.json"), 404
    )
    assert_open311_error(client.get(f"{BASE}/services/no_such_service.xml"), 404, "xml")


def test_an_integrator_files_a_request_and_reads_it_back(
    app: Flask, client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    created = post_request(client, api_key)
    assert created.status_code == 201, created.data
    [answer] = created.get_json()
    number = answer["service_request_id"]
    assert number.startswith("BJI-") and uuid.UUID(answer["token"])
    assert (
        "3 working days" in answer["service_notice"] or "3 hari kerja" in answer["service_notice"]
    )
    with app.app_context():
        stored = db.session.scalar(sa.select(Complaint).where(Complaint.tracking_number == number))
        assert stored is not None
        assert (stored.source, stored.reporter_id) == ("open311", None)
        assert stored.api_client_id is not None
        assert stored.contact_name == "Budi Santoso"
        assert stored.contact_email == "budi.santoso@example.id"
        assert stored.title == "Lubang besar di badan jalan."
        assert (stored.type, stored.privacy, stored.status) == ("complaint", "public", "submitted")
        due = stored.due_at
    [request] = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert request["service_request_id"] == number
    assert request["status"] == "open"
    assert request["service_code"] == "road_damage"
    assert request["agency_responsible"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert request["expected_datetime"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (request["lat"], request["long"]) == (3.6001, 98.4853)
    assert request["requested_datetime"].endswith("Z")
    # The submitter's identity never comes back out.
    text = client.get(f"{BASE}/requests/{number}.xml").get_data(as_text=True)
    for personal in ("Budi", "Santoso", "budi.santoso@example.id", "081234567890"):
        assert personal not in text and personal not in str(request)
    token = client.get(f"{BASE}/tokens/{answer['token']}.json").get_json()
    assert token == [{"service_request_id": number, "token": answer["token"]}]
    root = xml(client.get(f"{BASE}/tokens/{answer['token']}.xml"))
    assert root.findtext("request/service_request_id") == number


def test_the_post_answers_in_xml_too(
    client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    root = xml(post_request(client, api_key, "xml"))
    assert root.tag == "service_requests"
    assert (root.findtext("request/service_request_id") or "").startswith("BJI-")


def test_the_api_key_must_be_valid_and_allowed_to_write(
    app: Flask, client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    client_id, _secret = api_key.split(":")
    for wrong in (f"{client_id}:not-the-secret", "no-separator", f"bjc_unknown:{_secret}"):
        assert_open311_error(post_request(client, wrong), 403)
    read_only = issue_api_key(app, ApiScope.COMPLAINTS_READ)
    assert_open311_error(post_request(client, read_only, "xml"), 403, "xml")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_bad_fields_are_a_400_that_names_them(
    client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    missing = assert_open311_error(post_request(client, api_key, service_code=None), 400)
    assert "service_code" in missing
    assert "lat" in assert_open311_error(post_request(client, api_key, lat="north"), 400)
    assert_open311_error(post_request(client, api_key, service_code="no_such_service"), 404)
    no_place = post_request(client, api_key, lat=None, long=None, address_string=None)
    assert "address_string" in assert_open311_error(no_place, 400)
    assert_open311_error(post_request(client, api_key, long=None), 400)
    outside = post_request(client, api_key, lat="-6.2", long="106.8")  # Jakarta
    assert_open311_error(outside, 400)
    assert "privacy" in assert_open311_error(
        post_request(client, api_key, **{"attribute[privacy]": "secret"}), 400
    )
    assert_open311_error(post_request(client, api_key, jurisdiction_id="medan.go.id"), 404)
    as_json = client.post(f"{BASE}/requests.json", json=open311_request(api_key))
    assert_open311_error(as_json, 415)


def test_requests_list_hides_confidential_reports_and_maps_open_and_closed(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    road = categories["road_damage"]
    public = submit(client, resident.headers, road)
    confidential = submit(client, resident.headers, road, privacy="confidential")
    rejected = submit(client, resident.headers, road, privacy="anonymous")
    refused = act(client, operator.headers, rejected["id"], "reject", note="Bukan wewenang kota")
    assert refused.status_code == 200, refused.get_json()
    listed = client.get(f"{BASE}/requests.json").get_json()
    numbers = {r["service_request_id"]: r for r in listed}
    # Never the confidential one.
    assert set(numbers) == {public["tracking_number"], rejected["tracking_number"]}
    assert numbers[rejected["tracking_number"]]["status"] == "closed"
    assert numbers[public["tracking_number"]]["status"] == "open"
    open_only = client.get(f"{BASE}/requests.json?status=open").get_json()
    assert {r["service_request_id"] for r in open_only} == {public["tracking_number"]}
    closed_only = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert {r["service_request_id"] for r in closed_only} == {rejected["tracking_number"]}
    assert_open311_error(client.get(f"{BASE}/requests/{confidential['tracking_number']}.json"), 404)
    by_ids = client.get(
        f"{BASE}/requests.json?service_request_id="
        f"{public['tracking_number']},{confidential['tracking_number']}"
    ).get_json()
    assert [r["service_request_id"] for r in by_ids] == [public["tracking_number"]]
    by_service = client.get(f"{BASE}/requests.json?service_code=street_light,road_damage")
    assert {r["service_request_id"] for r in by_service.get_json()} == set(numbers)
    other_service = client.get(f"{BASE}/requests.json?service_code=street_light").get_json()
    assert other_service == []
    unknown_service = client.get(f"{BASE}/requests.json?service_code=no_such_service")
    assert unknown_service.status_code == 200 and unknown_service.get_json() == []
    root = xml(client.get(f"{BASE}/requests.xml?status=open"))
    assert [r.findtext("status") for r in root.iterfind("request")] == ["open"]


def test_requests_list_takes_a_window_of_at_most_90_days(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    submit(client, resident.headers, categories["road_damage"])
    in_window = client.get(f"{BASE}/requests.json?start_date=2020-01-01T00:00:00Z")
    assert in_window.get_json() == []  # 2020-01-01 .. 2020-03-31
    assert_open311_error(
        client.get(
            f"{BASE}/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z"
        ),
        400,
    )
    assert_open311_error(
        client.get(
            f"{BASE}/requests.json?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"
        ),
        400,
    )
    assert_open311_error(client.get(f"{BASE}/requests.json?status=pending"), 400)


def test_media_url_points_at_the_public_photo(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    created = submit(client, resident.headers, categories["road_damage"])
    photo = client.post(
        f"/api/v1/complaints/{created['id']}/photos",
        headers=resident.headers,
        data={"file": (io.BytesIO(jpeg_with_gps()), "jalan.jpg")},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 201, photo.get_json()
    [request] = client.get(f"{BASE}/requests/{created['tracking_number']}.json").get_json()
    assert request["media_url"].startswith("https://open311.binjai.test/api/v1/public/complaints/")
    image = client.get(request["media_url"].removeprefix("https://open311.binjai.test"))
    assert image.status_code == 200 and image.mimetype == "image/jpeg"


def test_an_unknown_token_or_jurisdiction_is_a_404(client: FlaskClient) -> None:
    assert_open311_error(client.get(f"{BASE}/tokens/not-a-token.json"), 404)
    assert_open311_error(client.get(f"{BASE}/tokens/{uuid.uuid4()}.xml"), 404, "xml")
    assert_open311_error(client.get(f"{BASE}/services.json?jurisdiction_id=medan.go.id"), 404)
