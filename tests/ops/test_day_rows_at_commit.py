"""The day rows' deltas are summed in the session and sent once, just before COMMIT: a
rolled-back SAVEPOINT takes its deltas with it, a released one hands them to its parent, and
writers committing at the same instant leave day rows equal to a recount."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import direct_sql
from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db
from binjai_api.licensing.models import PermitApplication
from binjai_api.ops import figures
from binjai_api.ops.models import ReportDay, StepDay
from tests.complaints.conftest import make_person
from tests.complaints.helpers import act, report
from tests.concurrency import run_together
from tests.ops.conftest import City, add_complaint, wib
from tests.ops.test_escalation import road_damage_category


def _report_rows() -> dict[tuple[Any, ...], int]:
    return {
        (row.scope_id, row.day, row.dimension, row.key): row.count
        for row in db.session.scalars(sa.select(ReportDay))
        if row.count
    }


def _recount_reports() -> dict[tuple[Any, ...], int]:
    """ops_report_days as counted afresh from the reports and applications."""
    counts: dict[tuple[Any, ...], int] = {}
    for model, count in (
        (Complaint, figures._count_report),
        (PermitApplication, figures._count_application),
    ):
        columns = [getattr(model, name) for name in figures._TRACKED[model]]
        for row in db.session.execute(sa.select(*columns)):
            count(counts, row, +1)
    return {key: value for key, value in counts.items() if value}


def _step_rows() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    return {
        (row.domain, row.step, row.scope_id, row.day, row.bucket): (
            row.count,
            row.with_deadline,
            row.on_time,
        )
        for row in db.session.scalars(sa.select(StepDay))
        if (row.count, row.with_deadline, row.on_time) != (0, 0, 0)
    }


def _recount_steps() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    days: dict[tuple[Any, ...], list[int]] = {}
    figures._count_in_days(days, db.session.execute(sa.select(figures._facts)).mappings())
    return {key: (c, w, o) for key, (c, w, o) in days.items() if (c, w, o) != (0, 0, 0)}


def _pending() -> bool:
    """Whether the session holds deltas not sent yet."""
    kept = db.session.info.get(figures._DELTAS) or {}
    return any(
        any(any(v) for v in deltas.steps.values()) or any(deltas.reports.values())
        for deltas in kept.values()
    )


def _report(city: City, name: str) -> None:
    add_complaint(
        city,
        name,
        agency="PUPR",
        created=wib("2026-12-22"),
        status="submitted",
        area="K1",
        lat=None,
        lon=None,
        due_at=None,
        events=[],
    )


def test_a_rolled_back_savepoint_leaves_no_deltas(app: Flask, city: City) -> None:
    with app.app_context():
        before = _report_rows()
        assert before == _recount_reports()
        savepoint = db.session.begin_nested()
        _report(city, "rolled back")
        db.session.flush()
        assert _pending()
        assert _report_rows() == before  # counted in the session; no day row locked yet
        savepoint.rollback()
        assert not _pending()
        db.session.commit()
        assert _report_rows() == before == _recount_reports()


def test_a_released_savepoint_hands_its_deltas_to_the_commit(app: Flask, city: City) -> None:
    with app.app_context():
        before = _report_rows()
        savepoint = db.session.begin_nested()
        _report(city, "kept")
        savepoint.commit()
        assert _pending()
        assert _report_rows() == before
        db.session.commit()
        assert not _pending()
        after = _report_rows()
        assert after != before
        assert after == _recount_reports()


@pytest.mark.postgres_only
@pytest.mark.usefixtures("committed_db")
def test_writers_at_the_same_instant_leave_day_rows_equal_to_a_recount(app: Flask) -> None:
    writers = 8  # 9 logins: under the per-address login limit
    client = app.test_client()
    category = road_damage_category(app)
    residents = [make_person(app, client) for _ in range(writers)]
    operator = make_person(app, client, "operator")
    order = iter(range(writers))  # each thread its own resident (under the per-account limit)

    def submit_as_own_resident(each: Any) -> Any:
        resident = residents[next(order)]
        return each.post("/api/v1/complaints", headers=resident.headers, json=report(category))

    responses = run_together(app, writers, submit_as_own_resident)
    assert [r.status_code for r in responses] == [201] * writers
    ids = iter([r.get_json()["id"] for r in responses])

    def dispatch(each: Any) -> Any:
        return act(each, operator.headers, next(ids), "dispatch")

    responses = run_together(app, writers, dispatch)
    assert [r.status_code for r in responses] == [200] * writers
    with app.app_context():
        reports = _report_rows()
        assert reports == _recount_reports()
        assert (
            sum(
                count
                for (scope, _day, dimension, key), count in reports.items()
                if scope == figures.EVERY_SCOPE and dimension == "status" and key == "dispatched"
            )
            == writers
        )
        assert _step_rows() == _recount_steps()
        assert sum(count for count, _w, _o in _step_rows().values()) > 0


def test_a_submission_s_day_rows_go_in_one_statement_compiled_once(
    app: Flask, client: FlaskClient
) -> None:
    """The report days' upsert of a submission (its status, channel and area in the city's and
    its agency's scope: several rows) is one statement, compiled once (a multi-row VALUES was
    compiled afresh at every commit; direct_sql sends it on the cursor, with no execution
    context, from its own cache), its rows in key order."""
    category = road_damage_category(app)
    resident = make_person(app, client)
    client.post("/api/v1/complaints", headers=resident.headers, json=report(category))  # warm
    sent: list[tuple[str, Any, Any]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, params: Any, context: Any, *_: Any
    ) -> None:
        if "ops_report_days" in statement:
            sent.append((statement, params, context))

    with app.app_context():
        engine = db.engine
        before = _report_rows()
    compiled_by_direct_sql = len(direct_sql._compiled)
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        created = client.post("/api/v1/complaints", headers=resident.headers, json=report(category))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert created.status_code == 201
    assert len(sent) == 1
    _statement, params, context = sent[0]
    assert context is None  # sent by direct_sql
    assert len(direct_sql._compiled) == compiled_by_direct_sql  # nothing compiled afresh
    # Status, channel and area, in the city's scope and PUPR's: rows executed one by one
    # (SQLite), or arrays unnested (PostgreSQL).
    rows = params if isinstance(params, list) else list(zip(*params.values(), strict=True))
    assert len(rows) == 6
    assert rows == sorted(rows, key=lambda row: (str(row[0]), *row[1:]))
    with app.app_context():
        after = _report_rows()
        assert after == _recount_reports()
        assert sum(after.values()) - sum(before.values()) == 6
