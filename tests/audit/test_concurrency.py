"""Writers committing at the same instant on PostgreSQL append to one unbroken chain."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from flask import Flask

from binjai_api.audit import service
from tests import factories
from tests.audit.helpers import records
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres_only

_days = itertools.count(1)


def test_concurrent_writers_produce_a_chain_without_gaps_that_verifies(
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

    chain = records(app)
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
    assert len([r for r in chain if r.object_type == "days_off"]) == 12
    with app.app_context():
        report = service.verify_chain()
    assert report.intact, report.problem
    assert report.records == len(chain)
