"""Open311 as GeoReport v2 says: 403 for a missing api_key, `description` optional, date-only
and full datetimes for `start_date`/`end_date`, and the 1000-request cap stated, not silent."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.db import utcnow
from binjai_api.open311.service import MAX_REQUESTS
from binjai_api.workcalendar.service import local_date
from tests.complaints.conftest import Person
from tests.complaints.helpers import submit
from tests.open311.test_open311 import BASE, assert_open311_error, open311_request, post_request

PUBLIC_BASE_URL = "https://open311.binjai.test"


@pytest.fixture(autouse=True)
def public_base_url(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC_BASE_URL)


def test_a_missing_api_key_is_a_403_in_either_format(
    client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    without_key = {k: v for k, v in open311_request(api_key).items() if k != "api_key"}
    missing = client.post(f"{BASE}/requests.json", data=without_key)
    assert "api_key" in assert_open311_error(missing, 403)
    as_xml = client.post(f"{BASE}/requests.xml", data=without_key)
    assert_open311_error(as_xml, 403, "xml")
    empty = post_request(client, "")
    assert_open311_error(empty, 403)
    # Whatever else is wrong, the missing key is what the client hears first.
    del without_key["service_code"]
    both = client.post(f"{BASE}/requests.json", data=without_key)
    assert_open311_error(both, 403)


def test_a_request_without_description_is_filed_under_its_title(
    client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    created = post_request(client, api_key, description=None)
    assert created.status_code == 201, created.data
    number = created.get_json()[0]["service_request_id"]
    [request] = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert request["description"] == request["service_name"]

    titled = post_request(client, api_key, description="", **{"attribute[title]": "Jalan amblas"})
    assert titled.status_code == 201, titled.data
    number = titled.get_json()[0]["service_request_id"]
    [request] = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert request["description"] == "Jalan amblas"


def test_an_optional_argument_sent_empty_is_one_not_sent(
    client: FlaskClient, categories: dict[str, str], api_key: str
) -> None:
    created = post_request(client, api_key, email="", phone="", address_id="", media_url="")
    assert created.status_code == 201, created.data
    listed = client.get(f"{BASE}/requests.json?start_date=&end_date=&status=&service_code=")
    assert listed.status_code == 200
    assert [r["service_request_id"] for r in listed.get_json()] == [
        created.get_json()[0]["service_request_id"]
    ]


def test_dates_alone_and_datetimes_with_a_zone_are_accepted(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    number = submit(client, resident.headers, categories["road_damage"])["tracking_number"]
    today = local_date(utcnow())
    yesterday = today - timedelta(days=1)

    def found(query: str) -> list[str]:
        response = client.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, response.data
        return [r["service_request_id"] for r in response.get_json()]

    # A date is a whole day in WIB: end_date=today includes a report filed a moment ago.
    assert found(f"start_date={today}&end_date={today}") == [number]
    assert found(f"start_date={yesterday}") == [number]
    assert found(f"start_date={yesterday}&end_date={yesterday}") == []
    start = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found(f"start_date={start}&end_date={today}") == [number]
    assert found(f"start_date={yesterday}T00:00:00%2B07:00") == [number]
    # The specification requires the zone on a datetime; a date that is not one is refused.
    for wrong in ("2026-11-01T08:00:00", "2026-02-30", "yesterday"):
        description = assert_open311_error(
            client.get(f"{BASE}/requests.json?start_date={wrong}"), 400
        )
        assert "start_date" in description


def test_the_cap_is_stated_and_paged_past(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    numbers = [
        submit(client, resident.headers, categories["road_damage"])["tracking_number"]
        for _ in range(3)
    ]
    everything = client.get(f"{BASE}/requests.json")
    assert json.loads(everything.headers["X-Pagination"])["total"] == 3
    assert 'rel="next"' not in everything.headers["Link"]

    first = client.get(f"{BASE}/requests.json?page_size=2")
    assert [r["service_request_id"] for r in first.get_json()] == numbers[::-1][:2]
    assert json.loads(first.headers["X-Pagination"]) == {
        "total": 3,
        "total_pages": 2,
        "first_page": 1,
        "last_page": 2,
        "page": 1,
        "next_page": 2,
    }
    next_url = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"])
    )["next"]
    assert next_url == f"{PUBLIC_BASE_URL}{BASE}/requests.json?page_size=2&page=2"
    second = client.get(next_url.removeprefix(PUBLIC_BASE_URL))
    assert [r["service_request_id"] for r in second.get_json()] == [numbers[0]]
    xml_page = client.get(f"{BASE}/requests.xml?page_size=2&page=2")
    assert json.loads(xml_page.headers["X-Pagination"])["page"] == 2
    assert_open311_error(client.get(f"{BASE}/requests.json?page_size={MAX_REQUESTS + 1}"), 400)


def test_the_spec_states_the_cap_and_the_date_forms(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/open311/v2/requests.{response_format}"]["get"]
    assert f"at most {MAX_REQUESTS} requests" in operation["description"]
    assert {"X-Pagination", "Link"} <= set(operation["responses"]["200"]["headers"])
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["page_size"]["schema"]["maximum"] == MAX_REQUESTS
    assert parameters["page_size"]["schema"]["default"] == MAX_REQUESTS
    assert "maximum" in parameters["page"]["schema"]
    pattern = re.compile(parameters["start_date"]["schema"]["pattern"])
    for accepted in ("2026-11-01", "2026-11-01T00:00:00Z", "2026-11-01T07:00:00+07:00"):
        assert pattern.match(accepted)
    post = spec["paths"]["/open311/v2/requests.{response_format}"]["post"]
    assert "403" in post["responses"]
