"""Deadlines in working days, from the one calendar: weekends, national holidays and cuti bersama,
days off the city declares, and the pauses while a case waits on the applicant or on payment.

The service's clock is set per step (its `utcnow`); the dates are around the end of 2026, where
24 December (cuti bersama) and 25 December (Christmas) are days off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.db import utcnow
from binjai_api.licensing import service
from tests.licensing.helpers import (
    BASE,
    acted,
    callback,
    complete_draft,
    end_of,
    make_permit_type,
    officer,
    person,
    upload,
    utc,
    wib,
)
from tests.patching import patch_service

pytestmark = pytest.mark.usefixtures("rollback_db")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the licensing service's 'now'."""
    now: list[datetime] = [utcnow()]

    def set_now(moment: datetime) -> None:
        now[:] = [moment]

    patch_service(monkeypatch, service, "utcnow", lambda: now[0])
    return set_now


def _submit(client: FlaskClient, applicant: Any, application_id: str) -> dict[str, Any]:
    response = client.post(f"{BASE}/{application_id}/submit", headers=applicant.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_a_step_deadline_skips_the_weekend(
    app: Flask, client: FlaskClient, clock: Callable[[datetime], None]
) -> None:
    permit_type = make_permit_type(app)  # verification 2, technical 3, decision 1, issuance 1
    applicant = person(app, client)
    application = complete_draft(client, applicant, permit_type)
    clock(wib("2026-12-11"))  # a Friday
    detail = _submit(client, applicant, application["id"])
    assert utc(detail["step_due_at"]) == end_of("2026-12-15")  # Mon 14, Tue 15
    # The whole service: 7 working days, Mon 14 .. Tue 22.
    assert utc(detail["sla_due_at"]) == end_of("2026-12-22")


def test_a_step_deadline_skips_national_holidays_and_cuti_bersama(
    app: Flask, client: FlaskClient, clock: Callable[[datetime], None]
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = complete_draft(client, applicant, permit_type)
    clock(wib("2026-12-23"))  # Wednesday; Thu 24 and Fri 25 are off, then the weekend
    detail = _submit(client, applicant, application["id"])
    assert utc(detail["step_due_at"]) == end_of("2026-12-29")


def test_a_step_deadline_skips_a_day_off_the_admin_declared(
    app: Flask,
    client: FlaskClient,
    clock: Callable[[datetime], None],
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    response = client.post(
        "/api/v1/days-off",
        headers=auth_headers("admin"),
        json={"date": "2026-12-14", "name": "Hari jadi Kota Binjai (demo)"},
    )
    assert response.status_code == 201
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = complete_draft(client, applicant, permit_type)
    clock(wib("2026-12-11"))
    detail = _submit(client, applicant, application["id"])
    assert utc(detail["step_due_at"]) == end_of("2026-12-16")  # Mon 14 is off: Tue 15, Wed 16


def test_a_correction_pauses_the_clock_until_the_applicant_resubmits(
    app: Flask, client: FlaskClient, clock: Callable[[datetime], None]
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = complete_draft(client, applicant, permit_type)
    app_id = application["id"]
    clock(wib("2026-11-30"))  # Monday: verification due Wed 2 Dec, the service Wed 9 Dec
    detail = _submit(client, applicant, app_id)
    assert utc(detail["step_due_at"]) == end_of("2026-12-02")
    assert utc(detail["sla_due_at"]) == end_of("2026-12-09")

    clock(wib("2026-12-01"))
    detail = acted(
        client,
        dpmptsp,
        app_id,
        "request_correction",
        note="KTP buram.",
        corrections=[{"requirement_code": "ktp", "reason": "Foto KTP buram."}],
        correction_days=3,
    )
    # The applicant has three working days; the step's own deadline is kept, not running.
    assert utc(detail["next_action"]["due_at"]) == end_of("2026-12-04")
    assert utc(detail["step_due_at"]) == end_of("2026-12-02")

    clock(wib("2026-12-07"))  # Monday: Wed 2, Thu 3, Fri 4, Mon 7 were spent waiting
    upload(client, applicant.headers, app_id, "ktp")
    detail = _submit(client, applicant, app_id)
    assert detail["status"] == "submitted"
    assert utc(detail["step_due_at"]) == end_of("2026-12-08")  # Wed 2 + 4 working days
    assert utc(detail["sla_due_at"]) == end_of("2026-12-15")  # Wed 9 + 4 working days
    assert detail["next_action"]["overdue"] is False


def test_an_unpaid_bill_pauses_the_clock(
    app: Flask, client: FlaskClient, clock: Callable[[datetime], None]
) -> None:
    permit_type = make_permit_type(
        app,
        technical=None,
        levy_idr=50000,
        deadlines={
            "verification": 1,
            "decision": 1,
            "issuance": 2,
            "applicant_correction": 5,
            "payment": 5,
        },
    )
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = complete_draft(client, applicant, permit_type)
    app_id = application["id"]
    clock(wib("2026-11-30"))  # Monday; the service has 4 working days: due Fri 4 Dec
    assert utc(_submit(client, applicant, app_id)["sla_due_at"]) == end_of("2026-12-04")
    acted(client, dpmptsp, app_id, "verify")
    clock(wib("2026-12-01"))
    # correction_days belongs to a correction request: it does not shorten the time to pay.
    detail = acted(client, dpmptsp, app_id, "approve", correction_days=1)
    assert utc(detail["bill"]["due_at"]) == end_of("2026-12-08")  # 5 working days to pay

    clock(wib("2026-12-03"))  # paid on Thursday: Wed 2 and Thu 3 were spent waiting
    response = callback(
        client,
        {"payment_code": detail["bill"]["payment_code"], "amount_idr": 50000, "reference": "R1"},
        app=app,
    )
    assert response.status_code == 200
    detail = client.get(f"{BASE}/{app_id}", headers=applicant.headers).get_json()
    assert utc(detail["step_due_at"]) == end_of("2026-12-07")  # issuance: Fri 4, Mon 7
    assert utc(detail["sla_due_at"]) == end_of("2026-12-08")  # Fri 4 + 2 working days


def test_the_work_queue_flags_overdue_applications_per_step(
    app: Flask, client: FlaskClient, clock: Callable[[datetime], None]
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    late = complete_draft(client, applicant, permit_type)
    fresh = complete_draft(client, applicant, permit_type)
    clock(wib("2026-11-30"))
    _submit(client, applicant, late["id"])  # due Wed 2 Dec
    clock(wib("2026-12-03"))
    _submit(client, applicant, fresh["id"])  # due Mon 7 Dec

    queue = client.get(
        f"{BASE}?step=verification&permit_type_id={permit_type['id']}", headers=dpmptsp.headers
    ).get_json()
    assert [item["id"] for item in queue] == [late["id"], fresh["id"]]  # soonest deadline first
    assert [item["next_action"]["overdue"] for item in queue] == [True, False]
    overdue = client.get(
        f"{BASE}?overdue=true&permit_type_id={permit_type['id']}", headers=dpmptsp.headers
    ).get_json()
    assert [item["id"] for item in overdue] == [late["id"]]
    assert client.get(f"{BASE}?step=technical_review", headers=dpmptsp.headers).get_json() == []
