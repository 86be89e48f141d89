"""Concurrent submissions on PostgreSQL: every report gets its own tracking number."""

from __future__ import annotations

import pytest
from flask import Flask

from binjai_api.complaints import service
from binjai_api.extensions import db
from tests import factories
from tests.complaints.helpers import report
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres_only


def test_fifty_concurrent_submissions_get_fifty_distinct_tracking_numbers(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "COMPLAINT_SUBMIT_RATE_LIMIT", "1000 per hour")
    category_id = _category(app)
    account = factories.make_account(app)
    headers = factories.login_headers(app.test_client(), account)
    responses = run_together(
        app,
        50,
        lambda client: client.post("/api/v1/complaints", headers=headers, json=report(category_id)),
    )
    assert [r.status_code for r in responses] == [201] * 50, [r.get_json() for r in responses]
    numbers = {r.get_json()["tracking_number"] for r in responses}
    assert len(numbers) == 50
    serials = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    assert serials == list(range(serials[0], serials[0] + 50))  # no gaps, no repeats


def _category(app: Flask) -> str:
    with app.app_context():
        service.seed_categories()
        category = db.session.scalars(service.categories_query()).first()
        assert category is not None
        return str(category.id)


def test_concurrent_saya_juga_loses_no_supporter(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    client = app.test_client()
    reporter = factories.login_headers(client, factories.make_account(app))
    created = client.post("/api/v1/complaints", headers=reporter, json=report(_category(app)))
    cid = created.get_json()["id"]
    supporters = [factories.login_headers(client, factories.make_account(app)) for _ in range(12)]
    queue = list(supporters)
    responses = run_together(
        app,
        12,
        lambda c: c.post(f"/api/v1/complaints/{cid}/support", headers=queue.pop()),
    )
    assert [r.status_code for r in responses] == [201] * 12
    public = client.get(f"/api/v1/public/complaints/{cid}").get_json()
    assert public["supporter_count"] == 12


def test_two_operators_dispatching_at_once_make_one_transition(
    app: Flask, committed_db: None
) -> None:
    client = app.test_client()
    reporter = factories.login_headers(client, factories.make_account(app))
    created = client.post("/api/v1/complaints", headers=reporter, json=report(_category(app)))
    cid = created.get_json()["id"]
    operator = factories.login_headers(client, factories.make_account(app, "operator"))
    responses = run_together(
        app,
        4,
        lambda c: c.post(
            f"/api/v1/complaints/{cid}/transitions", headers=operator, json={"action": "dispatch"}
        ),
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    history = client.get(f"/api/v1/complaints/{cid}", headers=operator).get_json()["history"]
    assert [h["action"] for h in history] == ["submit", "dispatch"]
