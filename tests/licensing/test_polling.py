"""My permit applications, polled by the app: a weak ETag from the page's rows, 304 until
something the list shows changes (a step taken, the step's deadline passing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.licensing.models import PermitApplication
from tests.licensing.helpers import BASE, acted, make_permit_type, officer, person, submitted

pytestmark = pytest.mark.usefixtures("rollback_db")
MINE = f"{BASE}/mine"


def test_my_applications_answer_304_until_one_changes(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application_id = submitted(client, applicant, permit_type)
    first = client.get(MINE, headers=applicant.headers)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    polled = client.get(MINE, headers={**applicant.headers, "If-None-Match": etag})
    assert polled.status_code == 304 and polled.data == b""

    acted(client, officer(app, client, "DPMPTSP"), application_id, "verify")
    changed = client.get(MINE, headers={**applicant.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()[0]["timeline"][-1]["action"] == "verify"


def test_the_step_deadline_passing_changes_the_etag(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application_id = uuid.UUID(submitted(client, applicant, permit_type))
    first = client.get(MINE, headers=applicant.headers)
    assert first.get_json()[0]["next_action"]["overdue"] is False
    with app.app_context():  # only the clock passes the deadline; updated_at stays
        row = db.session.get(PermitApplication, application_id)
        assert row is not None
        db.session.execute(
            sa.update(PermitApplication)
            .where(PermitApplication.id == application_id)
            .values(action_due_at=utcnow() - timedelta(minutes=1), updated_at=row.updated_at)
        )
        db.session.commit()
    later = client.get(MINE, headers={**applicant.headers, "If-None-Match": first.headers["ETag"]})
    assert later.status_code == 200
    assert later.get_json()[0]["next_action"]["overdue"] is True
    assert later.get_json()[0]["updated_at"] == first.get_json()[0]["updated_at"]
