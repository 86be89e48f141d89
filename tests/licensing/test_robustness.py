"""Odd input is a 422 with the field at fault, never a 500: values JSON allows but no database
column can hold (NaN, Infinity, NUL characters), and ambiguous requests."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.licensing.models import PermitDocument
from tests.licensing.helpers import (
    BASE,
    PDF,
    act,
    callback,
    count,
    draft,
    make_permit_type,
    officer,
    permit_type_body,
    person,
    submitted,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_field_refuses_values_that_are_not_numbers(
    app: Flask, client: FlaskClient, number: str
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    headers = {**applicant.headers, "Content-Type": "application/json"}
    raw = '{"form_data": {"jumlah_ruang": ' + number + "}}"
    body = assert_problem(
        client.patch(f"{BASE}/{application['id']}", headers=headers, data=raw),
        422,
        "validation_error",
    )
    assert list(body["errors"]["json"]) == ["form_data.jumlah_ruang"]
    raw = f'{{"permit_type_id": "{permit_type["id"]}", "form_data": {{"jumlah_ruang": {number}}}}}'
    assert_problem(client.post(BASE, headers=headers, data=raw), 422, "validation_error")


def test_nul_characters_are_refused_wherever_text_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    app_id = submitted(client, applicant, permit_type)

    body = assert_problem(
        act(client, dpmptsp, app_id, "reject", note="Ditolak\x00"), 422, "validation_error"
    )
    assert list(body["errors"]["json"]) == ["note"]
    response = act(
        client,
        dpmptsp,
        app_id,
        "request_correction",
        note="Perbaiki.",
        corrections=[{"requirement_code": "ktp", "reason": "Buram\x00"}],
    )
    assert list(assert_problem(response, 422, "validation_error")["errors"]["json"]) == [
        "corrections"
    ]
    document_id = client.get(f"{BASE}/{app_id}", headers=applicant.headers).get_json()["documents"][
        0
    ]["id"]
    response = client.post(
        f"{BASE}/{app_id}/documents/{document_id}/review",
        headers=dpmptsp.headers,
        json={"review_status": "rejected", "note": "x\x00"},
    )
    assert_problem(response, 422, "validation_error")
    assert (
        client.get(f"{BASE}/{app_id}", headers=applicant.headers).get_json()["status"]
        == "submitted"
    )

    other = draft(client, applicant, permit_type)
    response = client.patch(
        f"{BASE}/{other['id']}",
        headers=applicant.headers,
        json={"form_data": {"nama_praktik": "a\x00"}},
    )
    assert_problem(response, 422, "validation_error")
    paid = callback(
        client, {"payment_code": "1275\x00", "amount_idr": 1, "reference": "R\x00"}, app=app
    )
    assert set(assert_problem(paid, 422, "validation_error")["errors"]["json"]) == {
        "payment_code",
        "reference",
    }


def test_an_admin_cannot_store_nul_in_a_permit_type(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin = auth_headers("admin")
    body = permit_type_body(app)
    body["name"] = "Izin\x00"
    body["form_fields"][0]["label"] = "Nama\x00"
    problem = assert_problem(
        client.post("/api/v1/permit-types", headers=admin, json=body), 422, "validation_error"
    )
    assert set(problem["errors"]["json"]) == {"name", "form_fields"}


def test_a_filename_with_a_nul_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    response = client.post(
        f"{BASE}/{application['id']}/documents",
        headers=applicant.headers,
        data={"requirement_code": "ktp", "file": (io.BytesIO(PDF), "ktp\x00.pdf")},
        content_type="multipart/form-data",
    )
    assert assert_problem(response, 422, "validation_error")["errors"] == {
        "files": {"file": ["Teks tidak boleh memuat karakter NUL."]}
    }
    assert (
        count(app, PermitDocument, PermitDocument.application_id == uuid.UUID(application["id"]))
        == 0
    )


def test_a_correction_names_each_document_once(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    app_id = submitted(client, applicant, permit_type)
    response = act(
        client,
        dpmptsp,
        app_id,
        "request_correction",
        note="Perbaiki.",
        corrections=[
            {"requirement_code": "ktp", "reason": "Buram."},
            {"requirement_code": "ktp", "reason": "Kedaluwarsa."},
        ],
    )
    body = assert_problem(response, 422, "validation_error")
    assert list(body["errors"]["json"]) == ["corrections.ktp"]


def test_unsigned_garbage_never_reaches_the_parser(client: FlaskClient) -> None:
    for raw in (b"\xff\xfe", b"[]", json.dumps({"payment_code": None}).encode()):
        response = client.post(
            "/api/v1/payments/callback",
            data=raw,
            headers={"Content-Type": "application/json", "X-Signature": "\u00e9" * 64},
        )
        assert_problem(response, 401, "invalid_signature")
