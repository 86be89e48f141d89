"""The permit PDF: what it says (read back through text extraction), and who may download it."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from binjai_api.extensions import db
from binjai_api.formatting import long_date
from binjai_api.licensing.models import Permit
from tests import factories
from tests.licensing.helpers import (
    BASE,
    acted,
    officer,
    permit_type_body,
    person,
    upload,
)

pytestmark = pytest.mark.usefixtures("rollback_db")

NIK = "1275011204900007"
OFFICIAL = {
    "official_name": "Drs. Ahmad Sitepu, M.Si.",
    "official_nip": "197003151995031002",
    "official_position": "Kepala Dinas Penanaman Modal dan PTSP",
}
CONDITIONS = [
    "Reklame dipasang sesuai desain, ukuran dan lokasi yang disetujui.",
    "Reklame dibongkar paling lambat 7 hari setelah izin berakhir.",
]
BILLBOARD_FIELDS = [
    {
        "code": "jenis_reklame",
        "label": "Jenis reklame",
        "label_en": "Kind",
        "type": "choice",
        "choices": ["papan", "neon_box"],
        "required": True,
        "on_permit": True,
    },
    {
        "code": "ukuran_m2",
        "label": "Ukuran (m²)",
        "label_en": "Size (m²)",
        "type": "number",
        "on_permit": True,
    },
    {
        "code": "naskah",
        "label": "Naskah reklame",
        "label_en": "Text",
        "type": "text",
        "on_permit": True,
    },
    {
        "code": "lokasi",
        "label": "Lokasi pemasangan",
        "label_en": "Location",
        "type": "text",
        "on_permit": True,
    },
    {
        "code": "kelurahan",
        "label": "Kelurahan",
        "label_en": "Kelurahan",
        "type": "kelurahan",
        "on_permit": True,
    },
    # Asked, but not printed on the permit.
    {"code": "catatan_internal", "label": "Catatan pemohon", "label_en": "Note", "type": "text"},
]
FORM = {
    "jenis_reklame": "neon_box",
    "ukuran_m2": 12.5,
    "naskah": "Toko Sejahtera: diskon 50%",
    "lokasi": "Jl. Sudirman No. 12",
    "kelurahan": "12.75.01.1001",
    "catatan_internal": "jangan dicetak",
}


def pdf_text(content: bytes) -> str:
    """The PDF's text with every run of white space (line and cell breaks) as one space."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def admin_headers(auth_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth_headers("admin")


