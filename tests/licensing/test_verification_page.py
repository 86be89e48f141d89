"""The verification page a phone camera opens: HTML for browsers, JSON for apps, each state in
words, the holder's name but never the NIK, nothing loaded from elsewhere and not indexed."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.models import User
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.formatting import long_date
from binjai_api.licensing.models import Permit
from tests.licensing.helpers import (
    QUICK_DEADLINES,
    issued_permit,
    make_permit_type,
    officer,
    person,
)

pytestmark = pytest.mark.usefixtures("rollback_db")
VERIFY = "/api/v1/permits/verify"
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile",
}
NIK = "1275011204900031"

# Each state's words, in Indonesian and in English.
HEADLINES = {
    "valid": ("Izin berlaku", "Valid permit"),
    "expired": ("Masa berlaku izin habis", "Permit expired"),
    "revoked": ("Izin dicabut", "Permit revoked"),
    "replaced": ("Izin telah diganti", "Permit replaced"),
    "not_found": ("Izin tidak ditemukan", "Permit not found"),
}


@pytest.fixture
def permit(app: Flask, client: FlaskClient) -> dict[str, Any]:
    permit_type = make_permit_type(
        app, technical=None, levy_idr=None, deadlines=QUICK_DEADLINES, validity_months=12
    )
    applicant = person(app, client, full_name="Budi Santoso Ginting", nik=NIK)
    dpmptsp = officer(app, client, "DPMPTSP")
    issued = issued_permit(client, applicant, dpmptsp, permit_type)
    issued |= {"applicant": applicant, "dpmptsp": dpmptsp, "type": permit_type}
    return issued


def _set(app: Flask, permit_id: str, **values: Any) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Permit).where(Permit.id == uuid.UUID(permit_id)).values(**values)
        )
        db.session.commit()


def make_state(app: Flask, client: FlaskClient, permit: dict[str, Any], state: str) -> str:
    """Bring the permit into `state`; the code to check."""
    code = str(permit["verification_code"])
    if state == "expired":
        # Validity is signed into the code: re-sign the moved dates as issuance would.
        with app.test_request_context():
            from binjai_api.licensing import permits

            row = db.session.get(Permit, uuid.UUID(permit["id"]))
            assert row is not None
            row.valid_from = date.today() - timedelta(days=400)
            row.valid_until = date.today() - timedelta(days=35)
            row.verification_code = code = permits.code_of(row)
            db.session.commit()
    elif state == "revoked":
        _set(app, permit["id"], status="revoked", revoked_at=utcnow(), revocation_reason="X")
    elif state == "replaced":
        newer = issued_permit(client, permit["applicant"], permit["dpmptsp"], permit["type"])
        _set(app, permit["id"], replaced_by_id=uuid.UUID(newer["id"]))
        permit["replacement_number"] = newer["permit_number"]
    elif state == "not_found":
        code = "A" * 43
    return code


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("state", list(HEADLINES))
def test_each_state_reads_in_words_on_a_self_contained_page(
    app: Flask, client: FlaskClient, permit: dict[str, Any], state: str
) -> None:
    code = make_state(app, client, permit, state)
    response = client.get(f"{VERIFY}/{code}", headers=BROWSER)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Language"] == "id"
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    text = text_of(html)
    assert HEADLINES[state][0] in text, text
    # Not indexed, not framed, nothing run or fetched.
    assert '<meta name="robots" content="noindex' in html
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "<script" not in html.lower()
    assert re.findall(r"(?:src|href)=\"([^\"]*)\"", html) == ["?lang=en"]
    assert "Accept" in response.headers["Vary"]
    assert "Diperiksa pada" in text and "WIB" in text
    assert NIK not in html and NIK[-4:] not in html
    if state == "not_found":
        assert "Budi Santoso Ginting" not in text and "palsu" in text
        return
    for shown in (
        permit["permit_number"],
        "Budi Santoso Ginting",
        "Surat Izin Praktik Bidan",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    ):
        assert shown in text, (shown, text)
    if state == "valid":
        until = date.fromisoformat(permit["valid_until"])
        assert f"berlaku sampai {long_date(until, 'id')}" in text
    if state == "replaced":
        assert permit["replacement_number"] in text


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {"Accept-Language": "en-US,en;q=0.9"}), ("?lang=en", {"Accept-Language": "id"})],
)
def test_english_on_accept_language_or_lang(
    client: FlaskClient, permit: dict[str, Any], query: str, headers: dict[str, str]
) -> None:
    response = client.get(
        f"{VERIFY}/{permit['verification_code']}{query}", headers={**BROWSER, **headers}
    )
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and response.headers["Content-Language"] == "en"
    text = text_of(html)
    for shown in ("Valid permit", "Midwife practice permit", "Holder", "Checked on"):
        assert shown in text, (shown, text)
    assert "Investment and One-Stop Integrated Services Agency" in text
    assert "Izin berlaku" not in text
    assert 'href="?lang=id"' in html


def test_apps_still_get_json(client: FlaskClient, permit: dict[str, Any]) -> None:
    url = f"{VERIFY}/{permit['verification_code']}"
    for accept in (None, "application/json", "*/*"):
        response = client.get(url, headers={"Accept": accept} if accept else {})
        assert response.mimetype == "application/json", accept
        assert response.get_json()["result"] == "valid"
        assert response.get_json()["holder_name"] == "Budi Santoso Ginting"
    assert "Accept" in response.headers["Vary"]


def test_the_qr_code_points_at_the_page_under_the_public_base_url(
    app: Flask, client: FlaskClient, permit: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://izin.binjaikota.go.id")
    mine = client.get("/api/v1/permits/mine", headers=permit["applicant"].headers).get_json()
    url = mine[0]["verification_url"]
    assert url == f"https://izin.binjaikota.go.id{VERIFY}/{permit['verification_code']}"
    page = client.get(url.removeprefix("https://izin.binjaikota.go.id"), headers=BROWSER)
    assert page.mimetype == "text/html" and "Izin berlaku" in page.get_data(as_text=True)


def test_the_page_never_shows_a_users_other_data(
    app: Flask, client: FlaskClient, permit: dict[str, Any]
) -> None:
    with app.app_context():
        holder = db.session.get(User, uuid.UUID(permit["applicant"].id))
        assert holder is not None
        private = [holder.nik, holder.phone, holder.email, str(holder.id)]
    html = client.get(f"{VERIFY}/{permit['verification_code']}", headers=BROWSER).get_data(
        as_text=True
    )
    assert [value for value in private if value and value in html] == []
