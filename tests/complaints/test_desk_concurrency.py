"""The desk under concurrent writers on PostgreSQL: one automatic reply template per action and
category, however many operators save one at the same instant."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.complaints.models import ComplaintReplyTemplate
from binjai_api.extensions import db
from tests import factories
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres_only


def test_concurrent_automatic_templates_leave_one_applying(
    app: Flask, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    client = app.test_client()
    operators = [factories.login_headers(client, factories.make_account(app, "operator"))]
    operators *= 8
    body = {
        "name": "Diteruskan",
        "action": "dispatch",
        "auto_apply": True,
        "body": "Laporan {tracking_number} diteruskan ke {agency}.",
        "body_en": "Report {tracking_number} was sent to {agency}.",
    }
    queue = list(operators)
    responses = run_together(
        app,
        8,
        lambda c: c.post("/api/v1/complaint-reply-templates", headers=queue.pop(), json=body),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.get_json() for r in responses]
    assert {r.get_json()["code"] for r in responses if r.status_code == 409} == {
        "auto_template_exists"
    }
    with app.app_context():
        keys = db.session.scalars(
            sa.select(ComplaintReplyTemplate.auto_key).where(
                ComplaintReplyTemplate.auto_apply.is_(True)
            )
        ).all()
    assert keys == ["dispatch:*"]
