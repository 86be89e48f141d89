"""Notification texts that read right in each language: dates, times and numbers by Babel,
catalog names in English for English readers, no doubled stops from a user's text, and each
kind opening the thing it is about."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.formatting import (
    LOCAL_TIMEZONE,
    in_each_language,
    local_date_time,
    long_date,
    number,
)
from binjai_api.notifications import kinds
from tests.licensing.helpers import (
    QUICK_DEADLINES,
    acted,
    callback,
    complete_draft,
    make_permit_type,
    officer,
    person,
    upload,
)

pytestmark = pytest.mark.usefixtures("rollback_db")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def test_dates_times_and_numbers_per_language() -> None:
    moment = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)  # 09.30 in Binjai
    assert long_date(date(2026, 12, 4), "id") == "4 Desember 2026"
    assert long_date(date(2026, 12, 4), "en") == "4 December 2026"
    assert local_date_time(moment, "id") == "4 Desember 2026 pukul 09.30 WIB"
    assert local_date_time(moment, "en") == "4 December 2026 at 09:30 WIB"
    assert (number(250000, "id"), number(250000, "en")) == ("250.000", "250,000")
    assert (number(12.5, "id"), number(12.5, "en")) == ("12,5", "12.5")


def test_an_escalation_gives_its_deadline_as_a_local_date_and_time(app: Flask) -> None:
    params = {
        "reference": "BJI-2026-000042",
        "title": "Jalan berlubang",
        **in_each_language(
            "due", lambda lang: local_date_time(datetime(2026, 12, 4, 2, 30, tzinfo=UTC), lang)
        ),
    }
    with app.app_context():
        _, body_id = kinds.render(kinds.ESCALATION_COMPLAINT_FOLLOW_UP, params, "id")
        _, body_en = kinds.render(kinds.ESCALATION_COMPLAINT_FOLLOW_UP, params, "en")
    assert "4 Desember 2026 pukul 09.30 WIB" in body_id and "WIB WIB" not in body_id
    assert "4 December 2026 at 09:30 WIB" in body_en
    assert not ISO_DATE.search(body_id + body_en)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("note", ["Sudah ditambal dengan hotmix.", "Sudah ditambal!", "Selesai"])
def test_a_users_text_never_doubles_the_stop_after_it(app: Flask, language: str, note: str) -> None:
    params = {
        "tracking_number": "BJI-2026-000042",
        "title": "Jalan berlubang.",
        "note": note,
        **in_each_language("agency", lambda lang: "Dinas PUPR"),
    }
    with app.app_context():
        for kind in (kinds.COMPLAINT_RESOLVED, kinds.COMPLAINT_REJECTED, kinds.COMPLAINT_CLOSED):
            title, body = kinds.render(kind, params, language)
            assert not re.search(r"[.!?]\.", title + body), (kind, body)
            assert note in body or kind == kinds.COMPLAINT_CLOSED
    with app.app_context():
        _, resolved = kinds.render(kinds.COMPLAINT_RESOLVED, params, language)
    # A text without a stop of its own still ends its sentence.
    assert f"{note}." in resolved if note == "Selesai" else f"{note} " in resolved


def _inbox(client: FlaskClient, headers: dict[str, str], language: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/notifications", headers={**headers, "Accept-Language": language})
    assert response.status_code == 200
    return list(response.get_json())


def _by_kind(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["kind"]: entry for entry in entries}


def test_a_permits_notifications_read_right_in_both_languages_and_open_the_permit(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(
        app, technical=None, levy_idr=250000, deadlines=QUICK_DEADLINES, validity_months=12
    )
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    application = complete_draft(client, applicant, permit_type)
    app_id = application["id"]
    submitted = client.post(
        f"/api/v1/permit-applications/{app_id}/submit", headers=applicant.headers
    )
    assert submitted.status_code == 200
    corrected = acted(
        client,
        dpmptsp,
        app_id,
        "request_correction",
        note="STR kedaluwarsa.",
        corrections=[{"requirement_code": "str", "reason": "STR sudah tidak berlaku."}],
        correction_days=3,
    )
    due_day = (
        datetime.fromisoformat(corrected["next_action"]["due_at"].replace("Z", "+00:00"))
        .astimezone(LOCAL_TIMEZONE)
        .date()
    )

    indonesian = _by_kind(_inbox(client, applicant.headers, "id"))
    english = _by_kind(_inbox(client, applicant.headers, "en"))
    # Dates as words, in each language.
    body_id = indonesian[kinds.PERMIT_CORRECTION_REQUESTED]["body"]
    body_en = english[kinds.PERMIT_CORRECTION_REQUESTED]["body"]
    assert long_date(due_day, "id") in body_id and long_date(due_day, "en") in body_en
    assert not ISO_DATE.search(body_id + body_en)
    assert "kedaluwarsa.." not in body_id and "kedaluwarsa.." not in body_en
    # The permit type's English name in English texts.
    assert "Surat Izin Praktik Bidan" in indonesian[kinds.PERMIT_SUBMITTED]["body"]
    assert "Midwife practice permit" in english[kinds.PERMIT_SUBMITTED]["body"]
    assert "Surat Izin Praktik Bidan" not in english[kinds.PERMIT_SUBMITTED]["body"]

    # The levy in each language's numbers.
    assert upload(client, applicant.headers, app_id, "str").status_code == 201
    resubmitted = client.post(
        f"/api/v1/permit-applications/{app_id}/submit", headers=applicant.headers
    )
    assert resubmitted.status_code == 200, resubmitted.get_json()
    acted(client, dpmptsp, app_id, "verify")
    acted(client, dpmptsp, app_id, "approve")
    bill_id = _by_kind(_inbox(client, applicant.headers, "id"))[kinds.PERMIT_BILL_ISSUED]["body"]
    bill_en = _by_kind(_inbox(client, applicant.headers, "en"))[kinds.PERMIT_BILL_ISSUED]["body"]
    assert "Rp 250.000" in bill_id and "Rp 250,000" in bill_en
    assert not ISO_DATE.search(bill_id + bill_en)

    # Issued: the notification opens the permit, not the application.
    detail = client.get(
        f"/api/v1/permit-applications/{app_id}", headers=applicant.headers
    ).get_json()
    paid = callback(
        client,
        {"payment_code": detail["bill"]["payment_code"], "amount_idr": 250000, "reference": "VA"},
        app=app,
    )
    assert paid.status_code == 200, paid.get_json()
    permit = acted(client, dpmptsp, app_id, "issue")["permit"]
    entries = _by_kind(_inbox(client, applicant.headers, "id"))
    issued = entries[kinds.PERMIT_ISSUED]["link"]
    assert (issued["resource_type"], issued["resource_id"]) == ("permits", permit["id"])
    assert issued["url"] == f"binjai://permits/{permit['id']}"
    submitted_link = entries[kinds.PERMIT_SUBMITTED]["link"]
    assert submitted_link["resource_type"] == "permit-applications"
    acted(client, dpmptsp, app_id, "revoke", note="Izin disalahgunakan.")
    revoked = _by_kind(_inbox(client, applicant.headers, "id"))[kinds.PERMIT_REVOKED]
    assert revoked["link"]["resource_id"] == permit["id"]
    assert revoked["body"].endswith("disalahgunakan.") and ".." not in revoked["body"]
