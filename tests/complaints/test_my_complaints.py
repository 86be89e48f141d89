"""My reports (`GET /complaints/mine`), read as plain rows in one statement and written in their
JSON form in one pass: field for field what ComplaintListItemSchema dumps of `list_view`, with
an exact total at once, and the same order, filters and headers."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.service import Principal
from binjai_api.complaints import service
from binjai_api.complaints.models import Complaint
from binjai_api.complaints.schemas import ComplaintListItemSchema
from binjai_api.complaints.states import Status
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests.complaints.conftest import Person, make_person
from tests.complaints.helpers import jpeg_with_gps, submit, update_complaint, upload
from tests.queries import counting_queries

MINE = "/api/v1/complaints/mine"


def _expected(app: Flask, who: Person, role: str, language: str, ids: list[str]) -> list[Any]:
    """What marshmallow dumps of `list_view` for these reports, loaded through the ORM."""
    principal = Principal(kind="user", id=uuid.UUID(who.id), role=role)
    with app.test_request_context(headers={"Accept-Language": language}):
        dumped = []
        for complaint_id in ids:
            complaint = db.session.get(Complaint, uuid.UUID(complaint_id))
            assert complaint is not None
            view = service.list_view(complaint, principal)
            dumped.append(json.loads(json.dumps(ma.Schema.dump(ComplaintListItemSchema(), view))))
        return dumped


def _orm_order(app: Flask, who: Person, sort: str) -> list[str]:
    """The caller's reports in the order the list promises: the sort column, then the id."""
    column = getattr(Complaint, sort.lstrip("-"))
    with app.app_context():
        found = db.session.scalars(
            sa.select(Complaint.id)
            .where(Complaint.reporter_id == uuid.UUID(who.id))
            .order_by(column.desc() if sort.startswith("-") else column.asc(), Complaint.id)
        )
        return [str(complaint_id) for complaint_id in found]


@pytest.mark.parametrize("role", ["citizen", "operator"])
def test_my_reports_are_written_as_marshmallow_dumps_their_list_view(
    app: Flask, client: FlaskClient, categories: dict[str, str], role: str
) -> None:
    """Every status, with and without photos, coordinates, an address, a deadline (passed or
    not), a resolution, a duplicate and an assignee (shown to staff only), timestamps with
    microseconds, in Indonesian and English: each item holds the same fields, in the same order,
    with the same values as marshmallow's dump of `list_view`, and the list is in the same order
    as the ORM sorts the reports."""
    resident = make_person(app, client)
    # Staff read their own reports too (filed for a walk-in, say): they are handed over here.
    who = resident if role == "citizen" else make_person(app, client, role)
    colleague = make_person(app, client, "operator")
    ids = {
        status: submit(
            client,
            resident.headers,
            categories["waste" if n % 2 else "road_damage"],
            title=f"Laporan {n}",
            type="aspiration" if n == 3 else "complaint",
            privacy="anonymous" if n == 4 else "public",
        )["id"]
        for n, status in enumerate(Status)
    }
    with_photos = ids[Status.SUBMITTED]
    for _ in range(2):
        assert upload(client, resident.headers, with_photos, jpeg_with_gps()).status_code == 201
    dispatched = ids[Status.DISPATCHED]
    assert upload(client, resident.headers, dispatched, jpeg_with_gps()).status_code == 201
    now = utcnow()
    for status, complaint_id in ids.items():
        update_complaint(app, complaint_id, status=status.value, reporter_id=uuid.UUID(who.id))
    update_complaint(app, ids[Status.SUBMITTED], due_at=now - timedelta(hours=1))
    update_complaint(
        app,
        ids[Status.IN_PROGRESS],
        due_at=now + timedelta(days=2),
        assignee_id=uuid.UUID(colleague.id),
        supporter_count=4,
    )
    update_complaint(
        app,
        ids[Status.RESOLVED],
        due_at=None,
        resolution_note="Sudah ditambal",
        resolved_at=now.replace(microsecond=123),
        lat=None,
        lon=None,
        address=None,
        kelurahan_code=None,
        kecamatan_code=None,
    )
    update_complaint(
        app, ids[Status.DUPLICATE], due_at=None, duplicate_of_id=uuid.UUID(ids[Status.CLOSED])
    )
    for language in ("id", "en"):
        response = client.get(
            f"{MINE}?page_size=100", headers={**who.headers, "Accept-Language": language}
        )
        assert response.status_code == 200
        assert response.headers["Content-Language"] == language
        items = json.loads(response.get_data(as_text=True))
        listed = [item["id"] for item in items]
        assert listed == _orm_order(app, who, "-created_at")
        expected = _expected(app, who, role, language, listed)
        for item, dumped in zip(items, expected, strict=True):
            assert list(item) == list(dumped)
            assert item == dumped
    by_id = {item["id"]: item for item in items}
    assert [p["created_at"] for p in by_id[with_photos]["photos"]] == sorted(
        p["created_at"] for p in by_id[with_photos]["photos"]
    )
    assert len(by_id[with_photos]["photos"]) == 2 and by_id[with_photos]["is_overdue"] is True
    assigned = by_id[ids[Status.IN_PROGRESS]]["assignee_id"]
    assert assigned == (colleague.id if role == "operator" else None)


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "updated_at", "-updated_at"])
def test_my_reports_sort_and_page_as_the_orm_orders_them(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person, sort: str
) -> None:
    """Each sort pages through the reports in the order the ORM sorts them (ties broken by id:
    the reports here share one updated_at), each report once, photos kept with their report."""
    ids = [submit(client, resident.headers, categories["waste"])["id"] for _ in range(5)]
    upload(client, resident.headers, ids[1], jpeg_with_gps())
    upload(client, resident.headers, ids[1], jpeg_with_gps())
    same_time = utcnow()
    for complaint_id in ids[2:]:
        update_complaint(app, complaint_id, updated_at=same_time)
    pages = []
    for page in (1, 2, 3):
        response = client.get(
            f"{MINE}?sort={sort}&page_size=2&page={page}", headers=resident.headers
        )
        assert json.loads(response.headers["X-Pagination"])["total"] == 5
        pages.append([item["id"] for item in response.get_json()])
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == _orm_order(app, resident, sort)