@pytest.fixture
def billboard_type(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> dict[str, Any]:
    """A billboard permit type reviewed by PUPR, through the admins' API."""
    body = permit_type_body(app, technical="PUPR", levy_idr=None)
    body |= {"name": "Izin Reklame", "name_en": "Advertising permit"}
    body |= {"form_fields": BILLBOARD_FIELDS, "conditions": CONDITIONS}
    created = client.post("/api/v1/permit-types", headers=admin_headers, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["conditions"] == CONDITIONS
    return dict(created.get_json())


def issue_billboard(
    client: FlaskClient, people: dict[str, Any], type_id: str
) -> tuple[str, dict[str, Any]]:
    """Apply, verify, review, approve and issue: the application's id and its permit."""
    created = client.post(
        BASE,
        headers=people["applicant"].headers,
        json={"permit_type_id": type_id, "form_data": FORM},
    )
    assert created.status_code == 201, created.get_json()
    app_id = created.get_json()["id"]
    for code in ("ktp", "str"):
        assert upload(client, people["applicant"].headers, app_id, code).status_code == 201
    submit = client.post(f"{BASE}/{app_id}/submit", headers=people["applicant"].headers)
    assert submit.status_code == 200, submit.get_json()
    acted(client, people["dpmptsp"], app_id, "verify")
    acted(client, people["pupr"], app_id, "record_review", review_result="recommended", note="Ok.")
    acted(client, people["dpmptsp"], app_id, "approve")
    return app_id, acted(client, people["dpmptsp"], app_id, "issue")["permit"]


@pytest.fixture
def issued(
    app: Flask, client: FlaskClient, billboard_type: dict[str, Any], admin_headers: dict[str, str]
) -> dict[str, Any]:
    agency_id = factories.agency_id(app, "DPMPTSP")
    changed = client.patch(f"/api/v1/agencies/{agency_id}", headers=admin_headers, json=OFFICIAL)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["official_nip"] == OFFICIAL["official_nip"]
    people = {
        "applicant": person(app, client, full_name="Siti Rahmawati", nik=NIK),
        "dpmptsp": officer(app, client, "DPMPTSP"),
        "pupr": officer(app, client, "PUPR"),
        "type_id": billboard_type["id"],
    }
    app_id, permit = issue_billboard(client, people, billboard_type["id"])
    return {**people, "application_id": app_id, "permit": permit}


def download(client: FlaskClient, permit_id: str, headers: dict[str, str]) -> Any:
    return client.get(f"/api/v1/permits/{permit_id}/pdf", headers=headers)


def test_the_permit_reads_as_a_complete_document(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    permit = issued["permit"]
    response = download(client, permit["id"], issued["applicant"].headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    # A document is saved, never shown inline (issue 15, point 8), under its permit number.
    filename = permit["permit_number"].replace("/", "-")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
    reader = PdfReader(io.BytesIO(response.data))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    text = pdf_text(response.data)
    valid_from = date.fromisoformat(permit["valid_from"])
    valid_until = date.fromisoformat(permit["valid_until"])
    expected = [
        "PEMERINTAH KOTA BINJAI",
        "DINAS PENANAMAN MODAL DAN PELAYANAN TERPADU SATU PINTU",
        "IZIN REKLAME",
        f"Nomor: {permit['permit_number']}",
        # The holder: name and masked NIK.
        "Siti Rahmawati",
        "************0007",
        # The object of the permit, from the application's typed fields.
        "Jenis reklame : Neon box",
        "Ukuran (m²) : 12,5",
        "Naskah reklame : Toko Sejahtera: diskon 50%",
        "Lokasi pemasangan : Jl. Sudirman No. 12",
        "Kelurahan : Pahlawan, Kecamatan Binjai Utara",
        *CONDITIONS,
        # Validity in Indonesian long dates.
        f"Berlaku sejak {long_date(valid_from, 'id')} sampai dengan {long_date(valid_until, 'id')}",
        f"pada tanggal {long_date(valid_from, 'id')}",
        # The issuing official, as the admins keep it.
        OFFICIAL["official_position"],
        OFFICIAL["official_name"],
        f"NIP {OFFICIAL['official_nip']}",
        # The verification code and link, and the footer on electronic issuance.
        f"Kode verifikasi: {permit['verification_code']}",
        permit["verification_url"],
        "diterbitkan secara elektronik",
    ]
    missing = [line for line in expected if line not in text]
    assert missing == [], text
    assert NIK not in text and "jangan dicetak" not in text
    assert re.search(
        r"\b\d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September"
        r"|Oktober|November|Desember) \d{4}\b",
        text,
    )
    assert "DICABUT" not in text and "DIGANTI" not in text


def test_issuing_and_technical_officers_may_download_it_others_may_not(
    app: Flask, client: FlaskClient, issued: dict[str, Any]
) -> None:
    permit_id = issued["permit"]["id"]
    for who in ("dpmptsp", "pupr"):
        response = download(client, permit_id, issued[who].headers)
        assert response.status_code == 200, (who, response.get_json())
        assert issued["permit"]["permit_number"] in pdf_text(response.data)
    for stranger in (officer(app, client, "DINKES"), person(app, client)):
        response = download(client, permit_id, stranger.headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    operator = person(app, client, "operator")
    assert download(client, permit_id, operator.headers).status_code == 403


def test_a_revoked_permit_says_so(client: FlaskClient, issued: dict[str, Any]) -> None:
    acted(client, issued["dpmptsp"], issued["application_id"], "revoke", note="Reklame roboh.")
    text = pdf_text(download(client, issued["permit"]["id"], issued["applicant"].headers).data)
    assert "IZIN INI TELAH DICABUT" in text
    assert "Alasan: Reklame roboh." in text


def test_a_replaced_permit_names_its_replacement(
    app: Flask, client: FlaskClient, issued: dict[str, Any]
) -> None:
    _app_id, newer = issue_billboard(client, issued, issued["type_id"])
    with app.app_context():
        db.session.execute(
            sa.update(Permit)
            .where(Permit.id == uuid.UUID(issued["permit"]["id"]))
            .values(replaced_by_id=uuid.UUID(newer["id"]))
        )
        db.session.commit()
    text = pdf_text(download(client, issued["permit"]["id"], issued["applicant"].headers).data)
    assert "IZIN INI TELAH DIGANTI" in text
    assert f"Digantikan oleh izin Nomor {newer['permit_number']}" in text
    newer_text = pdf_text(download(client, newer["id"], issued["applicant"].headers).data)
    assert "DIGANTI" not in newer_text


def test_admins_keep_the_signing_official_of_an_agency(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    url = f"/api/v1/agencies/{factories.agency_id(app, 'PUPR')}"
    wrong = client.patch(url, headers=admin_headers, json={"official_nip": "12345"})
    assert wrong.status_code == 422
    assert "official_nip" in str(wrong.get_json()["errors"])
    assert client.patch(url, headers=admin_headers, json=OFFICIAL).status_code == 200
    shown = client.get(url).get_json()
    assert {name: shown[name] for name in OFFICIAL} == OFFICIAL
    cleared = client.patch(url, headers=admin_headers, json={"official_name": None})
    assert cleared.get_json()["official_name"] is None


def test_a_kelurahan_field_takes_only_binjai_codes(
    app: Flask, client: FlaskClient, issued: dict[str, Any]
) -> None:
    response = client.post(
        BASE,
        headers=issued["applicant"].headers,
        json={"permit_type_id": issued["type_id"], "form_data": {"kelurahan": "12.71.01.1001"}},
    )
    assert response.status_code == 422
    assert "kelurahan" in str(response.get_json()["errors"])
