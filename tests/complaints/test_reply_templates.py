"""Reply templates: kept by operators and admins, checked when saved, rendered in the resident's
language into the timeline and the push, applied by themselves on an action."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import formatting
from binjai_api.complaints import reply_templates
from binjai_api.extensions import db
from binjai_api.notifications import service as notifications_service
from binjai_api.notifications.models import Notification
from binjai_api.workcalendar import service as workcalendar
from tests.complaints.conftest import Person, make_person
from tests.complaints.desk_helpers import problem
from tests.complaints.helpers import act, kinds_for, submit

TEMPLATES = "/api/v1/complaint-reply-templates"
INDONESIAN_MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]
DISPATCHED = (
    "Laporan {tracking_number} ({category}) diteruskan ke {agency}, paling lambat {deadline}. "
    "Salam, {officer_role}."
)
DISPATCHED_EN = (
    "Report {tracking_number} ({category}) was sent to {agency}, due by {deadline}. "
    "Regards, {officer_role}."
)


def create(client: FlaskClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"name": "Diteruskan", "body": DISPATCHED, "body_en": DISPATCHED_EN, **fields}
    return client.post(TEMPLATES, headers=headers, json=body)


def latest_push(app: Flask, user_id: str, language: str) -> tuple[str, str]:
    with app.app_context():
        notification = db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == uuid.UUID(user_id))
            .order_by(Notification.created_at.desc())
        ).first()
        assert notification is not None
        return notifications_service.render_texts(notification, language)


def long_date(due_at: str, language: str) -> str:
    moment = workcalendar.local_date(datetime.fromisoformat(due_at.replace("Z", "+00:00")))
    return formatting.long_date(moment, language)


def test_operators_keep_templates_and_officers_only_read_them(
    client: FlaskClient,
    categories: dict[str, str],
    operator: Person,
    pupr_officer: Person,
    resident: Person,
) -> None:
    created = create(client, operator.headers, action="dispatch")
    assert created.status_code == 201, created.get_json()
    template = created.get_json()
    assert template["action"] == "dispatch" and template["auto_apply"] is False
    listed = client.get(TEMPLATES, headers=pupr_officer.headers, query_string={"action": "resolve"})
    assert listed.status_code == 200 and listed.get_json() == []
    listed = client.get(
        TEMPLATES, headers=pupr_officer.headers, query_string={"action": "dispatch"}
    )
    assert [t["id"] for t in listed.get_json()] == [template["id"]]
    problem(create(client, pupr_officer.headers), 403)
    problem(client.get(TEMPLATES, headers=resident.headers), 403)
    changed = client.patch(
        f"{TEMPLATES}/{template['id']}", headers=operator.headers, json={"name": "Baru"}
    )
    assert changed.status_code == 200 and changed.get_json()["name"] == "Baru"
    deleted = client.delete(f"{TEMPLATES}/{template['id']}", headers=operator.headers)
    assert deleted.status_code == 204
    problem(client.get(f"{TEMPLATES}/{template['id']}", headers=operator.headers), 404)


def test_unknown_placeholders_are_refused_when_the_template_is_saved(
    client: FlaskClient, operator: Person
) -> None:
    response = create(client, operator.headers, body="Laporan {nomor} diterima {tracking_number}")
    body = problem(response, 422)
    assert "{nomor}" in body["errors"]["json"]["body"][0]
    problem(create(client, operator.headers, body_en="Due {deadline:%Y}"), 422)
    problem(create(client, operator.headers, body="Kurung { tidak seimbang"), 422)
    literal = create(client, operator.headers, body="Kurung {{kurawal}} untuk {tracking_number}")
    assert literal.status_code == 201, literal.get_json()


def test_a_dispatch_with_a_template_puts_its_text_in_the_timeline_and_the_push(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    template = create(client, operator.headers, action="dispatch").get_json()
    report = submit(client, resident.headers, categories["road_damage"])
    dispatched = act(client, operator.headers, report["id"], "dispatch", template_id=template["id"])
    assert dispatched.status_code == 200, dispatched.get_json()
    body = dispatched.get_json()
    deadline = long_date(body["due_at"], "id")  # e.g. "12 Desember 2026"
    assert deadline.split()[1] in INDONESIAN_MONTHS
    expected = (
        f"Laporan {report['tracking_number']} (Jalan rusak / berlubang) diteruskan ke "
        f"{body['agency_name']}, paling lambat {deadline}. "
        "Salam, Operator Binjai Command Center."
    )
    timeline = client.get(f"/api/v1/complaints/{report['id']}", headers=resident.headers)
    assert timeline.get_json()["history"][-1]["note"] == expected
    assert kinds_for(app, resident.id)[-1] == "complaint_reply"
    title, text = latest_push(app, resident.id, "id")
    assert text == expected and report["tracking_number"] in title
    _title_en, text_en = latest_push(app, resident.id, "en")
    assert text_en.startswith(f"Report {report['tracking_number']} (Damaged road / pothole)")
    assert long_date(body["due_at"], "en") in text_en
    assert "Binjai Command Center operator" in text_en


def test_the_resident_reads_the_template_in_their_own_language(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    english = make_person(app, client)
    changed = client.patch("/api/v1/me", headers=english.headers, json={"language": "en"})
    assert changed.status_code == 200, changed.get_json()
    template = create(client, operator.headers, action="dispatch").get_json()
    report = submit(client, english.headers, categories["road_damage"])
    act(client, operator.headers, report["id"], "dispatch", template_id=template["id"])
    detail = client.get(f"/api/v1/complaints/{report['id']}", headers=english.headers).get_json()
    note = detail["history"][-1]["note"]
    assert note.startswith(f"Report {report['tracking_number']} (Damaged road / pothole) was sent")
    assert note.endswith("Regards, Binjai Command Center operator.")


def test_overrides_and_a_note_beside_the_template(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    template = create(
        client,
        operator.headers,
        action="resolve",
        body="Selesai oleh {officer_role} pada {deadline}.",
        body_en="Resolved by {officer_role} on {deadline}.",
    ).get_json()
    report = submit(client, resident.headers, categories["road_damage"])
    act(client, operator.headers, report["id"], "dispatch")
    resolved = act(
        client,
        pupr_officer.headers,
        report["id"],
        "resolve",
        template_id=template["id"],
        template_overrides={"deadline": "hari ini"},
        note="Lubang ditambal aspal dingin.",
    )
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    expected = "Selesai oleh petugas Dinas Pekerjaan Umum dan Penataan Ruang pada hari ini."
    assert body["resolution_note"] == expected + "\n\nLubang ditambal aspal dingin."
    bad = act(
        client,
        operator.headers,
        report["id"],
        "close",
        template_id=template["id"],
        template_overrides={"nomor": "1"},
    )
    assert "template_overrides" in problem(bad, 422)["errors"]["json"]


def test_a_template_of_another_action_or_category_is_refused(
    client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> None:
    for_resolve = create(client, operator.headers, action="resolve").get_json()
    for_waste = create(
        client, operator.headers, action="dispatch", category_id=categories["waste"]
    ).get_json()
    report = submit(client, resident.headers, categories["road_damage"])
    for template in (for_resolve, for_waste):
        refused = act(
            client, operator.headers, report["id"], "dispatch", template_id=template["id"]
        )
        assert "template_id" in problem(refused, 422)["errors"]["json"]
    unknown = act(client, operator.headers, report["id"], "dispatch", template_id=str(uuid.uuid4()))
    problem(unknown, 422)
    # A resident never answers with a staff template.
    resident_reply = client.post(
        f"/api/v1/complaints/{report['id']}/comments",
        headers=resident.headers,
        json={"template_id": for_resolve["id"]},
    )
    problem(resident_reply, 403)


def test_an_automatic_template_applies_when_staff_write_nothing(
    client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> None:
    for_all = create(client, operator.headers, action="dispatch", auto_apply=True).get_json()
    for_roads = create(
        client,
        operator.headers,
        action="dispatch",
        category_id=categories["road_damage"],
        auto_apply=True,
        body="Jalan: {tracking_number}",
        body_en="Road: {tracking_number}",
    ).get_json()
    road = submit(client, resident.headers, categories["road_damage"])
    waste = submit(client, resident.headers, categories["waste"])
    written = submit(client, resident.headers, categories["waste"])
    road_note = act(client, operator.headers, road["id"], "dispatch").get_json()
    waste_note = act(client, operator.headers, waste["id"], "dispatch").get_json()
    own_note = act(client, operator.headers, written["id"], "dispatch", note="Catatan sendiri")

    def last_note(view: dict[str, Any], headers: dict[str, str]) -> str:
        detail = client.get(f"/api/v1/complaints/{view['id']}", headers=headers).get_json()
        return str(detail["history"][-1]["note"])

    assert last_note(road_note, resident.headers) == f"Jalan: {road['tracking_number']}"
    assert last_note(waste_note, resident.headers).startswith(
        f"Laporan {waste['tracking_number']} (Sampah)"
    )
    assert last_note(own_note.get_json(), resident.headers) == "Catatan sendiri"
    # One automatic template per action and category: a second is a conflict.
    second = create(client, operator.headers, action="dispatch", auto_apply=True)
    problem(second, 409, "auto_template_exists")
    # Switching the first off frees the slot.
    client.patch(
        f"{TEMPLATES}/{for_all['id']}", headers=operator.headers, json={"is_active": False}
    )
    assert create(client, operator.headers, action="dispatch", auto_apply=True).status_code == 201
    assert for_roads["auto_apply"] is True
    # Comments never apply by themselves.
    problem(create(client, operator.headers, action="comment", auto_apply=True), 422)


def test_a_comment_with_a_template_is_what_the_resident_reads(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    template = create(
        client,
        operator.headers,
        action="comment",
        body="Mohon foto tambahan untuk {tracking_number}.",
        body_en="Please send another photo of {tracking_number}.",
    ).get_json()
    report = submit(client, resident.headers, categories["road_damage"])
    posted = client.post(
        f"/api/v1/complaints/{report['id']}/comments",
        headers=operator.headers,
        json={"template_id": template["id"]},
    )
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["body"] == f"Mohon foto tambahan untuk {report['tracking_number']}."
    thread = client.get(f"/api/v1/complaints/{report['id']}/comments", headers=resident.headers)
    assert thread.get_json()[0]["body"] == posted.get_json()["body"]
    _title, text_en = latest_push(app, resident.id, "en")
    assert text_en == f"Please send another photo of {report['tracking_number']}."
    empty = client.post(
        f"/api/v1/complaints/{report['id']}/comments", headers=operator.headers, json={}
    )
    problem(empty, 422)


def test_the_placeholder_check_names_the_known_placeholders(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problems = reply_templates.placeholder_errors("{tracking_number} {unknown}")
    assert problems and "{unknown}" in problems[0] and "{officer_role}" in problems[0]
    assert reply_templates.placeholder_errors("{tracking_number} {deadline}") == []


def test_the_demo_templates_load_once_and_answer_a_road_report(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    with app.app_context():
        assert reply_templates.seed_demo_templates() == 6
        assert reply_templates.seed_demo_templates() == 0  # seed-demo runs on every start
    listed = client.get(TEMPLATES, headers=operator.headers, query_string={"page_size": 100})
    assert {t["action"] for t in listed.get_json()} >= {"dispatch", "reject", "resolve", "comment"}
    assert all(t["is_demo"] for t in listed.get_json())
    road = submit(client, resident.headers, categories["road_damage"])
    waste = submit(client, resident.headers, categories["waste"])
    for created in (road, waste):
        assert act(client, operator.headers, created["id"], "dispatch").status_code == 200
    road_note = client.get(f"/api/v1/complaints/{road['id']}", headers=resident.headers)
    waste_note = client.get(f"/api/v1/complaints/{waste['id']}", headers=resident.headers)
    assert road_note.get_json()["history"][-1]["note"].startswith(
        f"Laporan jalan rusak {road['tracking_number']} telah diteruskan"
    )
    assert waste_note.get_json()["history"][-1]["note"].startswith(
        f"Terima kasih. Laporan {waste['tracking_number']} (Sampah) telah diverifikasi"
    )
