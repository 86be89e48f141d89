"""Object-level authorization and the reporter's privacy."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.complaints.conftest import Person
from tests.complaints.helpers import act, submit, upload
from tests.platform.test_errors import assert_problem


def test_a_resident_cannot_touch_someone_elses_report(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
) -> None:
    cid = submit(client, resident.headers, categories["waste"], privacy="confidential")["id"]
    intruder = other_resident.headers
    assert_problem(client.get(f"/api/v1/complaints/{cid}", headers=intruder), 404, "not_found")
    assert_problem(
        client.get(f"/api/v1/complaints/{cid}/comments", headers=intruder), 404, "not_found"
    )
    assert_problem(
        client.post(f"/api/v1/complaints/{cid}/comments", headers=intruder, json={"body": "hi"}),
        404,
        "not_found",
    )
    assert_problem(upload(client, intruder, cid, b"\xff\xd8\xff"), 404, "not_found")
    act(client, operator.headers, cid, "dispatch")
    act(client, operator.headers, cid, "resolve", note="Selesai")
    assert_problem(act(client, intruder, cid, "rate", rating=1), 404, "not_found")
    assert_problem(act(client, intruder, cid, "reopen", note="no"), 404, "not_found")
    mine = client.get("/api/v1/complaints/mine", headers=intruder).get_json()
    assert mine == []
    # The owner still rates it.
    assert act(client, resident.headers, cid, "rate", rating=4).status_code == 200


def test_officers_see_only_their_agencys_reports(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
    perkim_officer: Person,
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    act(client, operator.headers, cid, "dispatch")
    assert client.get(f"/api/v1/complaints/{cid}", headers=pupr_officer.headers).status_code == 200
    foreign = perkim_officer.headers
    assert_problem(client.get(f"/api/v1/complaints/{cid}", headers=foreign), 404, "not_found")
    assert_problem(act(client, foreign, cid, "start"), 404, "not_found")
    assert_problem(
        client.post(f"/api/v1/complaints/{cid}/comments", headers=foreign, json={"body": "x"}),
        404,
        "not_found",
    )
    foreign_queue = client.get("/api/v1/complaints", headers=foreign)
    assert foreign_queue.status_code == 200 and foreign_queue.get_json() == []
    own_queue = client.get("/api/v1/complaints", headers=pupr_officer.headers).get_json()
    assert [c["id"] for c in own_queue] == [cid]


def _walk(value: Any) -> str:
    return json.dumps(value)


def test_an_anonymous_reporter_is_never_exposed_to_officers_or_the_public(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    operator: Person,
    pupr_officer: Person,
) -> None:
    from tests import factories

    account = factories.make_account(app, full_name="Rahasia Sekali Binjai")
    headers = factories.login_headers(client, account)
    cid = submit(client, headers, categories["road_damage"], privacy="anonymous")["id"]
    client.post(f"/api/v1/complaints/{cid}/comments", headers=headers, json={"body": "Tolong"})
    act(client, operator.headers, cid, "dispatch")
    act(client, pupr_officer.headers, cid, "resolve", note="Sudah diperbaiki")
    act(client, headers, cid, "reopen", note="Belum beres")

    seen = [
        client.get(f"/api/v1/complaints/{cid}", headers=pupr_officer.headers).get_json(),
        client.get(f"/api/v1/complaints/{cid}", headers=operator.headers).get_json(),
        client.get("/api/v1/complaints", headers=pupr_officer.headers).get_json(),
        client.get(f"/api/v1/complaints/{cid}/comments", headers=pupr_officer.headers).get_json(),
        client.get(f"/api/v1/public/complaints/{cid}").get_json(),
        client.get("/api/v1/public/complaints").get_json(),
        client.get("/api/v1/public/complaints.geojson").get_json(),
    ]
    for body in seen:
        text = _walk(body)
        assert account.id not in text
        assert "Rahasia Sekali" not in text
        assert account.username not in text
    staff_view = seen[0]
    assert staff_view["reporter"] is None and staff_view["contact"] is None
    assert all(
        h["actor_id"] is None for h in staff_view["history"] if h["actor_role"] == "reporter"
    )
    # The reporter still sees and follows their own report.
    own = client.get(f"/api/v1/complaints/{cid}", headers=headers).get_json()
    assert own["status"] == "reopened" and own["privacy"] == "anonymous"


def test_staff_see_who_reported_a_non_anonymous_report(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    from tests import factories

    account = factories.make_account(app, full_name="Budi Santoso")
    headers = factories.login_headers(client, account)
    cid = submit(client, headers, categories["waste"])["id"]
    staff_view = client.get(f"/api/v1/complaints/{cid}", headers=operator.headers).get_json()
    assert staff_view["reporter"]["full_name"] == "Budi Santoso"
    # Never in public, though the report itself is public.
    public = client.get(f"/api/v1/public/complaints/{cid}").get_json()
    assert "Budi" not in _walk(public) and "reporter" not in public
    own = client.get(f"/api/v1/complaints/{cid}", headers=headers)
    assert own.status_code == 200 and own.headers["ETag"]
    again = client.get(
        f"/api/v1/complaints/{cid}", headers={**headers, "If-None-Match": own.headers["ETag"]}
    )
    assert again.status_code == 304
