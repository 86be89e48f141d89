"""The trail is append-only in the database, and the verifier names the first record that was
altered, removed or moved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.audit import service
from binjai_api.db import UTCDateTime
from binjai_api.extensions import db
from binjai_api.workcalendar import service as workcalendar_service
from tests.audit.helpers import records, seal
from tests.audit.tampering import triggers_bypassed

DAYS = ("2032-01-02", "2032-01-03", "2032-01-04", "2032-01-05", "2032-01-06")


@pytest.fixture
def chain(app: Flask, client: FlaskClient) -> Iterator[list[Any]]:
    """Five sealed records, one per commit, on top of whatever the trail held."""
    with app.app_context():
        for day in DAYS:
            workcalendar_service.declare_day_off(day=date.fromisoformat(day), name="Libur")
    seal(app)
    yield records(app)


def _statement(sql: str) -> sa.TextClause:
    """Raw SQL, with `:id` bound as a UUID and `:at` as an instant on either database."""
    statement = sa.text(sql)
    if ":id" in sql:
        statement = statement.bindparams(sa.bindparam("id", type_=sa.Uuid()))
    if ":at" in sql:
        statement = statement.bindparams(sa.bindparam("at", type_=UTCDateTime()))
    return statement


def _tamper(app: Flask, sql: str, **params: Any) -> None:
    with app.app_context():
        connection = db.session.connection()
        with triggers_bypassed(connection):
            connection.execute(_statement(sql), params)
        db.session.commit()


def _verify(app: Flask) -> service.ChainReport:
    with app.app_context():
        return service.verify_chain()


def test_the_database_refuses_to_delete_or_change_a_sealed_record(
    app: Flask, chain: list[Any]
) -> None:
    target = chain[-2]
    for statement in (
        "DELETE FROM audit_records WHERE id = :id",
        "UPDATE audit_records SET action = 'delete' WHERE id = :id",
        "UPDATE audit_records SET seq = seq + 1000 WHERE id = :id",
    ):
        with app.app_context():
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                db.session.execute(_statement(statement), {"id": target.id})
            db.session.rollback()
    assert [r.id for r in records(app)] == [r.id for r in chain]
    assert _verify(app).intact


def test_an_intact_chain_verifies(app: Flask, chain: list[Any]) -> None:
    report = _verify(app)
    assert report.intact and report.problem is None
    assert report.records == len(chain) and report.records >= len(DAYS)


def test_an_edited_record_is_named(app: Flask, chain: list[Any]) -> None:
    target = chain[-3]
    _tamper(
        app,
        "UPDATE audit_records SET after = :after WHERE id = :id",
        after='{"day": "2032-01-09", "name": "Libur"}',
        id=target.id,
    )
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.record_id) == ("altered", target.seq, target.id)


def test_an_edited_actor_is_named(app: Flask, chain: list[Any]) -> None:
    target = chain[-5]
    _tamper(app, "UPDATE audit_records SET actor_id = 'someone-else' WHERE id = :id", id=target.id)
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.record_id) == ("altered", target.seq, target.id)


def test_a_record_deleted_in_the_middle_is_named(app: Flask, chain: list[Any]) -> None:
    target = chain[-3]
    _tamper(app, "DELETE FROM audit_records WHERE id = :id", id=target.id)
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("removed", target.seq)


def test_a_record_deleted_at_the_end_is_named(app: Flask, chain: list[Any]) -> None:
    target = chain[-1]
    _tamper(app, "DELETE FROM audit_records WHERE id = :id", id=target.id)
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("removed", target.seq)


def test_records_deleted_and_renumbered_are_caught(app: Flask, chain: list[Any]) -> None:
    target = chain[-3]
    _tamper(app, "DELETE FROM audit_records WHERE id = :id", id=target.id)
    _tamper(app, "UPDATE audit_records SET seq = seq - 1 WHERE seq > :seq", seq=target.seq)
    _tamper(app, "UPDATE audit_chain_head SET last_seq = last_seq - 1")
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.record_id) == (
        "reordered",
        target.seq,
        chain[-2].id,
    )


def test_two_records_swapped_in_order_are_named(app: Flask, chain: list[Any]) -> None:
    first, second = chain[-4], chain[-3]
    _tamper(app, "UPDATE audit_records SET seq = -1 WHERE id = :id", id=first.id)
    _tamper(app, "UPDATE audit_records SET seq = :seq WHERE id = :id", seq=first.seq, id=second.id)
    _tamper(app, "UPDATE audit_records SET seq = :seq WHERE id = :id", seq=second.seq, id=first.id)
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.record_id) == ("reordered", first.seq, second.id)


def test_two_records_contents_swapped_are_named(app: Flask, chain: list[Any]) -> None:
    first, second = chain[-2], chain[-1]
    _tamper(
        app,
        "UPDATE audit_records SET after = :after WHERE id = :id",
        after='{"day": "2032-01-06", "name": "Libur"}',
        id=first.id,
    )
    _tamper(
        app,
        "UPDATE audit_records SET after = :after WHERE id = :id",
        after='{"day": "2032-01-05", "name": "Libur"}',
        id=second.id,
    )
    problem = _verify(app).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.record_id) == ("altered", first.seq, first.id)


def test_a_record_not_sealed_yet_is_pending_not_tampering(app: Flask, chain: list[Any]) -> None:
    with app.app_context():
        workcalendar_service.declare_day_off(day=date(2032, 1, 7), name="Libur")
    report = _verify(app)
    assert report.intact and (report.records, report.pending) == (len(chain), 1)

    assert seal(app) == 1
    report = _verify(app)
    assert report.intact and (report.records, report.pending) == (len(chain) + 1, 0)


def test_the_command_says_intact_or_names_the_record(
    app: Flask, runner: Any, chain: list[Any]
) -> None:
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert f"Audit trail intact: {len(chain)} records sealed, 0 pending" in result.output

    target = chain[-2]
    _tamper(app, "UPDATE audit_records SET object_id = 'x' WHERE id = :id", id=target.id)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"seq {target.seq}" in result.output and str(target.id) in result.output
