""" "Is it fixed?": asked once after the working days, "no" reopens, "yes" closes, counted."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.quality import fix_checks
from binjai_api.quality.models import FixCheck
from tests.complaints.helpers import act, kinds_for, submit, update_complaint
from tests.quality.conftest import Person, invitation_ids, make_person

PERFORMANCE = "/api/v1/public/performance"


def _resolved(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    reporter: Person,
    operator: Person,
    officer: Person,
    *,
    days_ago: int,
    supporter: Person | None = None,
) -> str:
    complaint = submit(client, reporter.headers, categories["road_damage"])
    cid = complaint["id"]
    if supporter is not None:
        supported = client.post(f"/api/v1/complaints/{cid}/support", headers=supporter.headers)
        assert supported.status_code in (200, 201), supported.get_json()
    assert act(client, operator.headers, cid, "dispatch").status_code == 200
    assert act(client, officer.headers, cid, "resolve", note="Sudah ditambal.").status_code == 200
    update_complaint(app, cid, resolved_at=utcnow() - timedelta(days=days_ago))
    return str(cid)


def _ask(app: Flask) -> fix_checks.AskReport:
    with app.app_context():
        return fix_checks.ask_due_fix_checks()


def _complaint(app: Flask, cid: str) -> Complaint:
    with app.app_context():
        found = db.session.get(Complaint, uuid.UUID(cid))
        assert found is not None
        db.session.expunge(found)
        return found


def test_a_report_is_asked_once_after_the_working_days_and_not_before(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    due = _resolved(
        app,
        client,
        categories,
        resident,
        operator,
        pupr_officer,
        days_ago=30,
        supporter=other_resident,
    )
    # 14 working days are more than 14 calendar days: resolved 15 days ago is not due yet.
    recent = _resolved(app, client, categories, resident, operator, pupr_officer, days_ago=15)
    report = _ask(app)
    assert (report.asked, report.people) == (1, 2)
    assert "complaint_fix_check" in kinds_for(app, resident.id)
    assert "complaint_fix_check" in kinds_for(app, other_resident.id)
    assert _ask(app).asked == 0  # claimed: never asked twice
    with app.app_context():
        asked = db.session.scalars(sa.select(FixCheck.complaint_id)).all()
        assert [str(c) for c in asked] == [due]
    assert recent != due
    seen = client.get(f"/api/v1/complaints/{due}/fix-check", headers=resident.headers)
    assert seen.status_code == 200 and seen.get_json()["state"] == "open"


def test_no_reopens_the_report_with_the_reason_and_one_answer_settles_it(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = _resolved(
        app,
        client,
        categories,
        resident,
        operator,
        pupr_officer,
        days_ago=30,
        supporter=other_resident,
    )
    _ask(app)
    path = f"/api/v1/complaints/{cid}/fix-check"
    without_reason = client.post(path, headers=other_resident.headers, json={"fixed": False})
    assert without_reason.status_code == 422
    # Past the reporter's own 7-day window, the question's window still lets them reopen.
    answered = client.post(
        path, headers=other_resident.headers, json={"fixed": False, "reason": "Masih berlubang."}
    )
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["answer"] == "not_fixed"
    complaint = _complaint(app, cid)
    assert complaint.status == "reopened" and complaint.due_at is not None
    assert complaint.resolved_at is None
    detail = client.get(f"/api/v1/complaints/{cid}", headers=resident.headers).get_json()
    last = detail["history"][-1]
    assert (last["action"], last["note"]) == ("reopen", "Masih berlubang.")
    again = client.post(path, headers=resident.headers, json={"fixed": True})
    assert again.status_code == 409 and again.get_json()["code"] == "fix_check_answered"
    assert "complaint_reopened" in kinds_for(app, resident.id)
    assert invitation_ids(app, resident.id) == []  # not ended: no survey


def test_yes_closes_the_report_and_invites_the_reporter_to_the_survey(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = _resolved(app, client, categories, resident, operator, pupr_officer, days_ago=30)
    _ask(app)
    answered = client.post(
        f"/api/v1/complaints/{cid}/fix-check", headers=resident.headers, json={"fixed": True}
    )
    assert answered.status_code == 200, answered.get_json()
    assert _complaint(app, cid).status == "closed"
    assert len(invitation_ids(app, resident.id)) == 1


def test_no_answer_leaves_the_report_resolved_and_strangers_see_no_question(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = _resolved(app, client, categories, resident, operator, pupr_officer, days_ago=30)
    _ask(app)
    stranger = make_person(app, client)
    path = f"/api/v1/complaints/{cid}/fix-check"
    assert client.get(path, headers=stranger.headers).status_code == 404
    refused = client.post(path, headers=stranger.headers, json={"fixed": True})
    assert refused.status_code == 404
    with app.app_context():
        db.session.execute(sa.update(FixCheck).values(answer_until=FixCheck.asked_at))
        db.session.commit()
    late = client.post(path, headers=resident.headers, json={"fixed": True})
    assert late.status_code == 409 and late.get_json()["code"] == "fix_check_expired"
    assert _complaint(app, cid).status == "resolved"


def test_the_answers_are_counted_in_the_public_statistics(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
    auth_headers: Any,
) -> None:
    ids = [
        _resolved(app, client, categories, resident, operator, pupr_officer, days_ago=30)
        for _ in range(3)
    ]
    _ask(app)
    client.post(
        f"/api/v1/complaints/{ids[0]}/fix-check", headers=resident.headers, json={"fixed": True}
    )
    client.post(
        f"/api/v1/complaints/{ids[1]}/fix-check",
        headers=resident.headers,
        json={"fixed": False, "reason": "Belum."},
    )
    figures = client.get(PERFORMANCE).get_json()
    assert figures["summary"]["complaints"]["fix_checks"] == {
        "asked": 3,
        "fixed": 1,
        "not_fixed": 1,
        "unanswered": 1,
    }
    [pupr] = [row for row in figures["agencies"] if row["agency"]["code"] == "PUPR"]
    assert pupr["complaints"]["fix_checks"]["asked"] == 3
