"""The overview's closings and durations read from the step rows (ops/figures.py) equal the
from-scratch computation over the histories, after a random sequence of submissions,
transitions, reassignments and applications written as the services write them (through the
session, flushed and committed as they go); and rebuilding the rows from the histories (the
migration's backfill, the benchmark's bulk load) gives them back."""

from __future__ import annotations

import importlib.util
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import service as complaints_service
from binjai_api.complaints.models import Complaint, ComplaintCategory, ComplaintEvent
from binjai_api.complaints.states import OPEN_STATUSES
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.licensing.models import PermitApplication, PermitApplicationEvent, PermitType
from binjai_api.ops import service as ops_service
from binjai_api.ops.figures import (
    rebuild_days,
    rebuild_figures,
    rebuild_report_days,
    step_figures,
    step_figures_from_rows,
)
from binjai_api.ops.models import ReportDay, StepDay, StepFact
from binjai_api.workcalendar.service import local_date as workcalendar_date
from tests import factories
from tests.complaints.conftest import make_person
from tests.complaints.helpers import act, submit
from tests.ops.conftest import City, add_application, add_complaint, wib

START = wib("2026-10-01", 8)
NOW = wib("2027-01-04", 10)
AGENCIES = ("PUPR", "PERKIM", "DINKES", "DPMPTSP")

# Each status's next steps: (action, next status). Closed statuses may still move on (a
# resolved report is closed or reopened), as the state machines allow.
COMPLAINT_STEPS = {
    "submitted": [
        ("dispatch", "dispatched"),
        ("dispatch", "dispatched"),
        ("reject", "rejected"),
        ("mark_duplicate", "duplicate"),
    ],
    "dispatched": [("start", "in_progress"), ("resolve", "resolved")],
    "in_progress": [("resolve", "resolved")],
    "resolved": [("close", "closed"), ("reopen", "reopened"), ("reopen", "reopened")],
    "reopened": [("start", "in_progress"), ("resolve", "resolved")],
}
APPLICATION_STEPS = {
    "submitted": [
        ("verify", "technical_review"),
        ("verify", "technical_review"),
        ("request_correction", "correction_requested"),
        ("reject", "rejected"),
    ],
    "correction_requested": [("resubmit", "submitted"), ("withdraw", "withdrawn")],
    "technical_review": [("approve", "approved"), ("reject", "rejected")],
    "approved": [("issue", "issued"), ("withdraw", "withdrawn")],
    "issued": [("revoke", "revoked")],
}


@dataclass
class Move:
    at: datetime
    kind: str  # complaint | application | reassign
    item_id: uuid.UUID
    action: str = ""
    source: str = ""
    target: str = ""
    deadline: datetime | None = None
    agency_id: uuid.UUID | None = None


def _later(rng: random.Random, at: datetime) -> datetime:
    # Whole seconds, sometimes the same instant (two steps recorded together).
    return at + timedelta(seconds=rng.choice([0, 1, 60, 3600, 86400]) * rng.randint(0, 60))


