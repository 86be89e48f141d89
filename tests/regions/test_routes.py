"""Kota Binjai's regions, with Kemendagri codes."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_five_kecamatan_with_their_kelurahan(client: FlaskClient) -> None:
    response = client.get("/api/v1/regions")
    assert response.status_code == 200 and response.headers["ETag"]
    kecamatan = response.get_json()
    assert [k["name"] for k in kecamatan] == [
        "Binjai Utara",
        "Binjai Kota",
        "Binjai Barat",
        "Binjai Timur",
        "Binjai Selatan",
    ]
    assert [len(k["kelurahan"]) for k in kecamatan] == [9, 7, 6, 7, 8]
    selatan = kecamatan[4]
    assert selatan["code"] == "12.75.05"
    assert selatan["kelurahan"][1] == {"code": "12.75.05.1002", "name": "Binjai Estate"}
    assert all(k["kelurahan"][0]["code"].endswith(".1001") for k in kecamatan)
