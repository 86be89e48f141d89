"""Assisted intake: staff file a report for a resident who came in person, phoned or wrote; the
channel is kept and counted, the resident's account is linked when found, and the staff member
gets an acknowledgement to read out."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import statistics
from binjai_api.db import utcnow
from binjai_api.workcalendar import service as workcalendar
from tests import factories
from tests.complaints.conftest import Person, make_person
from tests.complaints.desk_helpers import problem
from tests.complaints.helpers import kinds_for, report, submit

ASSISTED = "/api/v1/complaints/assisted"


def assisted(category_id: str, channel: str = "phone", **resident: Any) -> dict[str, Any]:
    return {
        **report(category_id, lat=None, lon=None, address="Jl. Gatot Subroto depan SD Negeri 2"),
        "channel": channel,
        "resident": {"name": "Budi Santoso", **resident},
    }


def test_an_operator_files_a_phone_call_and_reads_back_the_tracking_number(
    client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    response = client.post(
        ASSISTED,
        headers=operator.headers,
        json=assisted(categories["road_damage"], phone="0812-3456-7890"),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["channel"] == "phone" and body["source"] == "app"
    assert body["linked_account"] is False and body["reporter"] is None
    assert body["tracking_number"] in body["acknowledgement"]
    assert body["acknowledgement"].startswith("Laporan Anda telah kami terima dengan nomor")
    assert body["contact"]["name"] == "Budi Santoso"
    # Masked like any contact: revealed only with a reason (POST .../contact-reveals).
    assert body["contact"]["phone"] == "**********7890"  # +6281234567890
    assert body["contact_masked"] is True
    assert body["history"][0]["action"] == "submit"
    assert body["history"][0]["actor_role"] == "operator"
    assert body["history"][0]["actor_id"] == operator.id
    english = client.post(
        ASSISTED,
        headers={**operator.headers, "Accept-Language": "en"},
        json=assisted(categories["road_damage"], "walk_in"),
    )
    assert english.get_json()["acknowledgement"].startswith(
        "Your report has been received with tracking number"
    )


def test_a_resident_found_by_phone_or_nik_sees_the_report_and_gets_its_pushes(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    nik, phone = factories.valid_nik(), factories.valid_phone()
    resident = make_person(app, client, nik=nik, phone=phone)
    by_phone = client.post(
        ASSISTED,
        headers=operator.headers,
        json=assisted(categories["waste"], "whatsapp", phone=phone),
    ).get_json()
    by_nik = client.post(
        ASSISTED, headers=operator.headers, json=assisted(categories["waste"], "walk_in", nik=nik)
    ).get_json()
    assert by_phone["linked_account"] is True and by_nik["linked_account"] is True
    assert "aplikasi Binjai" in by_phone["acknowledgement"]
    mine = client.get("/api/v1/complaints/mine", headers=resident.headers).get_json()
    assert {item["id"] for item in mine} == {by_phone["id"], by_nik["id"]}
    assert kinds_for(app, resident.id) == ["complaint_received", "complaint_received"]
    dispatched = client.post(
        f"/api/v1/complaints/{by_nik['id']}/transitions",
        headers=operator.headers,
        json={"action": "dispatch"},
    )
    assert dispatched.status_code == 200
    assert kinds_for(app, resident.id)[-1] == "complaint_dispatched"
    # The NIK only finds the account: the report never keeps it.
    detail = client.get(f"/api/v1/complaints/{by_nik['id']}", headers=operator.headers)
    assert nik not in detail.get_data(as_text=True)


def test_the_channel_needs_its_contact_and_staff_only_may_file(
    client: FlaskClient,
    categories: dict[str, str],
    operator: Person,
    pupr_officer: Person,
    resident: Person,
) -> None:
    waste = categories["waste"]
    no_phone = client.post(ASSISTED, headers=operator.headers, json=assisted(waste, "sms"))
    assert "resident.phone" in problem(no_phone, 422)["errors"]["json"]
    no_email = client.post(ASSISTED, headers=operator.headers, json=assisted(waste, "email"))
    assert "resident.email" in problem(no_email, 422)["errors"]["json"]
    not_mobile = client.post(
        ASSISTED, headers=operator.headers, json=assisted(waste, "phone", phone="12345")
    )
    problem(not_mobile, 422)
    as_app = client.post(ASSISTED, headers=operator.headers, json=assisted(waste, "app"))
    problem(as_app, 422)
    problem(client.post(ASSISTED, headers=resident.headers, json=assisted(waste)), 403)
    # An officer files under their own agency's categories only.
    other_agency = client.post(
        ASSISTED, headers=pupr_officer.headers, json=assisted(waste, phone="081234567890")
    )
    problem(other_agency, 403)
    own = client.post(
        ASSISTED,
        headers=pupr_officer.headers,
        json=assisted(categories["road_damage"], "walk_in"),
    )
    assert own.status_code == 201, own.get_json()
    assert own.get_json()["history"][0]["actor_role"] == "officer"


def test_assisted_reports_meet_the_same_questions_and_stops(
    client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    body = assisted(categories["drainage"], "phone", phone="081234567890")
    stopped = client.post(
        ASSISTED, headers=operator.headers, json={**body, "answers": {"lives_at_risk": True}}
    )
    assert "112" in problem(stopped, 422, "emergency_stop")["detail"]
    filed = client.post(
        ASSISTED, headers=operator.headers, json={**body, "answers": {"water_depth_cm": 60}}
    )
    assert filed.status_code == 201
    assert filed.get_json()["answers"][0]["value"] == 60


def test_the_channel_is_counted_in_the_statistics_and_the_overview(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    operator: Person,
    resident: Person,
) -> None:
    start = utcnow()
    submit(client, resident.headers, categories["waste"])
    for channel, contact in (("phone", {"phone": "081234567890"}), ("walk_in", {})):
        response = client.post(
            ASSISTED,
            headers=operator.headers,
            json=assisted(categories["waste"], channel, **contact),
        )
        assert response.status_code == 201
    with app.app_context():
        counts = statistics.channel_counts(start=start, end=utcnow())
    assert counts == {
        "app": 1,
        "open311": 0,
        "walk_in": 1,
        "phone": 1,
        "whatsapp": 0,
        "sms": 0,
        "email": 0,
    }
    today = workcalendar.local_date(utcnow()).isoformat()
    overview = client.get(
        "/api/v1/ops/overview",
        headers=operator.headers,
        query_string={"from": today, "to": today},
    )
    assert overview.status_code == 200, overview.get_json()
    by_channel = overview.get_json()["complaints"]["by_channel"]
    assert by_channel["phone"] >= 1 and by_channel["walk_in"] >= 1
    assert sum(by_channel.values()) == overview.get_json()["complaints"]["opened"]