def test_my_reports_total_is_exact_at_once_and_a_page_past_the_end_still_counts(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
) -> None:
    """The total is counted with the page, never kept: a new report shows in it at once; a
    page past the end is empty with the true total and its links; filters narrow both."""
    empty = client.get(MINE, headers=resident.headers)
    assert empty.get_json() == [] and json.loads(empty.headers["X-Pagination"])["total"] == 0
    ids = [submit(client, resident.headers, categories["waste"])["id"] for _ in range(3)]
    submit(client, other_resident.headers, categories["waste"])
    first = client.get(f"{MINE}?page_size=2", headers=resident.headers)
    assert json.loads(first.headers["X-Pagination"])["total"] == 3
    ids.append(submit(client, resident.headers, categories["drainage"])["id"])
    again = client.get(f"{MINE}?page_size=2", headers=resident.headers)
    assert json.loads(again.headers["X-Pagination"])["total"] == 4
    assert again.get_json()[0]["id"] == ids[-1]

    with counting_queries(app, touching="complaints") as statements:
        past = client.get(f"{MINE}?page_size=2&page=5", headers=resident.headers)
    assert past.status_code == 200 and past.get_json() == []
    assert json.loads(past.headers["X-Pagination"])["total"] == 4
    assert 'rel="prev"' in past.headers["Link"] and past.headers["ETag"].startswith('W/"')
    assert len(statements) == 2  # the page, then the total alone

    update_complaint(app, ids[0], status="dispatched")
    dispatched = client.get(f"{MINE}?status=dispatched,resolved", headers=resident.headers)
    assert [item["id"] for item in dispatched.get_json()] == [ids[0]]
    assert json.loads(dispatched.headers["X-Pagination"])["total"] == 1
    since = utcnow()
    update_complaint(app, ids[1], updated_at=since + timedelta(seconds=1))
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    synced = client.get(f"{MINE}?updated_after={stamp}", headers=resident.headers)
    assert [item["id"] for item in synced.get_json()] == [ids[1]]


def test_my_reports_page_is_one_statement_with_its_photos_and_total(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    """Whatever the page size and the photos, the list reads the database once (after the
    caller's session check): the page, what each row shows and the total."""
    for n in range(3):
        complaint_id = submit(client, resident.headers, categories["waste"])["id"]
        for _ in range(n):
            upload(client, resident.headers, complaint_id, jpeg_with_gps())
    for size in (1, 3):
        with counting_queries(app, touching="complaints") as statements:
            response = client.get(f"{MINE}?page_size={size}", headers=resident.headers)
        assert response.status_code == 200 and len(response.get_json()) == size
        assert len(statements) == 1, statements
    polled = client.get(MINE, headers=resident.headers)
    with counting_queries(app, touching="complaints") as statements:
        unchanged = client.get(
            MINE, headers={**resident.headers, "If-None-Match": polled.headers["ETag"]}
        )
    assert unchanged.status_code == 304 and len(statements) == 1
