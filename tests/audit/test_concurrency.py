"""Writers and sealers at the same instant on PostgreSQL: one unbroken chain, in the order each
transaction wrote, that verifies at every moment."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

import pytest
from flask import Flask

from binjai_api.audit import capture, service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from tests import factories
from tests.audit.helpers import records, seal
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres_only

_days = itertools.count(1)
WRITERS, TRANSACTIONS, PARTS = 8, 10, 3


def test_concurrent_requests_produce_a_chain_without_gaps_that_verifies(
    app: Flask, committed_db: None
) -> None:
    admin = factories.make_account(app, "admin")
    headers = factories.login_headers(app.test_client(), admin)

    def declare(client: Any) -> Any:
        day = next(_days)
        return client.post(
            "/api/v1/days-off",
            headers=headers,
            json={"date": f"2034-01-{day:02d}", "name": f"Libur {day}"},
        )

    responses = run_together(app, 12, declare)
    assert Counter(r.status_code for r in responses) == {201: 12}
    seal(app)

    chain = records(app)
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
    assert len([r for r in chain if r.object_type == "days_off"]) == 12
    with app.app_context():
        report = service.verify_chain()
    assert report.intact, report.problem
    assert report.records == len(chain) and report.pending == 0


def test_writers_sealers_and_verifiers_at_once_leave_one_ordered_gap_free_chain(
    app: Flask, committed_db: None
) -> None:
    barrier = threading.Barrier(WRITERS + 3)
    writers_done = threading.Event()
    reports: list[Any] = []
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        with app.app_context():
            barrier.wait()
            actor = {
                "request_id": None,
                "actor_type": "system",
                "actor_id": "t",
                "actor_role": None,
            }
            for number in range(TRANSACTIONS):
                batch = [
                    capture.new_record(
                        action="update",
                        object_type="sealing_test",
                        object_id=f"{writer}:{number}:{part}",
                        before=None,
                        after=None,
                        actor=actor,
                        occurred_at=utcnow(),
                    )
                    for part in range(PARTS)
                ]
                capture.insert_records(db.session(), batch)
                db.session.commit()
            db.session.remove()

    def keep_sealing() -> None:
        with app.app_context():
            barrier.wait()
            while not writers_done.is_set():
                service.seal_pending(batch_size=7)
            db.session.remove()

    def keep_verifying() -> None:
        with app.app_context():
            barrier.wait()
            while not writers_done.is_set():
                reports.append(service.verify_chain())
                db.session.rollback()
            db.session.remove()

    def guarded(target: Any, *args: Any) -> Any:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:  # reported below, with the thread's own traceback
                errors.append(exc)
                barrier.abort()

        return threading.Thread(target=run)

    writers = [guarded(write, index) for index in range(WRITERS)]
    others = [guarded(keep_sealing), guarded(keep_sealing), guarded(keep_verifying)]
    for thread in writers + others:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    writers_done.set()
    for thread in others:
        thread.join(timeout=120)
    assert errors == []
    seal(app)

    chain = records(app, object_type="sealing_test")
    assert len(chain) == WRITERS * TRANSACTIONS * PARTS
    assert [r.seq for r in records(app)] == list(range(1, len(records(app)) + 1))
    # Each transaction's records in the order it wrote them; each transaction after the last one
    # of the same writer.
    position = {r.object_id: r.seq or 0 for r in chain}
    for writer in range(WRITERS):
        order = [
            position[f"{writer}:{number}:{part}"]
            for number in range(TRANSACTIONS)
            for part in range(PARTS)
        ]
        assert order == sorted(order)
    assert reports and all(report.intact for report in reports), [
        r.problem for r in reports if not r.intact
    ]
    with app.app_context():
        final = service.verify_chain()
    assert final.intact and final.pending == 0 and final.records == len(records(app))
