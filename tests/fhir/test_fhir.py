"""The FHIR R4 read face: every answer (resources, searchsets, OperationOutcomes) is checked
against the fhir.resources R4B models, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.fhir.conftest import fhir_get
from tests.health.conftest import (
    MONDAY,
    TUESDAY,
    Clock,
    Place,
    Resident,
    booking_body,
    create_facility,
    session_entry,
)

SATUSEHAT_LOCATION = "http://sys-ids.kemkes.go.id/location/"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def _links(bundle: dict[str, Any]) -> dict[str, str]:
    return {link["relation"]: link["url"] for link in bundle["link"]}


def _relative(url: str) -> str:
    return url.split("/fhir/r4/", 1)[1]


def test_capability_statement_lists_each_resource_with_read_and_search(
    client: FlaskClient,
) -> None:
    statement = fhir_get(client, "metadata")
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1" and statement["format"] == ["json"]
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {"Organization", "Location", "HealthcareService", "Schedule", "Slot"}
    assert {p["name"] for p in served["Location"]["searchParam"]} == {"name", "type", "near"}
    assert all(
        [i["code"] for i in r["interaction"]] == ["read", "search-type"] for r in served.values()
    )


def test_location_has_address_position_type_status_and_grouped_hours(
    client: FlaskClient, clock: Clock, place: Place
) -> None:
    location = fhir_get(client, f"Location/{place.facility_id}")
    assert location["id"] == place.facility_id and location["status"] == "active"
    assert location["position"] == {"longitude": 98.49, "latitude": 3.60}
    assert location["address"]["text"] == "Jl. Uji No. 1, Binjai"
    assert location["address"]["city"] == "Binjai" and location["address"]["country"] == "ID"
    codings = {c["system"]: c["code"] for c in location["type"][0]["coding"]}
    assert codings[ROLE_CODE] == "PC" and "puskesmas" in codings.values()
    assert location["identifier"][0]["system"].startswith(SATUSEHAT_LOCATION)
    assert location["identifier"][0]["value"] == place.facility_id
    # Monday to Saturday share their hours: one entry.
    assert location["hoursOfOperation"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat"],
            "openingTime": "07:30:00",
            "closingTime": "14:00:00",
        }
    ]
    assert location["managingOrganization"]["reference"] == f"Organization/{place.facility_id}"


def test_a_24_hour_emergency_department_is_open_all_day_every_day(
    app: Flask, client: FlaskClient
) -> None:
    hospital = create_facility(app, type="hospital", emergency_24h=True, name="RSUD Uji")
    location = fhir_get(client, f"Location/{hospital.facility_id}")
    assert location["hoursOfOperation"] == [
        {"daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "allDay": True}
    ]
    assert {c["code"] for c in location["type"][0]["coding"]} == {"HOSP", "hospital"}


def test_location_search_by_name_type_and_near_with_paging_links(
    app: Flask, client: FlaskClient
) -> None:
    near_centre = create_facility(app, name="Puskesmas Binjai Kota", lat=3.600, lon=98.490)
    a_bit_further = create_facility(app, name="Puskesmas Binjai Timur", lat=3.610, lon=98.500)
    far = create_facility(app, name="Klinik Sei Bingai", type="clinic", lat=3.660, lon=98.560)
    every = fhir_get(client, "Location")
    assert every["type"] == "searchset" and every["total"] == 3
    by_name = fhir_get(client, "Location?name=puskesmas%20binjai")
    assert sorted(_ids(by_name)) == sorted([near_centre.facility_id, a_bit_further.facility_id])
    assert _ids(fhir_get(client, "Location?name:contains=bingai")) == [far.facility_id]
    assert _ids(fhir_get(client, "Location?type=clinic")) == [far.facility_id]
    assert _ids(fhir_get(client, f"Location?type={ROLE_CODE}|OF")) == [far.facility_id]
    nearest_first = fhir_get(client, "Location?near=3.600|98.490|3|km")
    assert _ids(nearest_first) == [near_centre.facility_id, a_bit_further.facility_id]
    assert _ids(fhir_get(client, "Location?near=3.600|98.490|500|m")) == [near_centre.facility_id]

    first = fhir_get(client, "Location?_count=2")
    assert first["total"] == 3 and len(first["entry"]) == 2
    links = _links(first)
    assert set(links) == {"self", "first", "next", "last"}
    assert links["next"].startswith("http://") and "_page=2" in links["next"]
    second = fhir_get(client, _relative(links["next"]), Accept="application/fhir+json")
    assert len(second["entry"]) == 1 and "next" not in _links(second)
    assert "_page=1" in _links(second)["previous"] and "_count=2" in _links(second)["previous"]
    assert set(_ids(first)) | set(_ids(second)) == {
        near_centre.facility_id,
        a_bit_further.facility_id,
        far.facility_id,
    }
    assert second["entry"][0]["fullUrl"].endswith(f"/fhir/r4/Location/{_ids(second)[0]}")


def test_organizations_are_agencies_and_facility_operators(
    client: FlaskClient, place: Place
) -> None:
    provider = fhir_get(client, f"Organization/{place.facility_id}")
    assert provider["type"][0]["coding"][0]["code"] == "prov"
    assert provider["identifier"][0]["system"].startswith(
        "http://sys-ids.kemkes.go.id/organization/"
    )
    operator_ref = provider["partOf"]["reference"]  # a puskesmas is run by Dinas Kesehatan
    dinkes = fhir_get(client, operator_ref)
    assert dinkes["type"][0]["coding"][0]["code"] == "govt"
    assert dinkes["identifier"][0]["value"] == "DINKES"
    government = fhir_get(client, "Organization?type=govt&_count=100")
    assert government["total"] >= 1 and place.facility_id not in _ids(government)
    assert operator_ref.split("/")[1] in _ids(government)
    assert _ids(fhir_get(client, "Organization?type=prov")) == [place.facility_id]


def test_healthcare_service_is_each_poli_with_its_available_time(
    app: Flask, client: FlaskClient, place: Place
) -> None:
    other = create_facility(app)
    found = fhir_get(client, f"HealthcareService?location=Location/{place.facility_id}")
    assert sorted(_ids(found)) == sorted([place.umum_id, place.gigi_id])
    assert other.umum_id not in _ids(
        fhir_get(client, f"HealthcareService?organization={place.facility_id}")
    )
    umum = fhir_get(client, f"HealthcareService/{place.umum_id}")
    assert umum["name"] == "Poli Umum" and umum["type"][0]["coding"][0]["code"] == "umum"
    assert umum["providedBy"]["reference"] == f"Organization/{place.facility_id}"
    assert umum["availableTime"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat"],
            "availableStartTime": "08:00:00",
            "availableEndTime": "12:00:00",
        }
    ]
    gigi = fhir_get(client, f"HealthcareService/{place.gigi_id}")
    assert gigi["availableTime"][0]["daysOfWeek"] == ["tue"]


def test_slots_are_free_until_the_online_quota_is_taken_then_busy(
    app: Flask,
    client: FlaskClient,
    clock: Clock,
    resident: Callable[[], Resident],
) -> None:
    small = create_facility(
        app,
        services=[
            {
                "code": "umum",
                "name": "Poli Umum",
                "sessions": [session_entry("monday", online_quota=1), session_entry("tuesday")],
            }
        ],
    )
    schedule = fhir_get(client, f"Schedule/{small.umum_id}")
    assert {a["reference"] for a in schedule["actor"]} == {
        f"HealthcareService/{small.umum_id}",
        f"Location/{small.facility_id}",
    }
    assert _ids(fhir_get(client, f"Schedule?actor=Location/{small.facility_id}")) == [small.umum_id]
    query = f"Slot?schedule=Schedule/{small.umum_id}&start=ge{MONDAY}&start=le{TUESDAY}"
    slots = fhir_get(client, query)
    monday, tuesday = (entry["resource"] for entry in slots["entry"])
    assert monday["status"] == "free" and tuesday["status"] == "free"
    assert monday["start"] == "2026-11-30T01:00:00Z" and monday["end"] == "2026-11-30T05:00:00Z"
    assert monday["schedule"]["reference"] == f"Schedule/{small.umum_id}"

    who = resident()
    booked = client.post(
        "/api/v1/queue-bookings",
        json=booking_body(small, MONDAY),
        headers=who.headers,
    )
    assert booked.status_code == 201, booked.get_json()
    assert fhir_get(client, f"Slot/{monday['id']}")["status"] == "busy"
    assert _ids(fhir_get(client, f"{query}&status=free")) == [tuesday["id"]]
    assert _ids(fhir_get(client, f"{query}&status=busy")) == [monday["id"]]
    clock.set(MONDAY, 13)  # the session is over
    assert fhir_get(client, f"Slot/{monday['id']}")["status"] == "busy-unavailable"


def test_errors_are_operation_outcomes_with_the_right_status(
    client: FlaskClient, place: Place
) -> None:
    missing = fhir_get(client, f"Location/{uuid.uuid4()}", 404)
    assert missing["issue"][0]["code"] == "not-found"
    assert fhir_get(client, "Patient/123", 404)["issue"][0]["code"] == "not-found"
    assert fhir_get(client, "Slot/not-a-slot", 404)["issue"][0]["code"] == "not-found"
    assert fhir_get(client, "Location/a/b/c", 404)["issue"][0]["code"] == "not-found"
    for bad in (
        "Location?bogus=1",
        "Location?_count=0",
        "Location?_count=101",
        "Location?_page=x",
        "Location?near=3.6|98.49|60|km",
        "Location?near=north|south",
        "Location?name:fuzzy=x",
        "Slot?start=yesterday",
        "Slot?start=ge2026-01-01&start=le2026-12-31",
        "Slot?status=maybe",
        "Schedule?actor=Patient/1",
        f"Location?name={'x' * 201}",
    ):
        outcome = fhir_get(client, bad, 400)
        assert outcome["issue"][0]["code"] == "invalid", bad
    refused = client.post("/fhir/r4/Location", json={"resourceType": "Location"})
    assert refused.status_code == 405 and refused.mimetype == "application/fhir+json"
    assert refused.get_json()["issue"][0]["code"] == "not-supported"
    assert "GET" in refused.headers["Allow"]
    assert fhir_get(client, "metadata", 406, Accept="application/xml")["issue"][0]["code"] == (
        "not-supported"
    )
    assert fhir_get(client, "Location?_format=xml", 406)["issue"][0]["code"] == "not-supported"
    english = fhir_get(client, "Location?bogus=1", 400, **{"Accept-Language": "en"})
    assert english["issue"][0]["diagnostics"].startswith("Unknown search parameter bogus")


def test_answers_carry_an_etag_and_a_matching_if_none_match_gets_304(
    client: FlaskClient, place: Place
) -> None:
    first = client.get(f"/fhir/r4/Location/{place.facility_id}")
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(
        f"/fhir/r4/Location/{place.facility_id}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    search = client.get("/fhir/r4/Location")
    assert (
        client.get(
            "/fhir/r4/Location", headers={"If-None-Match": search.headers["ETag"]}
        ).status_code
        == 304
    )


def test_the_fhir_face_shows_no_patient_or_staff_data(
    client: FlaskClient, clock: Clock, place: Place, resident: Callable[[], Resident]
) -> None:
    who = resident()
    assert (
        client.post(
            "/api/v1/queue-bookings", json=booking_body(place), headers=who.headers
        ).status_code
        == 201
    )
    slots = client.get(f"/fhir/r4/Slot?schedule={place.umum_id}").get_data(as_text=True)
    assert "Siti" not in slots and "patient" not in slots.lower()
