"""Before filing: open reports nearby, and "saya juga" instead of a duplicate."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.complaints.conftest import Person
from tests.complaints.helpers import act, submit
from tests.platform.test_errors import assert_problem


def test_nearby_lists_open_public_reports_nearest_first(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
) -> None:
    waste = categories["waste"]
    near = submit(client, resident.headers, waste, lat=3.6001, lon=98.4853)["id"]
    nearer = submit(client, resident.headers, waste, lat=3.6000, lon=98.4850)["id"]
    submit(client, resident.headers, waste, lat=3.6200, lon=98.5000)  # ~2.5 km away
    submit(client, resident.headers, waste, lat=3.6000, lon=98.4851, privacy="confidential")
    closed = submit(client, resident.headers, waste, lat=3.6000, lon=98.4852)["id"]
    act(client, operator.headers, closed, "reject", note="Sudah ditangani")
    light = submit(client, resident.headers, categories["street_light"], lat=3.6, lon=98.485)["id"]

    response = client.get(
        f"/api/v1/complaints/nearby?lat=3.6000&lon=98.4850&category_id={waste}",
        headers=other_resident.headers,
    )
    assert response.status_code == 200, response.get_json()
    assert [c["id"] for c in response.get_json()] == [nearer, near]
    wide = client.get(
        "/api/v1/complaints/nearby?lat=3.6&lon=98.485&radius_m=2000", headers=other_resident.headers
    ).get_json()
    # Other categories too, still never confidential or closed.
    assert {c["id"] for c in wide} == {near, nearer, light}


def test_saya_juga_counts_each_supporter_once(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
) -> None:
    cid = submit(client, resident.headers, categories["waste"])["id"]
    path = f"/api/v1/complaints/{cid}/support"
    first = client.post(path, headers=other_resident.headers)
    assert first.status_code == 201 and first.get_json()["supporter_count"] == 1
    again = client.post(path, headers=other_resident.headers)
    assert again.status_code == 200 and again.get_json()["supporter_count"] == 1
    assert_problem(client.post(path, headers=resident.headers), 409, "own_report")
    assert client.delete(path, headers=other_resident.headers).status_code == 204
    assert client.get(f"/api/v1/public/complaints/{cid}").get_json()["supporter_count"] == 0
    assert_problem(client.delete(path, headers=other_resident.headers), 404, "not_found")


def test_only_open_public_reports_can_be_supported(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
) -> None:
    secret = submit(client, resident.headers, categories["waste"], privacy="confidential")["id"]
    assert_problem(
        client.post(f"/api/v1/complaints/{secret}/support", headers=other_resident.headers),
        404,
        "not_found",
    )
    rejected = submit(client, resident.headers, categories["waste"])["id"]
    act(client, operator.headers, rejected, "reject", note="Bukan laporan")
    assert_problem(
        client.post(f"/api/v1/complaints/{rejected}/support", headers=other_resident.headers),
        409,
        "report_closed",
    )
