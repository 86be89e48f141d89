"""An officer's assignments for their phone: only theirs, nearest deadline first, paginated, and
synced with `updated_after`."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.db import utcnow
from tests.complaints.conftest import Person, make_person
from tests.complaints.desk_helpers import problem
from tests.complaints.helpers import act, submit, update_complaint

MINE = "/api/v1/complaints/assigned-to-me"


def test_an_officer_lists_their_assignments_by_deadline(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    colleague = make_person(app, client, "officer", agency_code="PUPR")
    ids = []
    for _ in range(3):
        created = submit(client, resident.headers, categories["road_damage"])
        act(client, operator.headers, created["id"], "dispatch")
        ids.append(created["id"])
    later, sooner, colleagues = ids
    act(client, pupr_officer.headers, later, "assign")
    act(client, pupr_officer.headers, sooner, "assign")
    act(client, colleague.headers, colleagues, "assign")
    now = utcnow()
    update_complaint(app, later, due_at=now + timedelta(days=4))
    update_complaint(app, sooner, due_at=now + timedelta(days=1))

    response = client.get(MINE, headers=pupr_officer.headers)
    assert response.status_code == 200, response.get_json()
    assert [item["id"] for item in response.get_json()] == [sooner, later]
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    paged = client.get(MINE, headers=pupr_officer.headers, query_string={"page_size": 1})
    assert [item["id"] for item in paged.get_json()] == [sooner]
    assert [i["id"] for i in client.get(MINE, headers=colleague.headers).get_json()] == [colleagues]
    problem(client.get(MINE, headers=resident.headers), 403)


def test_the_phone_syncs_changes_closed_reports_included(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    first = submit(client, resident.headers, categories["road_damage"])
    second = submit(client, resident.headers, categories["road_damage"])
    for created in (first, second):
        act(client, operator.headers, created["id"], "dispatch")
        act(client, pupr_officer.headers, created["id"], "assign")
    past = utcnow() - timedelta(hours=1)
    update_complaint(app, first["id"], updated_at=past)
    update_complaint(app, second["id"], updated_at=past)
    checkpoint = utcnow() - timedelta(minutes=1)
    resolved = act(client, pupr_officer.headers, second["id"], "resolve", note="Sudah ditambal.")
    assert resolved.status_code == 200
    since = {"updated_after": checkpoint.strftime("%Y-%m-%dT%H:%M:%SZ")}
    changed = client.get(MINE, headers=pupr_officer.headers, query_string=since).get_json()
    assert [(item["id"], item["status"]) for item in changed] == [(second["id"], "resolved")]
    # Without a checkpoint, the list is the open work only.
    open_work = client.get(MINE, headers=pupr_officer.headers).get_json()
    assert [item["id"] for item in open_work] == [first["id"]]
    resolved_only = client.get(
        MINE, headers=pupr_officer.headers, query_string={"status": "resolved"}
    ).get_json()
    assert [item["id"] for item in resolved_only] == [second["id"]]
