"""The overdue list: every domain merged, most overdue first, filters, escalations, CSV, and a
query count that does not grow with the list."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db
from tests.ops.conftest import NOW, OVERDUE, City, end_of, wib
from tests.queries import counting_queries

pytestmark = pytest.mark.usefixtures("frozen_now")


def _list(client: FlaskClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(OVERDUE, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def test_items_of_every_domain_come_most_overdue_first(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    items = _list(client, staff("operator")).get_json()
    assert [(i["item_type"], i["item_id"]) for i in items] == [
        ("permit_application", str(city.applications["A2"])),  # 28 Dec 12:00 WIB
        ("complaint", str(city.complaints["C3"])),  # end of 28 Dec
        ("queue_session", str(city.queue_day)),  # the session ended 29 Dec 12:00
        ("complaint", str(city.complaints["C6"])),  # end of 30 Dec
        ("permit_application", str(city.applications["A4"])),  # 31 Dec 12:00
    ]
    first = items[0]
    assert first["agency"]["code"] == "DPMPTSP"
    assert (first["step"], first["waiting_on"]) == ("applicant_correction", "applicant")
    assert first["due_at"] == "2026-12-28T05:00:00.000000Z"
    assert first["overdue_seconds"] == int((NOW - wib("2026-12-28", 12)).total_seconds())
    assert first["link"] == f"/api/v1/permit-applications/{city.applications['A2']}"
    lateness = [i["overdue_seconds"] for i in items]
    assert lateness == sorted(lateness, reverse=True)
    session = items[2]
    assert (session["agency"]["code"], session["waiting_on"]) == ("DINKES", "facility_staff")
    c3 = items[1]
    assert (c3["agency"]["code"], c3["step"], c3["waiting_on"]) == (
        "PERKIM",
        "verification",
        "bcc_operator",
    )


def test_filters_narrow_the_list(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = staff("operator")
    complaints = _list(client, headers, item_type="complaint").get_json()
    assert {i["item_id"] for i in complaints} == {
        str(city.complaints["C3"]),
        str(city.complaints["C6"]),
    }
    applicants = _list(client, headers, waiting_on="applicant").get_json()
    assert [i["item_id"] for i in applicants] == [str(city.applications["A2"])]
    dinkes = _list(client, headers, agency_id=str(city.agencies["DINKES"])).get_json()
    assert [i["item_type"] for i in dinkes] == ["queue_session", "permit_application"]
    response = client.get(OVERDUE, query_string={"waiting_on": "nobody"}, headers=headers)
    assert response.status_code == 422


def test_the_list_is_paginated(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    response = _list(client, staff("operator"), page=2, page_size=2)
    assert json.loads(response.headers["X-Pagination"])["total"] == 5
    assert [i["item_id"] for i in response.get_json()] == [
        str(city.queue_day),
        str(city.complaints["C6"]),
    ]


def test_an_item_shows_the_escalation_of_its_current_deadline(
    client: FlaskClient,
    city: City,
    staff: Callable[..., dict[str, str]],
    escalate: Callable[..., None],
) -> None:
    c3 = city.complaints["C3"]
    escalate("complaint", c3, end_of("2026-12-20"), wib("2026-12-21"))  # an earlier deadline
    escalate("complaint", c3, end_of("2026-12-28"), wib("2026-12-29", 0, 5))
    items = {i["item_id"]: i for i in _list(client, staff("operator")).get_json()}
    assert items[str(c3)]["escalated_at"] == "2026-12-28T17:05:00.000000Z"
    assert items[str(city.complaints["C6"])]["escalated_at"] is None


def test_the_csv_download_is_the_whole_list(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = {**staff("operator"), "Accept": "text/csv"}
    response = client.get(OVERDUE, query_string={"page_size": 1}, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 5
    assert rows[0]["item_id"] == str(city.applications["A2"])
    assert rows[0]["agency_code"] == "DPMPTSP"
    assert rows[0]["due_at"] == "2026-12-28T05:00:00Z"
    assert rows[2]["item_type"] == "queue_session"


def test_the_query_count_does_not_grow_with_the_list(
    app: Flask, client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = staff("operator")
    with counting_queries(app) as few:
        _list(client, headers)
    with app.app_context():
        template = db.session.get(Complaint, city.complaints["C3"])
        assert template is not None
        for serial in range(30):
            db.session.add(
                Complaint(
                    tracking_number=f"BJI-Q-{serial:06d}",
                    type="complaint",
                    category_id=template.category_id,
                    agency_id=template.agency_id,
                    title="Laporan",
                    description="Uji",
                    privacy="public",
                    status="submitted",
                    due_at=end_of("2026-12-28"),
                    created_at=wib("2026-12-21"),
                    updated_at=wib("2026-12-21"),
                )
            )
        db.session.commit()
    with counting_queries(app) as many:
        response = _list(client, headers, page_size=30)
    assert len(response.get_json()) == 30
    assert len(many) == len(few)


def test_a_moment_before_every_deadline_nothing_is_overdue(
    client: FlaskClient,
    city: City,
    staff: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from binjai_api.ops import service

    monkeypatch.setattr(service, "utcnow", lambda: datetime.fromisoformat("2026-12-28T04:00+00:00"))
    assert _list(client, staff("operator")).get_json() == []


def test_the_overview_counts_the_same_overdue_items_as_the_list(
    client: FlaskClient, city: City, staff: Callable[..., dict[str, str]]
) -> None:
    headers = staff("operator")
    items = _list(client, headers).get_json()
    listed: dict[tuple[str, str], int] = {}
    for item in items:
        key = (item["item_type"], item["agency"]["code"])
        listed[key] = listed.get(key, 0) + 1
    overview = client.get(
        "/api/v1/ops/overview", query_string={"to": "2026-12-31"}, headers=headers
    ).get_json()
    domains = {
        "complaint": "complaints",
        "permit_application": "permit_applications",
        "queue_session": "queue_bookings",
    }
    counted = {
        (item_type, row["agency"]["code"]): row["overdue"]
        for item_type, domain in domains.items()
        for row in overview[domain]["overdue_by_agency"]
    }
    assert counted == listed
