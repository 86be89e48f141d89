"""Who sees what: operators and admins every agency, officers their own, nobody else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.ops.conftest import HEATMAP, OVERDUE, OVERVIEW, PERIOD, City

pytestmark = pytest.mark.usefixtures("frozen_now")
ENDPOINTS = (OVERVIEW, OVERDUE, HEATMAP)


def _get(client: FlaskClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(url, query_string={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_officer_sees_only_their_agency_s_figures(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    perkim = _get(client, OVERVIEW, staff("officer", "PERKIM"))
    assert perkim["agency"]["code"] == "PERKIM"
    assert perkim["complaints"]["opened"] == 2  # C3, C6
    assert perkim["complaints"]["closed"] == 0
    assert perkim["permit_applications"]["opened"] == 0
    assert perkim["queue_bookings"]["opened"] == 0  # queues are DINKES's
    assert [r["agency"]["code"] for r in perkim["complaints"]["overdue_by_agency"]] == ["PERKIM"]
    pupr = _get(client, OVERVIEW, staff("officer", "PUPR"))
    assert pupr["complaints"]["opened"] == 4  # C1, C2, C4, C7
    assert pupr["complaints"]["closed"] == 3
    assert pupr["complaints"]["overdue_by_agency"] == []
    assert sum(area["open"] for area in pupr["complaints_by_area"]) == 3  # C2, C7, C8


def test_a_permit_belongs_to_its_issuing_and_its_technical_agency(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    dinkes = _get(client, OVERVIEW, staff("officer", "DINKES"))
    # A1 and A4 have DINKES as technical agency; A2 and A5 are the issuing agency's alone.
    assert dinkes["permit_applications"]["opened"] == 2
    assert dinkes["queue_bookings"]["opened"] == 5
    assert [
        (r["agency"]["code"], r["overdue"])
        for r in dinkes["permit_applications"]["overdue_by_agency"]
    ] == [("DINKES", 1)]
    issuing = _get(client, OVERVIEW, staff("officer", "DPMPTSP"))
    assert issuing["permit_applications"]["opened"] == 4
    # The overdue A4 waits on the technical agency: it is counted there, not here.
    assert [
        (r["agency"]["code"], r["overdue"])
        for r in issuing["permit_applications"]["overdue_by_agency"]
    ] == [("DPMPTSP", 1)]


def test_an_officer_s_overdue_list_and_map_are_their_agency_s(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = staff("officer", "PERKIM")
    items = _get(client, OVERDUE, headers)
    assert {i["item_id"] for i in items} == {
        str(city.complaints["C3"]),
        str(city.complaints["C6"]),
    }
    collection = _get(client, HEATMAP, headers)
    assert sum(f["properties"]["count"] for f in collection["features"]) == 2


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_officer_asking_for_another_agency_is_403(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]], url: str
) -> None:
    headers = staff("officer", "PERKIM")
    other = {"agency_id": str(city.agencies["PUPR"])}
    response = client.get(url, query_string={**PERIOD, **other}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"
    own = {"agency_id": str(city.agencies["PERKIM"])}
    assert client.get(url, query_string={**PERIOD, **own}, headers=headers).status_code == 200


def test_an_operator_may_narrow_to_one_agency(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    body = _get(client, OVERVIEW, staff("operator"), agency_id=str(city.agencies["PERKIM"]))
    assert body["agency"]["code"] == "PERKIM"
    assert body["complaints"]["opened"] == 2


@pytest.mark.parametrize("url", ENDPOINTS)
def test_citizens_are_403_and_anonymous_callers_401(
    client: FlaskClient, rollback_db: None, staff: Callable[..., dict[str, str]], url: str
) -> None:
    assert client.get(url, headers=staff("citizen")).status_code == 403
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("url", ENDPOINTS)
def test_api_clients_are_403_even_with_the_ops_read_scope(
    client: FlaskClient, rollback_db: None, staff: Callable[..., dict[str, str]], url: str
) -> None:
    created = client.post(
        "/api/v1/admin/api-clients",
        headers=staff("admin"),
        json={"name": "Dashboard kota", "scopes": ["ops:read"]},
    ).get_json()
    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert token.status_code == 200, token.get_json()
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert client.get(url, headers=headers).status_code == 403
