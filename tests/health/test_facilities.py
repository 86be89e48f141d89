"""The facility directory: search near a point, open now (holidays), filters, ETags, beds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, time
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.health import service
from binjai_api.health.models import BedAvailability, Facility, HealthService
from binjai_api.health.schemas import FACILITY_EXAMPLE, FacilitySummarySchema
from binjai_api.workcalendar import service as workcalendar
from tests.health.conftest import MONDAY, Clock, Place, create_facility
from tests.platform.test_errors import assert_problem
from tests.queries import counting_queries

CENTRE = {"lat": 3.60, "lon": 98.49}


def _names(response: object) -> list[str]:
    return [item["name"] for item in response.get_json()]  # type: ignore[attr-defined]


def _gigi(response: object) -> dict[str, Any]:
    body = response.get_json()  # type: ignore[attr-defined]
    return next(s for s in body["services"] if s["code"] == "gigi")


def test_search_near_a_point_sorts_by_distance_within_the_radius(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    create_facility(app, name="Dekat", lat=3.6010, lon=98.4900)  # ~110 m
    create_facility(app, name="Sedang", lat=3.6000, lon=98.5000)  # ~1.1 km
    create_facility(app, name="Jauh", lat=3.6400, lon=98.4900)  # ~4.4 km
    create_facility(app, name="Diagonal luar", lat=3.6080, lon=98.4980)  # ~1.26 km, box corner
    response = client.get("/api/v1/facilities", query_string={**CENTRE, "radius_m": 1200})
    assert response.status_code == 200
    body = response.get_json()
    assert [item["name"] for item in body] == ["Dekat", "Sedang"]
    assert 100 <= body[0]["distance_m"] <= 120
    assert 1090 <= body[1]["distance_m"] <= 1125
    wide = client.get("/api/v1/facilities", query_string={**CENTRE, "radius_m": 5000})
    assert _names(wide) == ["Dekat", "Sedang", "Diagonal luar", "Jauh"]
    far_first = client.get(
        "/api/v1/facilities", query_string={**CENTRE, "radius_m": 5000, "sort": "-distance"}
    )
    assert _names(far_first)[0] == "Jauh"


def test_without_a_point_there_is_no_distance_and_lists_sort_by_name(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    create_facility(app, name="B Klinik", type="clinic")
    create_facility(app, name="A Klinik", type="clinic")
    response = client.get("/api/v1/facilities", query_string={"type": "clinic"})
    assert _names(response) == ["A Klinik", "B Klinik"]
    assert response.get_json()[0]["distance_m"] is None
    assert_problem(
        client.get("/api/v1/facilities", query_string={"sort": "distance"}), 422, "validation_error"
    )
    assert_problem(
        client.get("/api/v1/facilities", query_string={"lat": 3.6}), 422, "validation_error"
    )


def test_filters_by_type_service_igd_and_bpjs(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    create_facility(app, name="RS Uji", type="hospital", emergency_24h=True, services=[])
    create_facility(app, name="Klinik Swasta", type="clinic", accepts_bpjs=False)
    create_facility(app, name="Puskesmas Gigi")
    create_facility(
        app, name="Puskesmas Tanpa Gigi", services=[{"code": "umum", "name": "Poli Umum"}]
    )
    get = lambda **q: _names(client.get("/api/v1/facilities", query_string=q))  # noqa: E731
    assert get(type="hospital") == ["RS Uji"]
    assert get(emergency_24h="true") == ["RS Uji"]
    assert get(accepts_bpjs="false") == ["Klinik Swasta"]
    assert get(service="gigi", type="puskesmas") == ["Puskesmas Gigi"]


def test_open_now_follows_hours_and_holidays_but_igd_never_closes(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    create_facility(app, name="Puskesmas Siang")
    create_facility(app, name="RS IGD", type="hospital", emergency_24h=True)
    clock.set(MONDAY, 9)
    assert _names(client.get("/api/v1/facilities", query_string={"open_now": "true"})) == [
        "Puskesmas Siang",
        "RS IGD",
    ]
    clock.set(MONDAY, 20)
    assert _names(client.get("/api/v1/facilities", query_string={"open_now": "true"})) == ["RS IGD"]
    assert _names(client.get("/api/v1/facilities", query_string={"open_now": "false"})) == [
        "Puskesmas Siang"
    ]
    # Christmas 2026 is a Friday and a national holiday: 09:00 is within Friday's hours.
    christmas = date(2026, 12, 25)
    with app.app_context():
        assert not workcalendar.is_working_day(christmas)
    clock.set(christmas, 9)
    assert _names(client.get("/api/v1/facilities", query_string={"open_now": "true"})) == ["RS IGD"]


def test_a_local_day_off_closes_facilities_too(
    app: Flask, client: FlaskClient, clock: Clock, auth_headers: Callable[..., dict[str, str]]
) -> None:
    create_facility(app, name="Puskesmas Siang")
    clock.set(MONDAY, 9)
    assert client.get("/api/v1/facilities").get_json()[0]["open_now"] is True
    admin = auth_headers("admin")
    created = client.post(
        "/api/v1/days-off", json={"date": MONDAY.isoformat(), "name": "Hari Jadi"}, headers=admin
    )
    assert created.status_code == 201, created.get_json()
    item = client.get("/api/v1/facilities").get_json()[0]
    assert item["open_now"] is False


def test_list_and_item_carry_an_etag_and_answer_304(
    app: Flask, client: FlaskClient, clock: Clock, place: Place
) -> None:
    listing = client.get("/api/v1/facilities")
    assert listing.headers.get("ETag")
    # Search results name the poli; their weekly sessions are in the facility itself.
    assert {"id", "code", "name", "name_en"} == set(listing.get_json()[0]["services"][0])
    again = client.get("/api/v1/facilities", headers={"If-None-Match": listing.headers["ETag"]})
    assert again.status_code == 304
    item = client.get(f"/api/v1/facilities/{place.facility_id}")
    assert item.status_code == 200 and item.headers.get("ETag")
    body = item.get_json()
    assert body["opening_hours"][0] == {
        "weekday": "monday",
        "opens_at": "07:30",
        "closes_at": "14:00",
    }
    umum = next(s for s in body["services"] if s["code"] == "umum")
    assert umum["sessions"][0]["online_quota"] == 10
    cached = client.get(
        f"/api/v1/facilities/{place.facility_id}", headers={"If-None-Match": item.headers["ETag"]}
    )
    assert cached.status_code == 304
    # A change (it closes for the evening) gives a new representation.
    clock.set(MONDAY, 20)
    changed = client.get(
        f"/api/v1/facilities/{place.facility_id}", headers={"If-None-Match": item.headers["ETag"]}
    )
    assert changed.status_code == 200 and changed.get_json()["open_now"] is False


def test_unknown_facility_is_404(client: FlaskClient, new_id: Callable[[], str]) -> None:
    assert_problem(client.get(f"/api/v1/facilities/{new_id()}"), 404, "not_found")


def test_admin_adds_a_facility_and_refuses_bad_schedules(
    client: FlaskClient, clock: Clock, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin = auth_headers("admin")
    body = FACILITY_EXAMPLE  # the documented example is itself a valid request
    created = client.post("/api/v1/facilities", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    facility = created.get_json()
    assert (facility["name"], facility["kelurahan_code"]) == (body["name"], body["kelurahan_code"])
    assert facility["services"][0]["sessions"] == body["services"][0]["sessions"]
    bad = {
        **body,
        "opening_hours": [{"weekday": "monday", "opens_at": "16:00", "closes_at": "08:00"}],
    }
    assert_problem(
        client.post("/api/v1/facilities", json=bad, headers=admin), 422, "validation_error"
    )
    blank = client.post("/api/v1/facilities", json={**body, "name": "   "}, headers=admin)
    assert_problem(blank, 422, "validation_error")
    assert "name" in blank.get_json()["errors"]["json"]
    citizen = auth_headers("citizen")
    assert_problem(client.post("/api/v1/facilities", json=body, headers=citizen), 403, "forbidden")


def test_hospital_staff_report_beds_with_the_time_of_the_update(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    staff_of: Callable[[str], dict[str, str]],
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    hospital = create_facility(app, name="RS Uji", type="hospital", emergency_24h=True)
    other = create_facility(app, name="RS Lain", type="hospital")
    staff = staff_of(hospital.facility_id)
    beds = {"beds": [{"bed_class": "kelas_3", "total": 40, "available": 6}]}
    response = client.put(
        f"/api/v1/facilities/{hospital.facility_id}/beds", json=beds, headers=staff
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["beds"][0]["available"] == 6 and body["beds"][0]["updated_at"]
    assert body["beds_updated_at"]
    # If-Match with the facility's ETag: the answer's ETag works, a stale one is refused.
    fresh = client.put(
        f"/api/v1/facilities/{hospital.facility_id}/beds",
        json=beds,
        headers={**staff, "If-Match": response.headers["ETag"]},
    )
    assert fresh.status_code == 200
    assert_problem(
        client.put(
            f"/api/v1/facilities/{hospital.facility_id}/beds",
            json={"beds": [{"bed_class": "kelas_3", "total": 40, "available": 5}]},
            headers={**staff, "If-Match": '"stale"'},
        ),
        412,
        "precondition_failed",
    )
    assert_problem(
        client.put(f"/api/v1/facilities/{other.facility_id}/beds", json=beds, headers=staff),
        403,
        "forbidden",
    )
    too_many = {"beds": [{"bed_class": "icu", "total": 2, "available": 3}]}
    assert_problem(
        client.put(f"/api/v1/facilities/{hospital.facility_id}/beds", json=too_many, headers=staff),
        422,
        "validation_error",
    )
    puskesmas = create_facility(app)
    assert_problem(
        client.put(
            f"/api/v1/facilities/{puskesmas.facility_id}/beds",
            json=beds,
            headers=auth_headers("admin"),
        ),
        409,
        "not_a_hospital",
    )


def test_admins_tie_officers_to_a_facility(
    app: Flask,
    client: FlaskClient,
    place: Place,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    from tests import factories

    admin = auth_headers("admin")
    officer = factories.make_account(app, "officer", agency_code="DINKES")
    url = f"/api/v1/facilities/{place.facility_id}/staff"
    created = client.post(url, json={"user_id": officer.id}, headers=admin)
    assert created.status_code == 201, created.get_json()
    assert [row["user_id"] for row in client.get(url, headers=admin).get_json()] == [officer.id]
    citizen = factories.make_account(app, "citizen")
    assert_problem(
        client.post(url, json={"user_id": citizen.id}, headers=admin), 422, "validation_error"
    )
    assert client.delete(f"{url}/{officer.id}", headers=admin).status_code == 204
    assert_problem(client.delete(f"{url}/{officer.id}", headers=admin), 404, "not_found")


def test_demo_seed_loads_binjai_facilities_marked_demo(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        from binjai_api import seed

        seed.seed_demo_accounts()
        added = service.seed_demo_facilities()
        assert added >= 10
        assert service.seed_demo_facilities() == 0
    listing = client.get("/api/v1/facilities", query_string={"page_size": 100}).get_json()
    names = {item["name"] for item in listing}
    assert {"RSUD Dr. R.M. Djoelham", "UPTD Puskesmas Binjai Estate", "RS Latersia"} <= names
    assert all(item["is_demo"] for item in listing)
    rsud = next(item for item in listing if item["name"] == "RSUD Dr. R.M. Djoelham")
    assert rsud["emergency_24h"] and rsud["beds"]
    assert any(s["code"] == "hemodialisis" for s in rsud["services"])


def test_staff_set_a_poli_session_for_a_weekday(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    place: Place,
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    staff = staff_of(place.facility_id)
    url = f"/api/v1/facilities/{place.facility_id}/services/{place.gigi_id}/sessions"
    body = {
        "starts_at": "09:00",
        "ends_at": "11:00",
        "online_quota": 12,
        "walk_in_quota": 4,
        "minutes_per_patient": 15,
    }
    read = client.get(f"/api/v1/facilities/{place.facility_id}")
    response = client.put(
        f"{url}/thursday", json=body, headers={**staff, "If-Match": read.headers["ETag"]}
    )
    assert response.status_code == 200, response.get_json()
    sessions = {s["weekday"]: s for s in _gigi(response)["sessions"]}
    assert set(sessions) == {"tuesday", "thursday"}
    assert (
        sessions["thursday"]["online_quota"] == 12 and sessions["thursday"]["starts_at"] == "09:00"
    )
    # The ETag read before the change is stale now: 412, nothing changed.
    stale = client.put(
        f"{url}/tuesday",
        json={**body, "online_quota": 3},
        headers={**staff, "If-Match": read.headers["ETag"]},
    )
    assert_problem(stale, 412, "precondition_failed")
    changed = client.put(
        f"{url}/tuesday",
        json={**body, "online_quota": 3},
        headers={**staff, "If-Match": response.headers["ETag"]},
    )
    assert {s["weekday"]: s["online_quota"] for s in _gigi(changed)["sessions"]} == {
        "tuesday": 3,
        "thursday": 12,
    }
    assert_problem(client.put(f"{url}/someday", json=body, headers=staff), 404, "not_found")
    backwards = {**body, "starts_at": "12:00"}
    assert_problem(
        client.put(f"{url}/friday", json=backwards, headers=staff), 422, "validation_error"
    )
    other = staff_of(create_facility(app).facility_id)
    assert_problem(client.put(f"{url}/friday", json=body, headers=other), 403, "forbidden")


def test_search_costs_the_same_queries_for_one_facility_or_many(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    def search() -> list[str]:
        with counting_queries(app, touching="health_") as statements:
            response = client.get("/api/v1/facilities", query_string=CENTRE)
            assert response.status_code == 200
        return statements

    create_facility(app)
    one = search()
    for _ in range(4):
        create_facility(app)
    # The facilities, then the hours, poli and beds of those not read before, one query each.
    assert len(search()) == len(one) == 4
    assert len(client.get("/api/v1/facilities", query_string=CENTRE).get_json()) == 5
    # Nothing changed since: the facilities' rows alone.
    assert len(search()) == 1


def test_search_shows_a_change_at_once_even_from_another_instance(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    """A search keeps each facility's hours, poli and beds under the facility's updated_at: a
    change through the API, or one this process never saw (another worker's, written straight
    to the database here), moves updated_at and is in the next answer."""
    hospital = create_facility(app, name="RS Uji", type="hospital", emergency_24h=True)

    def searched() -> dict[str, Any]:
        items = client.get("/api/v1/facilities", query_string=CENTRE).get_json()
        return dict(next(item for item in items if item["id"] == hospital.facility_id))

    assert searched()["beds"] == []
    beds = {"beds": [{"bed_class": "kelas_3", "total": 40, "available": 6}]}
    url = f"/api/v1/facilities/{hospital.facility_id}/beds"
    headers = staff_of(hospital.facility_id)
    assert client.put(url, json=beds, headers=headers).status_code == 200
    assert [bed["available"] for bed in searched()["beds"]] == [6]
    facility_id = uuid.UUID(hospital.facility_id)
    with app.app_context():
        db.session.execute(
            sa.update(BedAvailability)
            .where(BedAvailability.facility_id == facility_id)
            .values(available=2)
        )
        db.session.execute(
            sa.update(Facility).where(Facility.id == facility_id).values(updated_at=utcnow())
        )
        db.session.execute(
            sa.update(HealthService)
            .where(HealthService.facility_id == facility_id, HealthService.code == "gigi")
            .values(name="Poli Gigi dan Mulut")
        )
        db.session.commit()
    after = searched()
    assert [bed["available"] for bed in after["beds"]] == [2]
    assert "Poli Gigi dan Mulut" in {poli["name"] for poli in after["services"]}


def test_search_writes_each_result_as_marshmallow_dumps_the_facility(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    staff_of: Callable[[str], dict[str, str]],
) -> None:
    """Search reads plain rows and writes its results in one pass: field for field, in the same
    order, what FacilitySummarySchema dumps of `search_facilities`' views (hours shared by
    several facilities or not, poli, beds, distance or none, open and closed)."""
    hospital = create_facility(app, name="RS Uji", type="hospital", emergency_24h=True)
    beds = {"beds": [{"bed_class": "kelas_3", "total": 40, "available": 6}]}
    staff = staff_of(hospital.facility_id)
    url = f"/api/v1/facilities/{hospital.facility_id}/beds"
    assert client.put(url, json=beds, headers=staff).status_code == 200
    create_facility(app, name="Puskesmas A", lat=3.6010)
    create_facility(app, name="Puskesmas B", lat=3.6020)
    evening = [{"weekday": "monday", "opens_at": time(16, 0), "closes_at": time(21, 0)}]
    create_facility(app, name="Klinik Sore", type="clinic", opening_hours=evening, services=[])
    for query in ({}, {**CENTRE, "radius_m": 5000}, {"sort": "-updated_at"}, {"open_now": True}):
        items = json.loads(client.get("/api/v1/facilities", query_string=query).get_data())
        with app.test_request_context():
            views = service.search_facilities(**query)
            expected = ma.Schema.dump(FacilitySummarySchema(many=True), views, many=True)
        assert [list(item) for item in items] == [list(view) for view in expected]
        assert items == json.loads(json.dumps(expected)), query
    assert {item["name"] for item in items} == {"RS Uji", "Puskesmas A", "Puskesmas B"}
