"""The public performance page: its figures (JSON), the page for people (HTML), and no one in it."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.complaints.helpers import act, submit
from tests.licensing.helpers import acted, make_permit_type, officer, person, submitted
from tests.quality.conftest import Person, answer, closed_report, invite, make_person, scores

PERFORMANCE = "/api/v1/public/performance"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _city(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    officer: Person,
) -> dict[str, Any]:
    """Three reports (two closed, one waiting) and five survey answers about road damage."""
    first = closed_report(client, resident, operator, officer, categories["road_damage"])
    closed_report(client, resident, operator, officer, categories["road_damage"])
    waiting = submit(client, resident.headers, categories["road_damage"])
    assert act(client, operator.headers, waiting["id"], "dispatch").status_code == 200
    pupr = uuid.UUID(factories.agency_id(app, "PUPR"))
    for values in ((4,) * 9, (3,) * 9, (3,) * 9, (4,) * 9, (3,) * 9):
        someone = make_person(app, client)
        invitation_id = invite(app, someone.id, agency_id=pupr)
        assert (
            answer(client, someone.headers, invitation_id, {"scores": scores(*values)}).status_code
            == 201
        )
    return first


def test_the_figures_per_month_agency_and_kecamatan(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    _city(app, client, categories, resident, operator, pupr_officer)
    response = client.get(PERFORMANCE)
    assert response.status_code == 200 and response.mimetype == "application/json"
    figures = response.get_json()
    summary = figures["summary"]
    assert summary["complaints"]["received"] == 3
    # Two resolved the same minute they were dispatched, one still within its deadline.
    assert summary["complaints"]["followed_up_judged"] == 2
    assert summary["complaints"]["followed_up_on_time"] == 2
    assert summary["complaints"]["followed_up_on_time_share"] == 1.0
    assert summary["complaints"]["median_hours_to_resolve"] is not None
    # Three residents answered with 3s and two with 4s: NRR 3.4 everywhere -> IKM 85.00, B.
    # (The two closed reports invited their reporter too: 7 services, 5 answers.)
    assert summary["ikm"]["answers"] == 5 and summary["ikm"]["population"] == 7
    assert summary["ikm"]["ikm"] == 85.0 and summary["ikm"]["grade"]["letter"] == "B"
    [pupr] = figures["agencies"]
    assert pupr["agency"]["code"] == "PUPR" and pupr["complaints"]["received"] == 3
    by_area = {
        row["kecamatan"]["code"]: row["complaints"]["received"]
        for row in figures["kecamatan_figures"]
    }
    assert by_area["12.75.02"] == 3 and sum(by_area.values()) == 3

    narrowed = client.get(f"{PERFORMANCE}?kecamatan=12.75.01").get_json()
    assert narrowed["kecamatan"]["code"] == "12.75.01"
    assert narrowed["summary"]["complaints"]["received"] == 0
    other_month = client.get(f"{PERFORMANCE}?month=2020-01").get_json()
    assert other_month["summary"]["complaints"]["received"] == 0 and other_month["agencies"] == []
    dlh = factories.agency_id(app, "DLH")
    one = client.get(f"{PERFORMANCE}?agency_id={dlh}").get_json()
    assert one["agency"]["code"] == "DLH" and one["summary"]["complaints"]["received"] == 0


def test_bad_filters_are_422(client: FlaskClient, rollback_db: None) -> None:
    for query in (
        "month=2026-13",
        "month=26-01",
        "kecamatan=99.99.99",
        f"agency_id={uuid.uuid4()}",
    ):
        response = client.get(f"{PERFORMANCE}?{query}")
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"


def test_no_personal_data_on_the_page_or_in_the_figures(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    operator: Person,
    pupr_officer: Person,
) -> None:
    account = factories.make_account(app, "citizen", full_name="Siti Rahmawati Lubis")
    resident = Person(account.id, factories.login_headers(client, account))
    first = _city(app, client, categories, resident, operator, pupr_officer)
    with app.app_context():
        from binjai_api.auth import service as auth_service

        user = auth_service.get_user(uuid.UUID(resident.id))
        private = [user.full_name, user.phone, user.nik, user.email, resident.id]
    private += [first["tracking_number"], first["title"], first["id"], "Jl. Soekarno-Hatta"]
    for headers in ({}, HTML, {**HTML, "Accept-Language": "en"}):
        text = client.get(PERFORMANCE, headers=headers).get_data(as_text=True)
        leaked = [value for value in private if value and value in text]
        assert leaked == []


def test_browsers_get_a_page_in_indonesian_or_english_with_nothing_from_outside(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    _city(app, client, categories, resident, operator, pupr_officer)
    page = client.get(PERFORMANCE, headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Kinerja pelayanan publik" in html and "Indeks Kepuasan Masyarakat (IKM)" in html
    assert "85" in html and "B · Baik" in html
    assert "<script" not in html.lower()
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", html) == []
    english = client.get(f"{PERFORMANCE}?lang=en", headers=HTML).get_data(as_text=True)
    assert '<html lang="en">' in english and "Public service performance" in english
    assert "B · Good" in english
    by_header = client.get(PERFORMANCE, headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="en">' in by_header.get_data(as_text=True)


def test_fewer_than_five_answers_show_no_index_on_the_page(
    app: Flask, client: FlaskClient, rollback_db: None
) -> None:
    pupr = uuid.UUID(factories.agency_id(app, "PUPR"))
    for _ in range(4):
        someone = make_person(app, client)
        invitation_id = invite(app, someone.id, agency_id=pupr)
        assert (
            answer(
                client, someone.headers, invitation_id, {"scores": scores(*(1,) * 9)}
            ).status_code
            == 201
        )
    figures = client.get(PERFORMANCE).get_json()
    assert figures["summary"]["ikm"]["answers"] == 4
    assert figures["summary"]["ikm"]["ikm"] is None and figures["summary"]["ikm"]["grade"] is None
    html = client.get(PERFORMANCE, headers=HTML).get_data(as_text=True)
    assert "tidak ditampilkan agar jawaban tetap anonim" in html and "Tidak Baik" not in html


def test_permits_issued_within_their_service_level_are_counted(
    app: Flask, client: FlaskClient, rollback_db: None
) -> None:
    permit_type = make_permit_type(app, technical=None, levy_idr=None)
    dpmptsp = officer(app, client, "DPMPTSP")
    for _ in range(2):
        application = submitted(client, person(app, client), permit_type)
        for action in ("verify", "approve", "issue"):
            acted(client, dpmptsp, application, action)
    refused = submitted(client, person(app, client), permit_type)
    acted(client, dpmptsp, refused, "reject", note="Tidak lengkap.")
    figures = client.get(PERFORMANCE).get_json()
    assert figures["summary"]["permits"] == {
        "issued": 2,  # a refusal is not an issuance
        "with_sla": 2,
        "within_sla": 2,
        "within_sla_share": 1.0,
    }
    [issuer] = [row for row in figures["agencies"] if row["agency"]["code"] == "DPMPTSP"]
    assert issuer["permits"]["issued"] == 2
    # All three applicants were invited to the survey: the IKM's population, no answers yet.
    assert issuer["ikm"]["population"] == 3 and issuer["ikm"]["answers"] == 0


def test_an_inactive_agencys_few_answers_cannot_be_found_by_difference(
    app: Flask, client: FlaskClient, rollback_db: None
) -> None:
    from binjai_api.agencies.models import Agency
    from binjai_api.extensions import db
    from binjai_api.quality import service as quality_service

    for code, count in (("DISHUB", 3), ("DLH", 6), ("PUPR", 9)):
        agency = uuid.UUID(factories.agency_id(app, code))
        for _ in range(count):
            someone = factories.make_account(app, "citizen")
            invitation_id = invite(app, someone.id, agency_id=agency)
            with app.app_context():
                quality_service.answer_invitation(
                    user_id=uuid.UUID(someone.id),
                    invitation_id=uuid.UUID(invitation_id),
                    scores=scores(*(3,) * 9),
                )
    with app.app_context():
        db.session.query(Agency).filter(Agency.code == "DISHUB").update({"is_active": False})
        db.session.commit()
    figures = client.get(PERFORMANCE).get_json()
    shown = {row["agency"]["code"]: row["ikm"]["suppressed"] for row in figures["agencies"]}
    # DISHUB is no longer listed; the city (18) minus DLH and PUPR would give its 3 answers.
    assert "DISHUB" not in shown
    assert shown == {"DLH": True, "PUPR": False}
    assert figures["summary"]["ikm"]["answers"] == 18
