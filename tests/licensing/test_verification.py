"""Public verification of an issued permit: a signed code, nothing personal, and no forgery."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.models import User
from binjai_api.extensions import db
from binjai_api.licensing import signing
from binjai_api.licensing.models import Permit
from tests.licensing.helpers import (
    QUICK_DEADLINES,
    issued_permit,
    make_permit_type,
    officer,
    person,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")
VERIFY = "/api/v1/permits/verify"


@pytest.fixture
def permit(app: Flask, client: FlaskClient) -> dict[str, Any]:
    permit_type = make_permit_type(
        app,
        technical=None,
        levy_idr=None,
        deadlines=QUICK_DEADLINES,
        validity_months=12,
    )
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    issued = issued_permit(client, applicant, dpmptsp, permit_type)
    issued["holder_id"] = applicant.id
    with app.app_context():
        holder = db.session.get(User, uuid.UUID(applicant.id))
        assert holder is not None and holder.nik
        issued["holder_name"], issued["holder_nik"] = holder.full_name, holder.nik
    return issued


def _set(app: Flask, permit_id: str, **values: Any) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Permit).where(Permit.id == uuid.UUID(permit_id)).values(**values)
        )
        db.session.commit()


def test_a_valid_permit_shows_only_non_personal_fields(
    client: FlaskClient, permit: dict[str, Any]
) -> None:
    answer = client.get(f"{VERIFY}/{permit['verification_code']}").get_json()
    assert answer["result"] == "valid"
    assert answer["issuing_agency_code"] == "DPMPTSP"
    valid_from = date.fromisoformat(answer["valid_from"])
    assert (
        answer["valid_until"]
        == (valid_from.replace(year=valid_from.year + 1) - timedelta(days=1)).isoformat()
    )
    assert set(answer) == {
        "result",
        "checked_at",
        "permit_number",
        "permit_type_code",
        "permit_type_name",
        "permit_type_name_en",
        "holder_name",
        "issuing_agency_code",
        "issuing_agency_name",
        "issuing_agency_name_en",
        "valid_from",
        "valid_until",
        "revoked_on",
        "replaced_by_permit_number",
    }
    # The holder is named, so that whoever checks can compare; nothing else of theirs is shown.
    assert answer["holder_name"] == permit["holder_name"]
    assert permit["holder_id"] not in str(answer) and permit["holder_nik"] not in str(answer)


def _flip(code: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[(alphabet.index(code[index]) + 1) % len(alphabet)]
    return code[:index] + replacement + code[index + 1 :]


@pytest.mark.parametrize("index", [0, 10, 30, 41])
def test_a_tampered_code_is_not_found(
    client: FlaskClient, permit: dict[str, Any], index: int
) -> None:
    tampered = _flip(permit["verification_code"], index)
    answer = client.get(f"{VERIFY}/{tampered}").get_json()
    assert answer["result"] == "not_found"
    assert answer["permit_number"] is None and answer["valid_until"] is None


@pytest.mark.parametrize("code", ["x", "not-a-code", "A" * 43, "%F0%9F%98%80" * 10, "A" * 200])
def test_garbage_codes_are_not_found(client: FlaskClient, code: str) -> None:
    response = client.get(f"{VERIFY}/{code}")
    assert response.status_code == 200
    assert response.get_json()["result"] == "not_found"


def test_a_code_forged_with_another_key_is_not_found(
    app: Flask, client: FlaskClient, permit: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_key = app.config["PERMIT_SIGNING_KEY"]
    with app.test_request_context():
        monkeypatch.setitem(app.config, "PERMIT_SIGNING_KEY", "another-key-" + "x" * 40)
        forged = signing.permit_code(
            permit_id=uuid.UUID(permit["id"]),
            permit_number=permit["permit_number"],
            permit_type_code=permit["permit_type"]["code"],
            holder_id=uuid.UUID(permit["holder_id"]),
            valid_from=date.fromisoformat(permit["valid_from"]),
            valid_until=date.fromisoformat(permit["valid_until"]),
        )
    monkeypatch.setitem(app.config, "PERMIT_SIGNING_KEY", real_key)
    assert forged != permit["verification_code"]
    assert client.get(f"{VERIFY}/{forged}").get_json()["result"] == "not_found"


def test_the_code_of_a_permit_type_with_issued_permits_cannot_change(
    app: Flask,
    client: FlaskClient,
    permit: dict[str, Any],
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    url = f"/api/v1/permit-types/{permit['permit_type']['id']}"
    response = client.patch(url, headers=auth_headers("admin"), json={"code": "RENAMED"})
    assert_problem(response, 409, "permit_type_code_in_use")
    answer = client.get(f"{VERIFY}/{permit['verification_code']}").get_json()
    assert answer["result"] == "valid"


def test_a_permit_whose_fields_were_altered_no_longer_verifies(
    app: Flask, client: FlaskClient, permit: dict[str, Any]
) -> None:
    _set(app, permit["id"], valid_until=date(2099, 12, 31))
    assert client.get(f"{VERIFY}/{permit['verification_code']}").get_json()["result"] == "not_found"


def test_an_expired_permit_says_so(app: Flask, client: FlaskClient, permit: dict[str, Any]) -> None:
    # Re-sign the permit with dates in the past, as if issued years ago.
    with app.app_context():
        row = db.session.get(Permit, uuid.UUID(permit["id"]))
        assert row is not None
        row.valid_from, row.valid_until = date(2020, 1, 1), date(2020, 12, 31)
        code = signing.permit_code(
            permit_id=row.id,
            permit_number=row.permit_number,
            permit_type_code=row.permit_type.code,
            holder_id=row.holder_id,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        row.verification_code = code
        db.session.commit()
    assert client.get(f"{VERIFY}/{code}").get_json()["result"] == "expired"
