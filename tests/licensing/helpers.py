"""Shared steps of the licensing tests: permit types, people, documents, and driving the flow."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from binjai_api.extensions import db
from binjai_api.licensing import service, signing
from binjai_api.workcalendar.service import LOCAL_TIMEZONE
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BASE = "/api/v1/permit-applications"
# One working day per officer step, for permit types without a technical agency.
QUICK_DEADLINES = {
    "verification": 1,
    "decision": 1,
    "issuance": 1,
    "applicant_correction": 5,
    "payment": 5,
}


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def wib(day: str, hour: int = 10) -> datetime:
    """An instant given in Binjai local time."""
    local = datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=LOCAL_TIMEZONE)
    return local.astimezone(UTC)


def end_of(day: str) -> datetime:
    """23:59:59 WIB of a date, in UTC."""
    return datetime.fromisoformat(f"{day}T16:59:59+00:00")


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def permit_type_body(
    app: Flask,
    *,
    code: str | None = None,
    technical: str | None = "DINKES",
    levy_idr: int | None = 150000,
    deadlines: dict[str, int] | None = None,
    validity_months: int = 60,
) -> dict[str, Any]:
    return {
        "code": code or f"T{uuid.uuid4().hex[:8].upper()}",
        "name": "Surat Izin Praktik Bidan",
        "name_en": "Midwife practice permit",
        "issuing_agency_id": factories.agency_id(app, "DPMPTSP"),
        "technical_agency_id": factories.agency_id(app, technical) if technical else None,
        "form_fields": [
            {
                "code": "nama_praktik",
                "label": "Nama tempat praktik",
                "label_en": "Practice name",
                "type": "text",
                "required": True,
            },
            {
                "code": "jumlah_ruang",
                "label": "Jumlah ruang",
                "label_en": "Rooms",
                "type": "number",
                "required": False,
            },
        ],
        "document_requirements": [
            {
                "code": "ktp",
                "name": "KTP",
                "name_en": "ID card",
                "required": True,
                "accepted_types": ["application/pdf", "image/png"],
                "max_size_bytes": 4096,
            },
            {
                "code": "str",
                "name": "STR",
                "name_en": "Registration",
                "required": True,
                "accepted_types": ["application/pdf"],
                "max_size_bytes": 4096,
            },
            {
                "code": "denah",
                "name": "Denah",
                "name_en": "Floor plan",
                "required": False,
                "accepted_types": ["application/pdf"],
                "max_size_bytes": 4096,
            },
        ],
        "step_deadlines": deadlines
        or {
            "verification": 2,
            "technical_review": 3,
            "decision": 1,
            "issuance": 1,
            "applicant_correction": 5,
            "payment": 5,
        },
        "levy_idr": levy_idr,
        "validity_months": validity_months,
    }


def make_permit_type(app: Flask, **kwargs: Any) -> dict[str, Any]:
    """A permit type written straight through the service (admins' API is tested apart)."""
    body = permit_type_body(app, **kwargs)
    values = {**body}
    for name in ("issuing_agency_id", "technical_agency_id"):
        values[name] = uuid.UUID(values[name]) if values[name] else None
    with app.app_context():
        permit_type = service.create_permit_type(**values)
        body["id"] = str(permit_type.id)
    return body


@dataclass
class Person:
    account: factories.Account
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return self.account.id


def person(app: Flask, client: FlaskClient, role: str = "citizen", **kwargs: Any) -> Person:
    account = factories.make_account(app, role, **kwargs)
    return Person(account, factories.login_headers(client, account))


def officer(app: Flask, client: FlaskClient, agency_code: str) -> Person:
    return person(app, client, "officer", agency_code=agency_code)


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    application_id: str,
    requirement_code: str,
    content: bytes = PDF,
    filename: str = "dokumen.pdf",
) -> TestResponse:
    return client.post(
        f"{BASE}/{application_id}/documents",
        headers=headers,
        data={"requirement_code": requirement_code, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def draft(client: FlaskClient, applicant: Person, permit_type: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        BASE,
        headers=applicant.headers,
        json={"permit_type_id": permit_type["id"], "form_data": {"nama_praktik": "Bidan Sehati"}},
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def complete_draft(
    client: FlaskClient, applicant: Person, permit_type: dict[str, Any]
) -> dict[str, Any]:
    application = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        assert upload(client, applicant.headers, application["id"], code).status_code == 201
    return application


def submitted(client: FlaskClient, applicant: Person, permit_type: dict[str, Any]) -> str:
    application = complete_draft(client, applicant, permit_type)
    response = client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers)
    assert response.status_code == 200, response.get_json()
    return str(application["id"])


def issued_permit(
    client: FlaskClient, applicant: Person, issuer: Person, permit_type: dict[str, Any]
) -> dict[str, Any]:
    """A permit issued on a fresh application of a type without technical review or levy."""
    app_id = submitted(client, applicant, permit_type)
    for action in ("verify", "approve"):
        acted(client, issuer, app_id, action)
    return dict(acted(client, issuer, app_id, "issue")["permit"])


def act(
    client: FlaskClient, who: Person, application_id: str, action: str, **body: Any
) -> TestResponse:
    return client.post(
        f"{BASE}/{application_id}/transitions", headers=who.headers, json={"action": action, **body}
    )


def acted(
    client: FlaskClient, who: Person, application_id: str, action: str, **body: Any
) -> dict[str, Any]:
    response = act(client, who, application_id, action, **body)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def callback(
    client: FlaskClient, body: dict[str, Any], *, signature: str | None = None, app: Flask
) -> TestResponse:
    raw = json.dumps(body).encode()
    if signature is None:
        with app.app_context():
            signature = signing.payment_signature(raw)
    return client.post(
        "/api/v1/payments/callback",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature": signature},
    )


def stored_files(app: Flask) -> set[Path]:
    return {path for path in Path(app.config["UPLOAD_DIR"]).rglob("*") if path.is_file()}


def count(app: Flask, model: type[Any], *conditions: Any) -> int:
    with app.app_context():
        return int(
            db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions)) or 0
        )