def _simulate(rng: random.Random, city: City, types: list[PermitType], applicant: str) -> None:
    """Items created up front (their submission), then every later step applied in time order
    across items, a flush per step and a commit now and then, as requests would."""
    moves: list[Move] = []
    for n in range(40):
        created = START + timedelta(seconds=rng.randint(0, 80 * 86400))
        add_complaint(
            city,
            f"R{n}",
            agency=rng.choice(AGENCIES),
            created=created,
            status="submitted",
            area="K1",
            lat=None,
            lon=None,
            due_at=None,
            events=[],
        )
        item = city.complaints[f"R{n}"]
        status, at = "submitted", created
        for _ in range(rng.randint(0, 6)):
            if status not in COMPLAINT_STEPS:
                break
            if rng.random() < 0.2:  # the BCC sends the report to another agency
                at = _later(rng, at)
                agency = city.agencies[rng.choice(AGENCIES)]
                moves.append(Move(at, "reassign", item, agency_id=agency))
            action, target = rng.choice(COMPLAINT_STEPS[status])
            at = _later(rng, at)
            deadline = None if rng.random() < 0.3 else at + timedelta(hours=rng.randint(-48, 48))
            moves.append(Move(at, "complaint", item, action, status, target, deadline))
            status = target
    for n in range(25):
        submitted = START + timedelta(seconds=rng.randint(0, 80 * 86400))
        sla = None if rng.random() < 0.3 else submitted + timedelta(days=rng.randint(1, 20))
        add_application(
            city,
            f"P{n}",
            permit_type=rng.choice(types),
            applicant_id=applicant,
            status="submitted",
            submitted=submitted,
            sla_due_at=sla,
            action_due_at=None,
            events=[("submit", "draft", "submitted", submitted)],
        )
        item = city.applications[f"P{n}"]
        status, at = "submitted", submitted
        for _ in range(rng.randint(0, 6)):
            if status not in APPLICATION_STEPS:
                break
            action, target = rng.choice(APPLICATION_STEPS[status])
            at = _later(rng, at)
            moves.append(Move(at, "application", item, action, status, target))
            status = target
    db.session.commit()
    moves.sort(key=lambda move: move.at)
    for move in moves:
        if move.kind == "reassign":
            assert move.agency_id is not None
            db.session.get_one(Complaint, move.item_id).agency_id = move.agency_id
        elif move.kind == "complaint":
            db.session.get_one(Complaint, move.item_id).status = move.target
            db.session.add(
                ComplaintEvent(
                    complaint_id=move.item_id,
                    action=move.action,
                    from_status=move.source,
                    to_status=move.target,
                    due_at=move.deadline,
                    created_at=move.at,
                )
            )
        else:
            db.session.get_one(PermitApplication, move.item_id).status = move.target
            db.session.add(
                PermitApplicationEvent(
                    application_id=move.item_id,
                    action=move.action,
                    from_status=move.source,
                    to_status=move.target,
                    actor_kind="test",
                    created_at=move.at,
                )
            )
        db.session.flush()
        if rng.random() < 0.3:
            db.session.commit()
    db.session.commit()


def _periods(rng: random.Random) -> list[ops_service.Period]:
    periods = [
        ops_service.Period(date(2026, 10, 1), date(2027, 1, 4)),  # everything
        ops_service.Period(date(2026, 12, 6), date(2027, 1, 4)),  # the last 30 days
    ]
    for _ in range(6):
        first = date(2026, 10, 1) + timedelta(days=rng.randint(0, 90))
        periods.append(ops_service.Period(first, first + timedelta(days=rng.randint(0, 30))))
    return periods


def _figures(overview: dict[str, Any]) -> dict[str, Any]:
    return {
        "complaints_by_area": overview["complaints_by_area"],
        "by_channel": overview["complaints"]["by_channel"],
        **{
            domain: {
                key: overview[domain][key]
                for key in (
                    "by_status",
                    "opened",
                    "closed",
                    "closed_within_deadline",
                    "durations",
                    "overdue_by_agency",
                )
            }
            for domain in ("complaints", "permit_applications")
        },
    }


def _compare_everywhere(city: City, periods: list[ops_service.Period]) -> int:
    """Every period in every scope: the step rows' figures against the histories'."""
    compared = 0
    for period in periods:
        for agency_id in (None, *(city.agencies[code] for code in AGENCIES)):
            window: dict[str, Any] = {"period": period, "agency_id": agency_id, "now": NOW}
            kept = ops_service.compute_overview(**window)
            afresh = ops_service.compute_overview(**window, from_scratch=True)
            assert _figures(kept) == _figures(afresh), (period, agency_id)
            compared += 1
    return compared


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_step_rows_give_the_figures_of_the_histories(app: Flask, city: City, seed: int) -> None:
    rng = random.Random(seed)
    with app.app_context():
        types = list(db.session.scalars(sa.select(PermitType)))
        applicant = str(db.session.scalar(sa.select(PermitApplication.applicant_id).limit(1)))
        _simulate(rng, city, types, applicant)
        periods = _periods(rng)
        everything = periods[0]
        steps = step_figures(start=everything.start, end=everything.end)
        # The run exercised what the rows must get right: reports closed more than once,
        # resolutions after a reopening, resubmitted applications, reassigned reports.
        closings = steps[("complaint", "closing")]
        assert closings.count > closings.items
        reopened = db.session.scalar(
            sa.select(sa.func.count()).where(ComplaintEvent.action == "reopen")
        )
        resubmitted = db.session.scalar(
            sa.select(sa.func.count()).where(PermitApplicationEvent.action == "resubmit")
        )
        assert reopened and resubmitted
        assert _compare_everywhere(city, periods) == len(periods) * 5

        # The day rows kept with each step equal the step rows summed afresh, and give the
        # figures the step rows give (the percentiles exactly).
        days = _day_rows()
        assert days
        for period in periods:
            for agency_id in (None, *(city.agencies[code] for code in AGENCIES)):
                window = {"start": period.start, "end": period.end, "agency_id": agency_id}
                assert step_figures(**window) == step_figures_from_rows(**window)
        rebuild_days(db.session.connection())
        db.session.commit()
        assert _day_rows() == days
        db.session.execute(sa.delete(StepDay))
        _later_backfill("0016_ops_step_days")
        db.session.commit()
        assert _day_rows() == days
        # So do the reports' day rows (submissions, moves, reassignments), and their migration's.
        reports = _report_rows()
        assert {dimension for _, _, dimension, _ in reports} == {
            "status",
            "channel",
            "area",
            "app_status",
        }
        rebuild_report_days(db.session.connection())
        db.session.commit()
        assert _report_rows() == reports
        db.session.execute(sa.delete(ReportDay))
        _later_backfill("0017_ops_report_days")
        _later_backfill("0018_ops_application_days")
        db.session.commit()
        assert _report_rows() == reports

        kept = _rows()
        rebuild_figures()
        db.session.commit()
        assert _rows() == kept
        assert _day_rows() == days
        _compare_everywhere(city, periods)

        # The migration's own backfill (its SQL as it landed) gives the same rows.
        db.session.execute(sa.delete(StepFact))
        _migration_backfill()
        db.session.commit()
        assert _rows() == kept


