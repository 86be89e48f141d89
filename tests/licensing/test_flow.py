"""End to end: draft, submit, correction, resubmission, technical review, approval with a bill,
payment, issuance, the PDF, public verification, revocation; every step in the timeline and in
the applicant's inbox."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.licensing import pdf
from tests.licensing.helpers import (
    BASE,
    QUICK_DEADLINES,
    act,
    acted,
    callback,
    draft,
    make_permit_type,
    officer,
    person,
    upload,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


def test_submit_answers_exactly_what_is_missing(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = client.post(
        BASE, headers=applicant.headers, json={"permit_type_id": permit_type["id"]}
    ).get_json()
    assert application["status"] == "draft"
    assert application["number"].startswith("IZN-")
    assert upload(client, applicant.headers, application["id"], "ktp").status_code == 201

    body = assert_problem(
        client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers),
        422,
        "application_incomplete",
    )
    assert body["missing_fields"] == ["nama_praktik"]
    assert body["missing_documents"] == ["str"]  # ktp is there; denah is optional
    assert set(body["errors"]) == {"form_data", "documents"}
    assert list(body["errors"]["documents"]) == ["str"]


def test_form_values_are_checked_against_their_types(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    response = client.patch(
        f"{BASE}/{application['id']}",
        headers=applicant.headers,
        json={"form_data": {"jumlah_ruang": "tiga", "warna": "merah"}},
    )
    body = assert_problem(response, 422, "validation_error")
    # Nested fields are named by their dotted path (errors.py: flatten_errors).
    assert set(body["errors"]["json"]) == {"form_data.jumlah_ruang", "form_data.warna"}
    response = client.patch(
        f"{BASE}/{application['id']}",
        headers=applicant.headers,
        json={"form_data": {"jumlah_ruang": 3, "nama_praktik": None}},
    )
    assert response.status_code == 200
    assert response.get_json()["form_data"] == {"jumlah_ruang": 3}


def test_the_whole_journey_of_a_permit_with_a_technical_review_and_a_levy(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    qr_values: list[str] = []

    class RecordingQr(pdf.QrCodeWidget):
        def __init__(self, value: str, **kwargs: Any) -> None:
            qr_values.append(value)
            super().__init__(value, **kwargs)

    monkeypatch.setattr(pdf, "QrCodeWidget", RecordingQr)
    permit_type = make_permit_type(app, technical="DINKES", levy_idr=150000)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    dinkes = officer(app, client, "DINKES")
    application = draft(client, applicant, permit_type)
    app_id = application["id"]
    for code in ("ktp", "str"):
        assert upload(client, applicant.headers, app_id, code).status_code == 201

    # Submit: the issuing agency must verify within its deadline.
    detail = client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers).get_json()
    assert detail["status"] == "submitted"
    assert detail["step"] == "verification"
    assert detail["next_action"]["actor"] == "issuing_agency"
    assert detail["next_action"]["agency_code"] == "DPMPTSP"
    assert detail["next_action"]["due_at"] == detail["step_due_at"]
    assert detail["next_action"]["clock"] == "running"

    # Perbaikan berkas: a reason per requirement and a deadline for the applicant.
    detail = acted(
        client,
        dpmptsp,
        app_id,
        "request_correction",
        note="STR kedaluwarsa.",
        corrections=[{"requirement_code": "str", "reason": "STR sudah tidak berlaku."}],
        correction_days=3,
    )
    assert detail["status"] == "correction_requested"
    assert detail["next_action"]["actor"] == "applicant"
    assert detail["next_action"]["clock"] == "paused"
    assert detail["open_corrections"] == [
        {"requirement_code": "str", "reason": "STR sudah tidak berlaku."}
    ]
    documents = {d["requirement_code"]: d for d in detail["documents"]}
    assert documents["str"]["review_status"] == "rejected"
    assert documents["str"]["review_note"] == "STR sudah tidak berlaku."
    assert documents["ktp"]["review_status"] == "accepted"

    # Resubmitting without a new version of the rejected document is refused, precisely.
    body = assert_problem(
        client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers),
        422,
        "application_incomplete",
    )
    assert body["missing_documents"] == ["str"] and body["missing_fields"] == []
    response = upload(client, applicant.headers, app_id, "str", content=b"%PDF-1.7 new STR")
    assert response.status_code == 201
    assert response.get_json()["version"] == 2
    detail = client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers).get_json()
    assert detail["status"] == "submitted"
    assert [d["version"] for d in detail["documents"] if d["requirement_code"] == "str"] == [1, 2]

    # Verification hands over to the technical agency, which records its review.
    detail = acted(client, dpmptsp, app_id, "verify")
    assert detail["status"] == "technical_review"
    assert detail["next_action"]["agency_code"] == "DINKES"
    detail = acted(
        client, dinkes, app_id, "record_review", review_result="recommended", note="Layak."
    )
    assert detail["status"] == "awaiting_decision"
    assert detail["technical_review_result"] == "recommended"

    # Approval issues the bill; the clock stops until it is paid.
    detail = acted(client, dpmptsp, app_id, "approve")
    assert detail["status"] == "awaiting_payment"
    assert detail["next_action"]["clock"] == "paused"
    bill = detail["bill"]
    assert bill["amount_idr"] == 150000 and bill["status"] == "unpaid"
    assert bill["due_at"] == detail["next_action"]["due_at"]
    paid = callback(
        client,
        {"payment_code": bill["payment_code"], "amount_idr": 150000, "reference": "VA-1"},
        app=app,
    )
    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["status"] == "paid"

    detail = client.get(f"{BASE}/{app_id}", headers=applicant.headers).get_json()
    assert detail["status"] == "approved"
    assert detail["next_action"]["clock"] == "running"
    assert detail["step"] == "issuance"

    # Issuance: a number, validity dates, a signed code; the PDF carries the verification URL.
    detail = acted(client, dpmptsp, app_id, "issue")
    assert detail["status"] == "issued"
    permit = detail["permit"]
    assert permit["permit_number"].startswith(f"{permit_type['code']}/00001/DPMPTSP/")
    assert permit["verification_url"].endswith(
        f"/api/v1/permits/verify/{permit['verification_code']}"
    )
    assert len(permit["verification_code"]) == 43
    download = client.get(f"/api/v1/permits/{permit['id']}/pdf", headers=applicant.headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")
    assert permit["permit_number"].encode() in download.data
    assert permit["verification_url"].encode() in download.data
    assert qr_values == [permit["verification_url"]]  # the QR code points at the check
    mine = client.get("/api/v1/permits/mine", headers=applicant.headers).get_json()
    assert [p["id"] for p in mine] == [permit["id"]]

    verified = client.get(f"/api/v1/permits/verify/{permit['verification_code']}").get_json()
    assert verified["result"] == "valid"
    assert verified["permit_number"] == permit["permit_number"]
    assert applicant.id not in str(verified) and "nik" not in str(verified).lower()

    # Revocation, with its reason, shows at once in the public check.
    assert_problem(act(client, dpmptsp, app_id, "revoke"), 422, "validation_error")
    detail = acted(client, dpmptsp, app_id, "revoke", note="Izin disalahgunakan.")
    assert detail["status"] == "revoked"
    verified = client.get(f"/api/v1/permits/verify/{permit['verification_code']}").get_json()
    assert verified["result"] == "revoked"

    # The timeline holds every step with its actor and reason.
    steps = [
        (e["action"], e["from_status"], e["to_status"], e["actor"]) for e in detail["timeline"]
    ]
    assert [s for s in steps if s[0] != "upload_document"] == [
        ("create", None, "draft", "applicant"),
        ("submit", "draft", "submitted", "applicant"),
        ("request_correction", "submitted", "correction_requested", "issuing_agency"),
        ("resubmit", "correction_requested", "submitted", "applicant"),
        ("verify", "submitted", "technical_review", "issuing_agency"),
        ("record_review", "technical_review", "awaiting_decision", "technical_agency"),
        ("approve", "awaiting_decision", "awaiting_payment", "issuing_agency"),
        ("confirm_payment", "awaiting_payment", "approved", "payment_gateway"),
        ("issue", "approved", "issued", "issuing_agency"),
        ("revoke", "issued", "revoked", "issuing_agency"),
    ]
    by_action = {e["action"]: e for e in detail["timeline"]}
    assert by_action["request_correction"]["note"] == "STR kedaluwarsa."
    assert by_action["request_correction"]["actor_agency_code"] == "DPMPTSP"
    assert by_action["request_correction"]["details"]["corrections"][0]["requirement_code"] == "str"
    assert by_action["revoke"]["note"] == "Izin disalahgunakan."
    assert by_action["approve"]["details"]["payment_code"] == bill["payment_code"]

    # Every step notified the applicant; the issued permit ended the service, so the applicant
    # was invited to the SKM survey (quality/), once: the revocation invites no one.
    inbox = client.get("/api/v1/notifications?page_size=50", headers=applicant.headers).get_json()
    assert [n["kind"] for n in reversed(inbox)] == [
        "permit_submitted",
        "permit_correction_requested",
        "permit_resubmitted",
        "permit_verified",
        "permit_reviewed",
        "permit_bill_issued",
        "permit_payment_received",
        "permit_issued",
        "survey_invitation",
        "permit_revoked",
    ]
    bill_note = next(n for n in inbox if n["kind"] == "permit_bill_issued")
    assert bill["payment_code"] in bill_note["body"] and "150.000" in bill_note["body"]


def test_without_technical_agency_or_levy_verification_leads_to_decision_then_approval(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(
        app,
        technical=None,
        levy_idr=None,
        deadlines=QUICK_DEADLINES,
    )
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        upload(client, applicant.headers, application["id"], code)
    client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers)
    assert acted(client, dpmptsp, application["id"], "verify")["status"] == "awaiting_decision"
    detail = acted(client, dpmptsp, application["id"], "approve")
    assert detail["status"] == "approved" and detail["bill"] is None
    assert acted(client, dpmptsp, application["id"], "issue")["permit"]["status"] == "active"


def test_rejection_needs_a_reason_and_is_shown_to_the_applicant(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        upload(client, applicant.headers, application["id"], code)
    client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers)
    assert_problem(act(client, dpmptsp, application["id"], "reject"), 422, "validation_error")
    acted(client, dpmptsp, application["id"], "reject", note="Lokasi di luar zona praktik.")
    detail = client.get(f"{BASE}/{application['id']}", headers=applicant.headers).get_json()
    assert detail["status"] == "rejected"
    assert detail["status_reason"] == "Lokasi di luar zona praktik."
    [mine] = client.get(f"{BASE}/mine", headers=applicant.headers).get_json()
    assert mine["status"] == "rejected"
    assert mine["status_reason"] == "Lokasi di luar zona praktik."
    assert [e["action"] for e in mine["timeline"] if e["action"] != "upload_document"] == [
        "create",
        "submit",
        "reject",
    ]
    assert detail["next_action"] == {
        "actor": None,
        "agency_id": None,
        "agency_code": None,
        "due_at": None,
        "overdue": False,
        "clock": "stopped",
        "actions": [],
    }
    assert detail["timeline"][-1]["note"] == "Lokasi di luar zona praktik."
    inbox = client.get("/api/v1/notifications", headers=applicant.headers).get_json()
    # A refusal ends the service too: the survey invitation follows the rejection.
    assert [n["kind"] for n in inbox[:2]] == ["survey_invitation", "permit_rejected"]
    assert "Lokasi di luar zona praktik." in inbox[1]["body"]


def test_withdrawal_is_possible_until_a_decision_only(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(
        app,
        technical=None,
        levy_idr=150000,
        deadlines=QUICK_DEADLINES,
    )
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    first = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        upload(client, applicant.headers, first["id"], code)
    client.post(f"{BASE}/{first['id']}/submit", headers=applicant.headers)
    assert acted(client, applicant, first["id"], "withdraw")["status"] == "withdrawn"
    assert_problem(act(client, applicant, first["id"], "withdraw"), 409, "invalid_transition")

    second = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        upload(client, applicant.headers, second["id"], code)
    client.post(f"{BASE}/{second['id']}/submit", headers=applicant.headers)
    acted(client, dpmptsp, second["id"], "verify")
    acted(client, dpmptsp, second["id"], "approve")
    assert_problem(act(client, applicant, second["id"], "withdraw"), 409, "invalid_transition")


def test_illegal_transitions_answer_409(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        upload(client, applicant.headers, application["id"], code)
    client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers)
    assert_problem(act(client, dpmptsp, application["id"], "issue"), 409, "invalid_transition")
    assert_problem(act(client, dpmptsp, application["id"], "approve"), 409, "invalid_transition")
    assert_problem(
        client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers),
        409,
        "invalid_transition",
    )
    # The payment gateway's step is not a person's to take.
    assert_problem(
        act(client, dpmptsp, application["id"], "confirm_payment"), 422, "validation_error"
    )
    # Documents cannot change once submitted.
    assert_problem(
        upload(client, applicant.headers, application["id"], "ktp"), 409, "application_not_editable"
    )


def test_a_renewal_replaces_the_earlier_permit(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(
        app,
        technical=None,
        levy_idr=None,
        deadlines=QUICK_DEADLINES,
    )
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")

    def issue(replaces: str | None = None) -> dict[str, str]:
        body = {"permit_type_id": permit_type["id"], "form_data": {"nama_praktik": "Sehati"}}
        if replaces:
            body["replaces_permit_id"] = replaces
        application = client.post(BASE, headers=applicant.headers, json=body).get_json()
        for code in ("ktp", "str"):
            upload(client, applicant.headers, application["id"], code)
        client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers)
        acted(client, dpmptsp, application["id"], "verify")
        acted(client, dpmptsp, application["id"], "approve")
        return dict(acted(client, dpmptsp, application["id"], "issue")["permit"])

    first = issue()
    second = issue(replaces=first["id"])
    assert second["permit_number"] != first["permit_number"]
    old = client.get(f"/api/v1/permits/verify/{first['verification_code']}").get_json()
    assert old["result"] == "replaced"
    assert old["replaced_by_permit_number"] == second["permit_number"]
    new = client.get(f"/api/v1/permits/verify/{second['verification_code']}").get_json()
    assert new["result"] == "valid"


def test_officers_review_documents_one_by_one_then_send_the_rejected_back(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app, technical="PUPR")
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    pupr = officer(app, client, "PUPR")
    application = draft(client, applicant, permit_type)
    app_id = application["id"]
    for code in ("ktp", "str"):
        upload(client, applicant.headers, app_id, code)
    detail = client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers).get_json()
    ktp, str_ = (
        next(d for d in detail["documents"] if d["requirement_code"] == c) for c in ("ktp", "str")
    )

    def review(who: Any, document: dict[str, Any], **body: Any) -> Any:
        return client.post(
            f"{BASE}/{app_id}/documents/{document['id']}/review", headers=who.headers, json=body
        )

    # Only the agency whose step it is reviews; a rejection needs its reason.
    assert_problem(review(pupr, ktp, review_status="accepted"), 403, "not_your_step")
    assert_problem(review(dpmptsp, ktp, review_status="rejected"), 422, "validation_error")
    assert review(dpmptsp, ktp, review_status="accepted").get_json()["review_status"] == "accepted"
    rejected = review(dpmptsp, str_, review_status="rejected", note="Nomor STR tidak terbaca.")
    assert rejected.get_json()["review_note"] == "Nomor STR tidak terbaca."

    # Without a list, the correction request sends back what was rejected, with its reason.
    detail = acted(client, dpmptsp, app_id, "request_correction", note="Perbaiki STR.")
    assert detail["open_corrections"] == [
        {"requirement_code": "str", "reason": "Nomor STR tidak terbaca."}
    ]
    assert_problem(review(dpmptsp, ktp, review_status="accepted"), 409, "document_review_closed")
    upload(client, applicant.headers, app_id, "str")
    client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers)
    # An older version is not reviewed any more.
    assert_problem(review(dpmptsp, str_, review_status="accepted"), 409, "not_latest_version")
    reviews = [e for e in detail["timeline"] if e["action"] == "review_document"]
    assert [(e["details"]["requirement_code"], e["details"]["review_status"]) for e in reviews] == [
        ("ktp", "accepted"),
        ("str", "rejected"),
    ]


def test_the_technical_agency_asks_for_corrections_and_gets_the_case_back(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app, technical="PUPR")
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    pupr = officer(app, client, "PUPR")
    application = draft(client, applicant, permit_type)
    app_id = application["id"]
    for code in ("ktp", "str"):
        upload(client, applicant.headers, app_id, code)
    client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers)
    acted(client, dpmptsp, app_id, "verify")
    detail = acted(
        client,
        pupr,
        app_id,
        "request_correction",
        note="Denah belum ada.",
        corrections=[
            {"requirement_code": "denah", "reason": "Lampirkan denah ruang praktik."},
            {"field_code": "jumlah_ruang", "reason": "Isi jumlah ruang."},
        ],
    )
    assert detail["status"] == "technical_correction_requested"
    body = assert_problem(
        client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers),
        422,
        "application_incomplete",
    )
    assert body["missing_documents"] == ["denah"]
    upload(client, applicant.headers, app_id, "denah")
    detail = client.post(f"{BASE}/{app_id}/submit", headers=applicant.headers).get_json()
    assert detail["status"] == "technical_review"
    assert detail["next_action"]["agency_code"] == "PUPR"


def test_a_correction_request_names_real_requirements_and_fields(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = draft(client, applicant, permit_type)
    for code in ("ktp", "str"):
        upload(client, applicant.headers, application["id"], code)
    client.post(f"{BASE}/{application['id']}/submit", headers=applicant.headers)
    response = act(
        client,
        dpmptsp,
        application["id"],
        "request_correction",
        note="Perbaiki.",
        corrections=[
            {"requirement_code": "paspor", "reason": "Tidak ada."},
            {"field_code": "warna", "reason": "Tidak ada."},
        ],
    )
    body = assert_problem(response, 422, "validation_error")
    assert set(body["errors"]["json"]) == {"corrections.paspor", "corrections.warna"}
    # Nothing to correct named, and no document rejected beforehand: refused too.
    response = act(client, dpmptsp, application["id"], "request_correction", note="Perbaiki.")
    assert "corrections" in assert_problem(response, 422, "validation_error")["errors"]["json"]
    detail = client.get(f"{BASE}/{application['id']}", headers=applicant.headers).get_json()
    assert detail["status"] == "submitted"
