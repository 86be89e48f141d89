"""The demo data makes the IKM and the public page meaningful at once, and loads only once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.extensions import db
from binjai_api.quality import performance
from binjai_api.quality.models import SurveyAnswer

HTML = {"Accept": "text/html"}


def _answers(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(SurveyAnswer)) or 0)


def test_seeding_twice_adds_no_answers_and_the_figures_have_grades(
    app: Flask, client: FlaskClient, runner: Any, auth_headers: Any
) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    loaded = _answers(app)
    assert loaded > 0
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _answers(app) == loaded

    figures = client.get("/api/v1/public/performance").get_json()
    graded = [row for row in figures["agencies"] if row["ikm"]["grade"]]
    assert len(graded) >= 3  # several agencies with an IKM and a grade this month
    assert figures["summary"]["ikm"]["answers"] >= 5
    # Traffic (DISHUB) has 3 answers: withheld, and the smallest other agency (PERKIM, 6) with
    # it, or the city's IKM minus the agencies shown would give DISHUB's.
    # (Agencies listed for their demo reports alone have no answers: withheld, and nothing
    # to subtract.)
    withheld = {
        row["agency"]["code"]
        for row in figures["agencies"]
        if row["ikm"]["suppressed"] and row["ikm"]["answers"]
    }
    assert withheld == {"DISHUB", "PERKIM"}
    report = client.get("/api/v1/ops/ikm", headers=auth_headers("operator")).get_json()
    services = [s for agency in report["agencies"] for s in agency["services"]]
    shown = [s for s in services if not s["suppressed"]]
    assert len(shown) >= 4 and all(s["answers"] >= 5 for s in shown)
    assert {s["grade"]["letter"] for s in shown} >= {"B", "C"}
    # The demo keeps one service below the threshold each month, to show it.
    with app.app_context():
        month = performance.current_month()
    monthly = client.get(f"/api/v1/ops/ikm?period={month}", headers=auth_headers("operator"))
    hidden = [
        s
        for agency in monthly.get_json()["agencies"]
        for s in agency["services"]
        if s["suppressed"]
    ]
    # ... and the smallest other one with it, or the month's total minus the services shown
    # would give the 3 answers about traffic (secondary suppression).
    assert {s["service_key"]: s["answers"] for s in hidden} == {"traffic": 3, "street_light": 6}
    assert all(s["ikm"] is None for s in hidden)
    page = client.get("/api/v1/public/performance", headers=HTML).get_data(as_text=True)
    assert "Dinas Pekerjaan Umum" in page or "PUPR" in page
