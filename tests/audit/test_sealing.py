"""Sealing off the request path: records are committed unsealed, then chained in the order they
were written by the outbox worker's job (or `flask audit-seal`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from binjai_api.audit import capture, service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests import factories
from tests.audit.helpers import records, seal


def _write(app: Flask, names: list[str], *, at: Any) -> None:
    """One transaction writing a record per name, all stamped with the same instant."""
    with app.app_context():
        actor = {"request_id": None, "actor_type": "system", "actor_id": "test", "actor_role": None}
        batch = [
            capture.new_record(
                action="update",
                object_type="sealing_test",
                object_id=name,
                before=None,
                after={"name": name},
                actor=actor,
                occurred_at=at,
            )
            for name in names
        ]
        capture.insert_records(db.session(), batch)
        db.session.commit()


def _chained_names(app: Flask) -> list[str]:
    return [str(r.object_id) for r in records(app, object_type="sealing_test") if r.seq is not None]


def test_sealing_follows_the_order_written_and_never_reorders_what_is_sealed(
    app: Flask, rollback_db: None
) -> None:
    seal(app)  # what the fixtures wrote
    now = utcnow()
    _write(app, ["a1", "a2", "a3"], at=now)  # one instant: kept in the order written
    _write(app, ["b1", "b2"], at=now - timedelta(seconds=1))  # committed later, written earlier
    with app.app_context():
        assert service.pending_records()[0] == 5
        assert service.seal_pending(batch_size=2) == 5  # three batches, one chain

    assert _chained_names(app) == ["b1", "b2", "a1", "a2", "a3"]

    # A transaction that commits after a seal is appended, however early it was stamped: the
    # sealed part of the chain never changes.
    _write(app, ["c1"], at=now - timedelta(seconds=10))
    with app.app_context():
        assert service.seal_pending() == 1
        report = service.verify_chain()
    assert _chained_names(app) == ["b1", "b2", "a1", "a2", "a3", "c1"]
    chain = records(app)
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
    assert report.intact and report.pending == 0 and report.records == len(chain)


def test_pending_records_are_reported_as_pending_by_the_command_not_as_tampering(
    app: Flask, runner: Any
) -> None:
    sealed = seal(app)  # what the fixtures wrote
    _write(app, ["p1", "p2"], at=utcnow())

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert f"{sealed} records sealed, 2 pending" in result.output

    result = runner.invoke(args=["audit-seal"])
    assert result.exit_code == 0 and "Sealed 2 audit records" in result.output
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and f"{sealed + 2} records sealed, 0 pending" in result.output


def test_the_outbox_worker_seals_what_is_pending(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    admin = factories.make_account(app, "admin")
    headers = factories.login_headers(client, admin)
    response = client.post(
        "/api/v1/days-off", headers=headers, json={"date": "2035-02-01", "name": "Libur"}
    )
    assert response.status_code == 201
    assert records(app, object_type="days_off")[0].seq is None

    result = runner.invoke(args=["outbox-worker", "--drain"])

    assert result.exit_code == 0, result.output
    assert all(r.seq is not None for r in records(app))
    with app.app_context():
        report = service.verify_chain()
    assert report.intact and report.pending == 0 and report.records == len(records(app))
