"""GET /api/v1/ops/escalations: filters, who sees what, and the CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.ops.escalation import CSV_COLUMNS
from tests import factories
from tests.complaints.helpers import act, submit
from tests.ops.test_escalation import Staff, road_damage_category, run_job, utc
from tests.patching import patch_service
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")

URL = "/api/v1/ops/escalations"


@pytest.fixture
def escalated(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two escalations of one PUPR report (verification, then follow-up) and one of a report
    that went to PERKIM."""
    from binjai_api.complaints import service as complaints_service

    category = road_damage_category(app)
    operator = Staff(app, client, "operator")
    reporter = Staff(app, client, "citizen")
    pupr_report = submit(client, reporter.headers, category)
    perkim_report = submit(client, reporter.headers, category, title="Atap pasar bocor")
    due = utc(pupr_report["due_at"])
    run_job(app, due + timedelta(hours=1))  # both reports: verification
    patch_service(monkeypatch, complaints_service, "utcnow", lambda: due + timedelta(hours=2))
    act(client, operator.headers, pupr_report["id"], "dispatch")
    perkim = factories.agency_id(app, "PERKIM")
    act(client, operator.headers, perkim_report["id"], "dispatch", agency_id=perkim)
    follow_up_due = utc(
        client.get(f"/api/v1/complaints/{pupr_report['id']}", headers=operator.headers).get_json()[
            "due_at"
        ]
    )
    run_job(app, follow_up_due + timedelta(hours=1))  # both reports: follow-up
    return {
        "operator": operator,
        "reporter": reporter,
        "pupr_report": pupr_report["id"],
        "perkim_report": perkim_report["id"],
        "pupr": factories.agency_id(app, "PUPR"),
        "perkim": perkim,
    }


def _listed(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.get_json()
    return [(row["item_id"], row["step"]) for row in response.get_json()]


def test_operators_see_every_escalation_newest_first_and_filter_them(
    client: FlaskClient, escalated: dict[str, Any]
) -> None:
    headers = escalated["operator"].headers
    pupr_report, perkim_report = escalated["pupr_report"], escalated["perkim_report"]

    everything = client.get(URL, headers=headers)
    assert everything.headers["X-Pagination"]
    listed = _listed(everything)
    assert len(listed) == 4
    assert {step for _, step in listed[:2]} == {"follow_up"}  # the latest round first
    assert {step for _, step in listed[2:]} == {"verification"}

    one_item = client.get(URL, query_string={"item_id": pupr_report}, headers=headers)
    assert _listed(one_item) == [(pupr_report, "follow_up"), (pupr_report, "verification")]
    by_agency = client.get(URL, query_string={"agency_id": escalated["perkim"]}, headers=headers)
    assert _listed(by_agency) == [(perkim_report, "follow_up")]
    by_type = client.get(URL, query_string={"item_type": "queue_session"}, headers=headers)
    assert _listed(by_type) == []
    oldest_first = client.get(URL, query_string={"sort": "deadline"}, headers=headers)
    assert [step for _, step in _listed(oldest_first)][:2] == ["verification", "verification"]
    row = everything.get_json()[0]
    assert set(row) == {*CSV_COLUMNS}
    assert row["link"] == f"/api/v1/complaints/{row['item_id']}"


def test_an_officer_sees_only_their_own_agency(
    client: FlaskClient,
    escalated: dict[str, Any],
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    perkim_officer = auth_headers("officer", agency_code="PERKIM")

    mine = client.get(URL, headers=perkim_officer)

    # Not the verification escalations: the BCC's own step, with no agency.
    assert _listed(mine) == [(escalated["perkim_report"], "follow_up")]
    assert_problem(
        client.get(URL, query_string={"agency_id": escalated["pupr"]}, headers=perkim_officer),
        403,
        "forbidden",
    )
    theirs = {"item_id": escalated["pupr_report"]}
    assert _listed(client.get(URL, query_string=theirs, headers=perkim_officer)) == []


def test_residents_and_anonymous_callers_are_refused(
    client: FlaskClient, escalated: dict[str, Any]
) -> None:
    assert_problem(client.get(URL, headers=escalated["reporter"].headers), 403, "forbidden")
    assert client.get(URL).status_code == 401


def test_a_bad_filter_is_422(client: FlaskClient, escalated: dict[str, Any]) -> None:
    headers = escalated["operator"].headers
    for query in ({"item_type": "pothole"}, {"item_id": "nope"}, {"sort": "title"}):
        assert_problem(
            client.get(URL, query_string=query, headers=headers), 422, "validation_error"
        )


def test_the_whole_filtered_list_downloads_as_csv(
    client: FlaskClient, escalated: dict[str, Any]
) -> None:
    headers = {**escalated["operator"].headers, "Accept": "text/csv"}

    response = client.get(
        URL, query_string={"item_id": escalated["pupr_report"], "page_size": 1}, headers=headers
    )

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    # Every matching escalation, not one page of them.
    assert [(r["item_id"], r["step"]) for r in rows] == [
        (escalated["pupr_report"], "follow_up"),
        (escalated["pupr_report"], "verification"),
    ]
    assert all(
        r["deadline"].endswith("Z") and r["agency_id"] in ("", escalated["pupr"]) for r in rows
    )
