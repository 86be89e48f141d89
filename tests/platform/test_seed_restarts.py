"""Restarts always work (issue 15, point 9): `make run` seeds the demo data on every start, and
nothing residents or staff change through the API can make that fail or duplicate an account.

Before, the demo resident changing their email through PATCH /api/v1/me made every later seed
stop with `nik_taken`: the seed looked the account up by email and registered the NIK again."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import seed
from binjai_api.auth.models import User
from binjai_api.extensions import db
from tests import factories

pytestmark = pytest.mark.usefixtures("rollback_db")

NEW_PASSWORD = "Sandi-Baru-Demo-2026"


def _accounts(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0)


def _seed(app: Flask) -> dict[str, int]:
    with app.app_context():
        return seed.seed_demo()


def _log_in(client: FlaskClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _change_everything_of(
    client: FlaskClient, account: dict[str, Any], serial: int
) -> dict[str, str]:
    """Every field the account's owner can change: name, phone, email, language, kelurahan,
    password. Returns the headers of a login with the new password."""
    login = account.get("phone") or account["email"]
    headers = _log_in(client, login, account["password"])  # a fresh login
    changed = client.patch(
        "/api/v1/me",
        headers=headers,
        json={
            "full_name": f"Nama Diubah {serial}",
            "phone": factories.valid_phone(9000 + serial),
            "email": f"diubah{serial}@example.com",
            "language": "en",
            "kelurahan_code": "12.75.02.1001",
        },
    )
    assert changed.status_code == 200, changed.get_json()
    password = client.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": account["password"], "new_password": NEW_PASSWORD},
    )
    assert password.status_code in (200, 204), password.get_json()
    return _log_in(client, f"diubah{serial}@example.com", NEW_PASSWORD)


def test_the_seed_runs_again_after_every_editable_field_of_the_demo_accounts_changed(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    first = _seed(app)
    assert first["accounts"] == len(seed.demo_accounts())
    seeded = _accounts(app)

    admin_headers: dict[str, str] = {}
    for serial, account in enumerate(seed.demo_accounts()):
        headers = _change_everything_of(client, account, serial)
        if account["role"] == "admin":
            admin_headers = headers
    assert admin_headers
    # Staff changes only an admin makes: another role and agency, and a deactivation.
    officer = next(a for a in seed.demo_accounts() if a["role"] == "officer")
    officer_id = str(seed.demo_account_id(officer))
    promoted = client.patch(
        f"/api/v1/admin/accounts/{officer_id}",
        headers=admin_headers,
        json={"role": "operator", "agency_id": None},
    )
    assert promoted.status_code == 200, promoted.get_json()
    operator = next(a for a in seed.demo_accounts() if a["role"] == "operator")
    deactivated = client.post(
        f"/api/v1/admin/accounts/{seed.demo_account_id(operator)}/deactivate",
        headers=admin_headers,
    )
    assert deactivated.status_code in (200, 204), deactivated.get_json()
    # A resident takes the phone and email the demo resident gave up.
    citizen = next(a for a in seed.demo_accounts() if a["role"] == "citizen")
    registered = client.post(
        "/api/v1/auth/register",
        json=factories.registration(phone=citizen["phone"], email=citizen["email"]),
    )
    assert registered.status_code == 201, registered.get_json()

    again = _seed(app)

    assert again["accounts"] == 0
    assert _accounts(app) == seeded + 1  # the new resident; no demo account twice
    with app.app_context():
        names = db.session.scalars(
            sa.select(User.full_name).where(
                User.id.in_([seed.demo_account_id(a) for a in seed.demo_accounts()])
            )
        ).all()
    assert len(names) == len(seed.demo_accounts())
    assert all(name.startswith("Nama Diubah") for name in names)  # left as their owners made them


def test_the_command_succeeds_after_staff_renamed_the_demo_catalogue(
    app: Flask, client: FlaskClient, runner: Any
) -> None:
    _seed(app)
    admin = next(a for a in seed.demo_accounts() if a["role"] == "admin")
    headers = _log_in(client, admin["email"], admin["password"])
    agencies = client.get("/api/v1/agencies?page_size=100").get_json()
    pupr = next(agency for agency in agencies if agency["code"] == "PUPR")
    renamed = client.patch(
        f"/api/v1/agencies/{pupr['id']}", headers=headers, json={"code": "PUPRKOTA"}
    )
    assert renamed.status_code == 200, renamed.get_json()
    categories = client.get("/api/v1/complaint-categories?page_size=100").get_json()
    recoded = client.patch(
        f"/api/v1/complaint-categories/{categories[0]['id']}",
        headers=headers,
        json={"code": "kode_diubah"},
    )
    assert recoded.status_code == 200, recoded.get_json()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output


def test_demo_accounts_seeded_before_derived_ids_are_found_by_their_nik_or_email(
    app: Flask,
) -> None:
    """Databases seeded by earlier versions hold the demo accounts under random ids."""
    with app.app_context():
        for account in seed.demo_accounts():
            if account["role"] == "citizen":
                from binjai_api.auth import service as auth_service

                auth_service.register_citizen(
                    full_name=account["full_name"],
                    nik=account["nik"],
                    phone=factories.valid_phone(),  # its phone changed since
                    email=None,  # and its email removed
                    password=account["password"],
                )
    before = _accounts(app)
    added = _seed(app)["accounts"]
    assert added == len(seed.demo_accounts()) - 1
    assert _accounts(app) == before + added
