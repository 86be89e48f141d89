"""The life of a report through the one transitions table: who may do what, when, and what
follows (history, deadlines, notifications)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.db import utcnow
from binjai_api.workcalendar import service as workcalendar
from tests import factories
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, kinds_for, submit, update_complaint
from tests.platform.test_errors import assert_problem


def test_the_whole_life_of_a_report_is_in_its_history(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    created = submit(client, resident.headers, categories["road_damage"])
    cid = created["id"]
    dispatched = act(client, operator.headers, cid, "dispatch")
    assert dispatched.status_code == 200, dispatched.get_json()
    assert dispatched.get_json()["status"] == "dispatched"
    assert dispatched.get_json()["agency_code"] == "PUPR"
    assigned = act(client, pupr_officer.headers, cid, "assign").get_json()
    assert assigned["assignee_id"] == pupr_officer.id and assigned["status"] == "dispatched"
    assert act(client, pupr_officer.headers, cid, "start").get_json()["status"] == "in_progress"
    resolved = act(client, pupr_officer.headers, cid, "resolve", note="Lubang sudah ditambal.")
    body = resolved.get_json()
    assert body["status"] == "resolved" and body["is_open"] is False
    assert body["resolution_note"] == "Lubang sudah ditambal." and body["due_at"] is None
    rated = act(client, resident.headers, cid, "rate", rating=5, note="Cepat, terima kasih")
    assert rated.status_code == 200, rated.get_json()
    assert rated.get_json()["status"] == "closed" and rated.get_json()["rating"] == 5

    history = client.get(f"/api/v1/complaints/{cid}", headers=resident.headers).get_json()
    steps = [(h["action"], h["from_status"], h["to_status"]) for h in history["history"]]
    assert steps == [
        ("submit", None, "submitted"),
        ("dispatch", "submitted", "dispatched"),
        ("assign", "dispatched", "dispatched"),
        ("start", "dispatched", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("rate", "resolved", "closed"),
    ]
    assert history["history"][4]["note"] == "Lubang sudah ditambal."
    assert all(h["created_at"] for h in history["history"])
    assert [h["actor_role"] for h in history["history"]] == [
        "reporter",
        "operator",
        "officer",
        "officer",
        "officer",
        "reporter",
    ]
    # The resident is told at each step, and nobody is told of their own action; closing the
    # report ends the service, so the resident is invited to the SKM survey (quality/).
    assert kinds_for(app, resident.id) == [
        "complaint_received",
        "complaint_dispatched",
        "complaint_in_progress",
        "complaint_resolved",
        "survey_invitation",
    ]
    assert kinds_for(app, pupr_officer.id) == []


def test_an_illegal_transition_is_a_409(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    assert_problem(
        act(client, operator.headers, cid, "resolve", note="done"), 409, "invalid_transition"
    )
    assert_problem(act(client, operator.headers, cid, "close"), 409, "invalid_transition")
    act(client, operator.headers, cid, "dispatch")
    assert_problem(act(client, operator.headers, cid, "dispatch"), 409, "invalid_transition")
    assert_problem(
        act(client, operator.headers, cid, "reject", note="spam"), 409, "invalid_transition"
    )
    assert_problem(act(client, pupr_officer.headers, cid, "nap"), 422, "validation_error")


def test_who_may_take_which_action(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    # Verification is the Command Center's; the agency's officer and the reporter cannot.
    assert_problem(act(client, pupr_officer.headers, cid, "dispatch"), 403, "forbidden")
    assert_problem(act(client, resident.headers, cid, "dispatch"), 403, "forbidden")
    act(client, operator.headers, cid, "dispatch")
    assert_problem(
        act(client, resident.headers, cid, "resolve", note="I fixed it myself"), 403, "forbidden"
    )
    assert_problem(act(client, operator.headers, cid, "assign"), 403, "forbidden")


def test_reject_needs_a_reason_and_tells_the_reporter(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> None:
    cid = submit(client, resident.headers, categories["other"])["id"]
    missing = act(client, operator.headers, cid, "reject")
    assert set(assert_problem(missing, 422, "validation_error")["errors"]["json"]) == {"note"}
    rejected = act(client, operator.headers, cid, "reject", note="Bukan kewenangan Pemko")
    body = rejected.get_json()
    assert body["status"] == "rejected" and body["due_at"] is None
    assert body["history"][-1]["note"] == "Bukan kewenangan Pemko"
    assert kinds_for(app, resident.id)[-1] == "complaint_rejected"


def test_dispatch_and_transfer_set_the_follow_up_deadline_in_working_days(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
    perkim_officer: Person,
) -> None:
    cid = submit(client, resident.headers, categories["drainage"])["id"]
    dispatched = act(client, operator.headers, cid, "dispatch").get_json()
    dispatched_at = datetime.fromisoformat(dispatched["history"][-1]["created_at"])
    with app.app_context():
        assert datetime.fromisoformat(dispatched["due_at"]) == workcalendar.add_working_days(
            dispatched_at, 5
        )
    # Pretend PUPR sat on it for two weeks: the report is overdue.
    update_complaint(app, cid, due_at=utcnow() - timedelta(days=1))
    overdue = client.get(f"/api/v1/complaints/{cid}", headers=pupr_officer.headers).get_json()
    assert overdue["is_overdue"] is True
    perkim = factories.agency_id(app, "PERKIM")
    no_reason = act(client, pupr_officer.headers, cid, "transfer", agency_id=perkim)
    assert_problem(no_reason, 422, "validation_error")
    moved = act(
        client, pupr_officer.headers, cid, "transfer", agency_id=perkim, note="Saluran Perkim"
    )
    body = moved.get_json()
    assert moved.status_code == 200, body
    assert body["agency_code"] == "PERKIM" and body["status"] == "dispatched"
    assert body["is_overdue"] is False
    transferred_at = datetime.fromisoformat(body["history"][-1]["created_at"])
    with app.app_context():
        assert datetime.fromisoformat(body["due_at"]) == workcalendar.add_working_days(
            transferred_at, 5
        )
    last = body["history"][-1]
    assert last["from_agency_id"] == factories.agency_id(app, "PUPR")
    assert last["to_agency_id"] == perkim and last["note"] == "Saluran Perkim"
    # The report left PUPR: its officer no longer sees it; Perkim's does.
    assert_problem(
        client.get(f"/api/v1/complaints/{cid}", headers=pupr_officer.headers), 404, "not_found"
    )
    assert (
        client.get(f"/api/v1/complaints/{cid}", headers=perkim_officer.headers).status_code == 200
    )
    assert kinds_for(app, resident.id) == [
        "complaint_received",
        "complaint_dispatched",
        "complaint_transferred",
    ]
    same = act(client, perkim_officer.headers, cid, "transfer", agency_id=perkim, note="x")
    assert_problem(same, 422, "validation_error")


def _resolved(
    client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> str:
    cid = submit(client, resident.headers, categories["street_light"])["id"]
    act(client, operator.headers, cid, "dispatch")
    act(client, operator.headers, cid, "resolve", note="Lampu sudah diganti")
    return str(cid)


def test_reopen_within_seven_days_with_a_reason_restarts_the_deadline(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    perkim_officer: Person,
) -> None:
    cid = _resolved(client, categories, resident, operator)
    assert_problem(act(client, resident.headers, cid, "reopen"), 422, "validation_error")
    reopened = act(client, resident.headers, cid, "reopen", note="Lampu mati lagi")
    body = reopened.get_json()
    assert reopened.status_code == 200, body
    assert body["status"] == "reopened" and body["is_open"] and body["due_at"]
    # Nobody is told of their own action: the reporter hears nothing of the reopening.
    assert kinds_for(app, resident.id) == [
        "complaint_received",
        "complaint_dispatched",
        "complaint_resolved",
    ]
    assert act(client, perkim_officer.headers, cid, "start").get_json()["status"] == "in_progress"


def test_reopen_and_rating_close_after_seven_days(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> None:
    cid = _resolved(client, categories, resident, operator)
    update_complaint(app, cid, resolved_at=utcnow() - timedelta(days=7, minutes=1))
    late = act(client, resident.headers, cid, "reopen", note="Masih mati")
    assert_problem(late, 409, "reopen_window_passed")
    assert_problem(
        act(client, resident.headers, cid, "rate", rating=2), 409, "reopen_window_passed"
    )
    # The Command Center closes it instead.
    assert act(client, operator.headers, cid, "close").get_json()["status"] == "closed"


def test_rating_needs_a_value_from_one_to_five(
    client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> None:
    cid = _resolved(client, categories, resident, operator)
    assert_problem(act(client, resident.headers, cid, "rate"), 422, "validation_error")
    assert_problem(act(client, resident.headers, cid, "rate", rating=6), 422, "validation_error")
    assert act(client, resident.headers, cid, "rate", rating=4).get_json()["rating"] == 4
    assert_problem(act(client, resident.headers, cid, "rate", rating=5), 409, "invalid_transition")


def test_a_duplicate_follows_the_original(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
) -> None:
    original = submit(client, resident.headers, categories["waste"])["id"]
    copy = submit(client, other_resident.headers, categories["waste"])["id"]
    missing = act(client, operator.headers, copy, "mark_duplicate")
    assert_problem(missing, 422, "validation_error")
    itself = act(client, operator.headers, copy, "mark_duplicate", duplicate_of_id=copy)
    assert_problem(itself, 422, "validation_error")
    marked = act(client, operator.headers, copy, "mark_duplicate", duplicate_of_id=original)
    assert marked.get_json()["status"] == "duplicate"
    assert marked.get_json()["duplicate_of_id"] == original
    assert kinds_for(app, other_resident.id)[-1] == "complaint_duplicate"
    followed = client.get(f"/api/v1/public/complaints/{original}").get_json()
    assert followed["supporter_count"] == 1
    # The duplicate's reporter now hears about the original.
    act(client, operator.headers, original, "dispatch")
    assert kinds_for(app, other_resident.id)[-1] == "complaint_dispatched"


def test_officers_queue_filters_by_status_overdue_and_category(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    road = submit(client, resident.headers, categories["road_damage"])["id"]
    drain = submit(client, resident.headers, categories["drainage"])["id"]
    light = submit(client, resident.headers, categories["street_light"])["id"]
    for cid in (road, drain, light):
        act(client, operator.headers, cid, "dispatch")
    act(client, pupr_officer.headers, drain, "start")
    update_complaint(app, road, due_at=utcnow() - timedelta(hours=1))

    def queue(headers: dict[str, str], query: str = "") -> list[str]:
        response = client.get(f"/api/v1/complaints?page_size=100{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [c["id"] for c in response.get_json()]

    assert set(queue(pupr_officer.headers)) == {road, drain}  # never Perkim's street light
    assert set(queue(operator.headers)) == {road, drain, light}
    assert queue(pupr_officer.headers, "&overdue=true") == [road]
    assert queue(pupr_officer.headers, "&overdue=false") == [drain]
    assert queue(pupr_officer.headers, "&status=in_progress") == [drain]
    assert queue(pupr_officer.headers, f"&category_id={categories['road_damage']}") == [road]
    perkim = factories.agency_id(app, "PERKIM")
    assert queue(operator.headers, f"&agency_id={perkim}") == [light]
    assert queue(pupr_officer.headers, "&sort=due_at")[0] == road
    act(client, pupr_officer.headers, drain, "assign")
    assert queue(pupr_officer.headers, "&assigned_to_me=true") == [drain]
    assert_problem(client.get("/api/v1/complaints", headers=resident.headers), 403, "forbidden")


def test_supporters_are_notified_like_the_reporter(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
) -> None:
    cid = submit(client, resident.headers, categories["waste"])["id"]
    supported = client.post(f"/api/v1/complaints/{cid}/support", headers=other_resident.headers)
    assert supported.status_code == 201
    act(client, operator.headers, cid, "dispatch")
    act(client, operator.headers, cid, "resolve", note="Sampah sudah diangkut")
    assert kinds_for(app, other_resident.id) == ["complaint_dispatched", "complaint_resolved"]
    assert kinds_for(app, resident.id)[-2:] == ["complaint_dispatched", "complaint_resolved"]
