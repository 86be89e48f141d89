"""Concurrent writes on PostgreSQL: a payment is recorded once, numbers never repeat, and a step
is taken once."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from flask import Flask

from binjai_api.licensing.models import PermitApplicationEvent, PermitBill
from tests.concurrency import run_together
from tests.licensing.helpers import (
    BASE,
    QUICK_DEADLINES,
    acted,
    callback,
    count,
    make_permit_type,
    officer,
    person,
    submitted,
)

pytestmark = pytest.mark.postgres_only


def test_simultaneous_callbacks_mark_one_payment_once(app: Flask, committed_db: None) -> None:
    client = app.test_client()
    permit_type = make_permit_type(app, technical=None, levy_idr=75000, deadlines=QUICK_DEADLINES)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    app_id = submitted(client, applicant, permit_type)
    acted(client, dpmptsp, app_id, "verify")
    bill = acted(client, dpmptsp, app_id, "approve")["bill"]
    body = {"payment_code": bill["payment_code"], "amount_idr": 75000, "reference": "VA-42"}

    responses = run_together(app, 8, lambda c: callback(c, body, app=app))
    assert Counter(r.status_code for r in responses) == {200: 8}
    assert len({r.get_data(as_text=True) for r in responses}) == 1
    confirmations = count(
        app,
        PermitApplicationEvent,
        PermitApplicationEvent.application_id == uuid.UUID(app_id),
        PermitApplicationEvent.action == "confirm_payment",
    )
    assert confirmations == 1
    assert count(app, PermitBill, PermitBill.status == "paid") == 1


def test_permits_issued_at_once_get_distinct_numbers(app: Flask, committed_db: None) -> None:
    client = app.test_client()
    permit_type = make_permit_type(app, technical=None, levy_idr=None, deadlines=QUICK_DEADLINES)
    dpmptsp = officer(app, client, "DPMPTSP")
    ids = []
    for _ in range(6):
        applicant = person(app, client)
        app_id = submitted(client, applicant, permit_type)
        acted(client, dpmptsp, app_id, "verify")
        acted(client, dpmptsp, app_id, "approve")
        ids.append(app_id)
    pending = list(ids)

    def issue(c: Any) -> Any:
        return c.post(
            f"{BASE}/{pending.pop()}/transitions", headers=dpmptsp.headers, json={"action": "issue"}
        )

    responses = run_together(app, 6, issue)
    assert Counter(r.status_code for r in responses) == {200: 6}
    numbers = sorted(r.get_json()["permit"]["permit_number"] for r in responses)
    assert len(set(numbers)) == 6
    assert [n.split("/")[1] for n in numbers] == [f"{i:05d}" for i in range(1, 7)]


def test_applications_created_at_once_get_distinct_numbers(app: Flask, committed_db: None) -> None:
    client = app.test_client()
    permit_type = make_permit_type(app, deadlines=None)
    applicant = person(app, client)
    responses = run_together(
        app,
        6,
        lambda c: c.post(
            BASE, headers=applicant.headers, json={"permit_type_id": permit_type["id"]}
        ),
    )
    assert Counter(r.status_code for r in responses) == {201: 6}
    assert len({r.get_json()["number"] for r in responses}) == 6


def test_a_step_taken_twice_at_once_happens_once(app: Flask, committed_db: None) -> None:
    client = app.test_client()
    permit_type = make_permit_type(app, technical=None, levy_idr=None, deadlines=QUICK_DEADLINES)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    app_id = submitted(client, applicant, permit_type)
    responses = run_together(
        app,
        5,
        lambda c: c.post(
            f"{BASE}/{app_id}/transitions", headers=dpmptsp.headers, json={"action": "verify"}
        ),
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 4}, statuses
    assert all(
        r.get_json()["code"] == "invalid_transition" for r in responses if r.status_code == 409
    )
    verifications = count(
        app,
        PermitApplicationEvent,
        PermitApplicationEvent.application_id == uuid.UUID(app_id),
        PermitApplicationEvent.action == "verify",
    )
    assert verifications == 1
