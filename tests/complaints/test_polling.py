"""My reports, polled by the app: a weak ETag from the page's rows, 304 until something the
list shows changes (a status, a supporter, the deadline passing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, submit, update_complaint
from tests.queries import counting_queries

MINE = "/api/v1/complaints/mine"


def _poll(client: FlaskClient, who: Person, etag: str) -> tuple[int, str]:
    response = client.get(MINE, headers={**who.headers, "If-None-Match": etag})
    return response.status_code, response.headers["ETag"]


def test_my_reports_answer_304_until_one_changes(
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    first = client.get(MINE, headers=resident.headers)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert _poll(client, resident, etag) == (304, etag)

    # Another resident's "saya juga" changes supporter_count on my list.
    assert (
        client.post(f"/api/v1/complaints/{cid}/support", headers=other_resident.headers).status_code
        == 201
    )
    status, supported = _poll(client, resident, etag)
    assert status == 200 and supported != etag
    assert _poll(client, resident, supported) == (304, supported)

    assert act(client, operator.headers, cid, "dispatch").status_code == 200
    status, dispatched = _poll(client, resident, supported)
    assert status == 200 and dispatched != supported


def test_a_deadline_passing_changes_my_reports_etag(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    first = client.get(MINE, headers=resident.headers)
    assert first.get_json()[0]["is_overdue"] is False
    # Only the clock passes the deadline: the row's updated_at is kept as it was.
    with app.app_context():
        updated_at = db.session.get(Complaint, uuid.UUID(cid)).updated_at  # type: ignore[union-attr]
    update_complaint(app, cid, due_at=utcnow() - timedelta(minutes=1), updated_at=updated_at)
    later = client.get(MINE, headers={**resident.headers, "If-None-Match": first.headers["ETag"]})
    assert later.status_code == 200
    assert later.get_json()[0]["is_overdue"] is True
    assert later.get_json()[0]["updated_at"] == first.get_json()[0]["updated_at"]


def test_my_reports_read_their_agency_once_not_their_categorys_too(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    ids = [submit(client, resident.headers, categories["road_damage"])["id"] for _ in range(2)]
    with counting_queries(app, touching="FROM agencies") as agencies:
        listed = client.get(MINE, headers=resident.headers).get_json()
    assert len(agencies) <= 1, agencies
    assert {row["id"] for row in listed} == set(ids)
    for row in listed:
        one = client.get(f"/api/v1/complaints/{row['id']}", headers=resident.headers).get_json()
        assert {key: one[key] for key in row} == row
