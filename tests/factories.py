"""Test data: valid NIKs and phones, accounts of every role, logged-in headers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.agencies.models import Agency
from binjai_api.auth import service as auth_service
from binjai_api.extensions import db

DEFAULT_PASSWORD = "Kata-Sandi-Kuat-2026"
_serials = itertools.count(1)


def valid_nik(serial: int | None = None, *, woman: bool = False) -> str:
    """A NIK from Binjai Utara (12 75 01), born 5 Jan 1990, with a unique serial."""
    serial = next(_serials) if serial is None else serial
    day = 5 + (40 if woman else 0)
    return f"127501{day:02d}0190{serial:04d}"


def valid_phone(serial: int | None = None) -> str:
    serial = next(_serials) if serial is None else serial
    return f"0812{serial:08d}"


def registration(**overrides: Any) -> dict[str, Any]:
    serial = next(_serials)
    body = {
        "full_name": "Siti Aminah",
        "nik": valid_nik(serial),
        "phone": valid_phone(serial),
        "email": f"warga{serial}@example.com",
        "password": DEFAULT_PASSWORD,
    }
    body.update(overrides)
    return body


@dataclass(frozen=True)
class Account:
    id: str
    role: str
    username: str
    password: str
    agency_id: str | None = None


def agency_id(app: Flask, code: str) -> str:
    with app.app_context():
        return str(db.session.scalar(sa.select(Agency.id).where(Agency.code == code)))


def make_account(
    app: Flask,
    role: str = "citizen",
    *,
    agency_code: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **fields: Any,
) -> Account:
    with app.app_context():
        if role == "citizen":
            body = registration(password=password, **fields)
            user = auth_service.register_citizen(**body)
            return Account(str(user.id), role, body["phone"], password)
        serial = next(_serials)
        agency = None
        if role == "officer" or agency_code:
            agency = db.session.scalar(
                sa.select(Agency.id).where(Agency.code == (agency_code or "PUPR"))
            )
        email = fields.pop("email", f"{role}{serial}@staff.binjaikota.go.id")
        user = auth_service.create_staff(
            full_name=fields.pop("full_name", f"Petugas {serial}"),
            email=email,
            password=password,
            role=role,
            agency_id=agency,
            **fields,
        )
        return Account(str(user.id), role, email, password, str(agency) if agency else None)


def login(client: FlaskClient, account: Account) -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/login", json={"username": account.username, "password": account.password}
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def login_headers(client: FlaskClient, account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, account)['access_token']}"}