def _migration_backfill() -> None:
    """Run migration 0015's backfill in the session's transaction."""
    path = Path(__file__).parents[2] / "migrations" / "versions" / "0015_ops_step_facts.py"
    spec = importlib.util.spec_from_file_location("migration_0015_ops_step_facts", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration._backfill()


def _report_rows() -> dict[tuple[Any, ...], int]:
    """The reports' day rows that count something (a move leaves emptied rows at 0)."""
    return {
        (row.scope_id, row.day, row.dimension, row.key): row.count
        for row in db.session.scalars(sa.select(ReportDay))
        if row.count
    }


def _later_backfill(name: str) -> None:
    """Run a later migration's backfill of day rows in the session's transaction."""
    path = Path(__file__).parents[2] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration._backfill()


def _day_rows() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """The day rows that count something (a reassignment leaves an agency's emptied rows at 0)."""
    return {
        (row.domain, row.step, row.scope_id, row.day, row.bucket): (
            row.count,
            row.with_deadline,
            row.on_time,
        )
        for row in db.session.scalars(sa.select(StepDay))
        if (row.count, row.with_deadline, row.on_time) != (0, 0, 0)
    }


def _rows() -> tuple[list[tuple[Any, ...]], dict[uuid.UUID, list[Any]]]:
    """Every step row; and each item's previous closings as a sorted list (of two closings at
    the same instant, which one names the other as its previous is arbitrary)."""
    rows = db.session.scalars(sa.select(StepFact)).all()
    previous: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        previous.setdefault(row.item_id, []).append(row.previous_closing_at)
    described = sorted(
        (
            row.event_id,
            row.step,
            row.domain,
            row.item_id,
            row.agency_id,
            row.permit_type_id,
            row.ended_at,
            row.seconds,
            row.has_deadline,
            row.on_time,
        )
        for row in rows
    )
    return described, {
        item: sorted(values, key=lambda v: (v is not None, v)) for item, values in previous.items()
    }


def test_a_reassigned_report_moves_its_figures_to_the_new_agency(app: Flask, city: City) -> None:
    with app.app_context():
        add_complaint(
            city,
            "M1",
            agency="PUPR",
            created=wib("2026-12-21"),
            status="resolved",
            area="K1",
            lat=None,
            lon=None,
            due_at=None,
            events=[
                ("dispatch", "submitted", "dispatched", wib("2026-12-21", 12), None),
                ("resolve", "dispatched", "resolved", wib("2026-12-22"), wib("2026-12-23")),
            ],
        )
        db.session.commit()
        period = ops_service.Period(date(2026, 12, 21), date(2026, 12, 31))
        window = {"start": period.start, "end": period.end}
        pupr, perkim = city.agencies["PUPR"], city.agencies["PERKIM"]
        before = step_figures(**window, agency_id=perkim).get(("complaint", "closing"))
        db.session.get_one(Complaint, city.complaints["M1"]).agency_id = perkim
        db.session.commit()
        after = step_figures(**window, agency_id=perkim)[("complaint", "closing")]
        assert after.items == (before.items if before else 0) + 1
        assert after.on_time == (before.on_time if before else 0) + 1
        rows = db.session.scalars(
            sa.select(StepFact).where(StepFact.item_id == city.complaints["M1"])
        ).all()
        assert {row.agency_id for row in rows} == {perkim}
        assert pupr not in {row.agency_id for row in rows}
        # The day rows moved with them: each agency's figures from them equal its step rows'.
        for agency_id in (pupr, perkim, None):
            scoped = {**window, "agency_id": agency_id}
            assert step_figures(**scoped) == step_figures_from_rows(**scoped)
        kept = _day_rows()
        rebuild_days(db.session.connection())
        assert _day_rows() == kept
        reports = _report_rows()
        rebuild_report_days(db.session.connection())
        assert _report_rows() == reports


def test_the_services_steps_leave_their_rows(
    app: Flask, client: FlaskClient, rollback_db: None
) -> None:
    """Through the API: a report verified, transferred, resolved, reopened and resolved again
    leaves one verification, one first resolution and two closings, all under the agency it
    ended with, and the overview of every scope equals the from-scratch one."""
    with app.app_context():
        complaints_service.seed_categories()
        category = db.session.scalars(
            complaints_service.categories_query(include_inactive=True).where(
                ComplaintCategory.code == "drainage"
            )
        ).one()
        category_id = str(category.id)
    resident = make_person(app, client)
    operator = make_person(app, client, "operator")
    pupr = make_person(app, client, "officer", agency_code="PUPR")
    perkim = make_person(app, client, "officer", agency_code="PERKIM")
    perkim_id = factories.agency_id(app, "PERKIM")
    cid = submit(client, resident.headers, category_id)["id"]
    steps = [
        (operator, "dispatch", {}),
        (pupr, "transfer", {"agency_id": perkim_id, "note": "Saluran Perkim"}),
        (perkim, "resolve", {"note": "Sudah dibersihkan"}),
        (resident, "reopen", {"note": "Masih tersumbat"}),
        (perkim, "resolve", {"note": "Dibersihkan lagi"}),
    ]
    for person, action, fields in steps:
        response = act(client, person.headers, cid, action, **fields)
        assert response.status_code == 200, (action, response.get_json())
    with app.app_context():
        rows = db.session.scalars(
            sa.select(StepFact).where(StepFact.item_id == uuid.UUID(cid))
        ).all()
        assert sorted(row.step for row in rows) == [
            "closing",
            "closing",
            "resolution",
            "verification",
        ]
        assert {str(row.agency_id) for row in rows} == {perkim_id}
        closings = sorted((r for r in rows if r.step == "closing"), key=lambda r: r.ended_at)
        assert closings[0].previous_closing_at is None
        assert closings[1].previous_closing_at == closings[0].ended_at
        today = workcalendar_date(utcnow())
        period = ops_service.Period(today - timedelta(days=1), today)
        for agency_id in (None, uuid.UUID(perkim_id), uuid.UUID(factories.agency_id(app, "PUPR"))):
            window: dict[str, Any] = {"period": period, "agency_id": agency_id, "now": utcnow()}
            kept = _figures(ops_service.compute_overview(**window))
            assert kept == _figures(ops_service.compute_overview(**window, from_scratch=True))
            if agency_id == uuid.UUID(perkim_id):
                assert kept["complaints"]["closed"] == 1


def test_the_rebuild_command_gives_back_the_rows_kept(app: Flask, city: City) -> None:
    """`flask rebuild-ops-figures` (after rows were written straight into the tables) derives
    the step rows and both kinds of day rows the services kept."""
    with app.app_context():
        kept = (_rows(), _day_rows(), _report_rows())
        assert all(kept)
        for model in (StepFact, StepDay, ReportDay):
            db.session.execute(sa.delete(model))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["rebuild-ops-figures"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (_rows(), _day_rows(), _report_rows()) == kept


def test_the_open_reports_index_covers_the_open_statuses() -> None:
    """The partial index open_counts reads lists exactly the open statuses (states.py)."""
    index = next(
        index
        for index in Complaint.__table__.indexes
        if index.name == "ix_complaints_open_agency_area"
    )
    listed = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    assert str(index.dialect_options["postgresql"]["where"]) == f"status IN ({listed})"
