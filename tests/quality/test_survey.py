"""The SKM survey: who is invited when, answering once and anonymously, and the IKM's privacy."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.extensions import db
from binjai_api.notifications.models import Notification
from binjai_api.quality import service as quality_service
from binjai_api.quality.models import SurveyAnswer, SurveyInvitation
from tests import factories
from tests.complaints.helpers import act, submit
from tests.licensing.helpers import acted, make_permit_type, officer, person, submitted
from tests.quality.conftest import (
    INVITATIONS,
    Person,
    answer,
    closed_report,
    invitation_ids,
    invite,
    make_person,
    scores,
)

IKM = "/api/v1/ops/ikm"


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    body = dict(response.get_json())
    assert body["code"] == code, body
    return body


# --- eligibility ---------------------------------------------------------------------------


def test_a_closed_report_invites_its_reporter_once_with_a_push_and_an_inbox_entry(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    complaint = closed_report(client, resident, operator, pupr_officer, categories["road_damage"])
    mine = client.get(INVITATIONS, headers=resident.headers)
    assert mine.status_code == 200
    [invitation] = mine.get_json()
    assert invitation["service_kind"] == "complaint"
    assert invitation["reference"] == complaint["tracking_number"]
    assert invitation["state"] == "open"
    questions = invitation["questionnaire"]
    assert [q["number"] for q in questions] == list(range(1, 10))
    assert questions[2]["name"] == "Waktu penyelesaian"
    assert [o["label"] for o in questions[2]["options"]] == [
        "Tidak cepat",
        "Kurang cepat",
        "Cepat",
        "Sangat cepat",
    ]
    english = client.get(
        f"{INVITATIONS}/{invitation['id']}", headers={**resident.headers, "Accept-Language": "en"}
    ).get_json()
    assert english["questionnaire"][3]["options"][3]["label"] == "Free"
    with app.app_context():
        entry = db.session.scalar(
            sa.select(Notification).where(
                Notification.user_id == uuid.UUID(resident.id),
                Notification.kind == "survey_invitation",
            )
        )
        assert entry is not None
        assert (entry.resource_type, entry.resource_id) == (
            "survey-invitations",
            invitation["id"],
        )
        # The same report ending again (closed after a reopening) invites no one.
        again = quality_service.invite(
            user_id=uuid.UUID(resident.id),
            service_kind="complaint",
            service_id=uuid.UUID(complaint["id"]),
            agency_id=None,
            service_key="road_damage",
            service_name="Jalan rusak",
            service_name_en="Road damage",
            reference=complaint["tracking_number"],
        )
        assert again is None
        db.session.commit()
    assert len(invitation_ids(app, resident.id)) == 1


def test_a_rejected_report_invites_no_one(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
) -> None:
    complaint = submit(client, resident.headers, categories["road_damage"])
    assert (
        act(client, operator.headers, complaint["id"], "reject", note="Bukan aduan.").status_code
        == 200
    )
    assert invitation_ids(app, resident.id) == []


def test_an_issued_or_refused_permit_invites_its_applicant_and_a_withdrawn_one_does_not(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app, technical=None, levy_idr=None)
    dpmptsp = officer(app, client, "DPMPTSP")
    issued_to, refused_to, withdrawn_by = (person(app, client) for _ in range(3))
    issued = submitted(client, issued_to, permit_type)
    for action in ("verify", "approve", "issue"):
        acted(client, dpmptsp, issued, action)
    refused = submitted(client, refused_to, permit_type)
    acted(client, dpmptsp, refused, "reject", note="Dokumen tidak sah.")
    withdrawn = submitted(client, withdrawn_by, permit_type)
    acted(client, withdrawn_by, withdrawn, "withdraw")
    assert len(invitation_ids(app, issued_to.id)) == 1
    assert len(invitation_ids(app, refused_to.id)) == 1
    assert invitation_ids(app, withdrawn_by.id) == []
    with app.app_context():
        invitation = db.session.scalar(
            sa.select(SurveyInvitation).where(SurveyInvitation.user_id == uuid.UUID(issued_to.id))
        )
        assert invitation is not None
        assert (invitation.service_kind, invitation.service_key) == ("permit", permit_type["code"])
        assert (invitation.expires_at - invitation.created_at).days == 30


# --- answering -----------------------------------------------------------------------------


def test_an_answer_is_taken_once_idempotently_and_kept_without_the_resident(
    app: Flask, client: FlaskClient, resident: Person
) -> None:
    invitation_id = invite(app, resident.id)
    body = {"scores": scores(4, 3, 3, 2, 3, 4, 4, 1, 3), "suggestion": "Tambah kursi tunggu."}
    headers = {**resident.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = answer(client, headers, invitation_id, body)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["state"] == "answered"
    assert first.get_json()["questionnaire"] == []
    replay = answer(client, headers, invitation_id, body)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    _problem(answer(client, resident.headers, invitation_id, body), 409, "survey_already_answered")
    with app.app_context():
        rows = db.session.scalars(sa.select(SurveyAnswer)).all()
        assert len(rows) == 1
        row = rows[0]
        assert [row.u1, row.u2, row.u3, row.u4, row.u5, row.u6, row.u7, row.u8, row.u9] == [
            4,
            3,
            3,
            2,
            3,
            4,
            4,
            1,
            3,
        ]
        assert row.suggestion == "Tambah kursi tunggu."
        # Nothing ties the answer to a person, an invitation or an instant.
        columns = set(SurveyAnswer.__table__.columns.keys())
        assert columns.isdisjoint(
            {"user_id", "invitation_id", "service_id", "created_at", "answered_at", "reference"}
        )
        assert str(row.id) != invitation_id


def test_invalid_scores_are_422_and_store_nothing(
    app: Flask, client: FlaskClient, resident: Person
) -> None:
    invitation_id = invite(app, resident.id)
    too_high = scores(4, 3, 3, 2, 3, 4, 4, 5, 3)
    body = _problem(
        answer(client, resident.headers, invitation_id, {"scores": too_high}),
        422,
        "validation_error",
    )
    assert "complaint_handling" in json.dumps(body["errors"]["json"])
    missing = scores(4, 3, 3, 2, 3, 4, 4, 1, 3)
    del missing["cost"]
    _problem(
        answer(client, resident.headers, invitation_id, {"scores": missing}),
        422,
        "validation_error",
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyAnswer)) == 0


def test_an_expired_or_anothers_invitation_cannot_be_answered(
    app: Flask, client: FlaskClient, resident: Person, other_resident: Person
) -> None:
    invitation_id = invite(app, resident.id)
    body = {"scores": scores(3, 3, 3, 3, 3, 3, 3, 3, 3)}
    _problem(answer(client, other_resident.headers, invitation_id, body), 404, "not_found")
    _problem(
        client.get(f"{INVITATIONS}/{invitation_id}", headers=other_resident.headers),
        404,
        "not_found",
    )
    with app.app_context():
        db.session.execute(
            sa.update(SurveyInvitation)
            .where(SurveyInvitation.id == uuid.UUID(invitation_id))
            .values(expires_at=SurveyInvitation.created_at)
        )
        db.session.commit()
    _problem(answer(client, resident.headers, invitation_id, body), 409, "survey_expired")
    listed = client.get(f"{INVITATIONS}?state=expired", headers=resident.headers).get_json()
    assert [i["id"] for i in listed] == [invitation_id]
    assert client.get(f"{INVITATIONS}?state=open", headers=resident.headers).get_json() == []


# --- the IKM and its privacy threshold ------------------------------------------------------------

# Five respondents whose NRRs are the worked example's (test_scoring): 3.20, 3.00, 2.80, 3.80,
# 3.00, 3.20, 3.40, 2.80, 3.00 -> Σ 28.2 -> IKM 78.33, B.
RESPONDENTS = (
    (4, 3, 3, 4, 3, 4, 4, 3, 3),
    (3, 3, 3, 4, 3, 3, 3, 3, 3),
    (3, 3, 3, 4, 3, 3, 3, 3, 3),
    (3, 3, 3, 4, 3, 3, 4, 3, 3),
    (3, 3, 2, 3, 3, 3, 3, 2, 3),
)


def _answered(app: Flask, client: FlaskClient, count: int, agency_id: str) -> None:
    for values in RESPONDENTS[:count]:
        someone = make_person(app, client)
        invitation_id = invite(app, someone.id, agency_id=uuid.UUID(agency_id))
        response = answer(client, someone.headers, invitation_id, {"scores": scores(*values)})
        assert response.status_code == 201, response.get_json()


def test_fewer_than_five_answers_show_counts_only_and_five_show_the_ikm(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    pupr = factories.agency_id(app, "PUPR")
    operator = auth_headers("operator")
    _answered(app, client, 4, pupr)
    report = client.get(IKM, headers=operator).get_json()
    for group in (report["total"], report["agencies"][0], report["agencies"][0]["services"][0]):
        assert group["answers"] == 4 and group["suppressed"] is True
        assert group["elements"] is None and group["ikm"] is None and group["grade"] is None

    _answered(app, client, 5, pupr)  # five more, in the same service: nine in all
    report = client.get(IKM, headers=operator).get_json()
    assert report["total"]["answers"] == 9 and report["total"]["suppressed"] is False
    assert report["total"]["population"] == 9
    assert report["total"]["minimum_sample"] == 9  # Krejcie-Morgan: every one of 9
    assert report["total"]["sample_sufficient"] is True
    assert report["agencies"][0]["agency"]["code"] == "PUPR"


def test_the_ikm_of_five_answers_is_the_worked_example(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    pupr = factories.agency_id(app, "PUPR")
    _answered(app, client, 5, pupr)
    report = client.get(IKM, headers=auth_headers("operator")).get_json()
    total = report["total"]
    assert [e["nrr"] for e in total["elements"]] == [3.2, 3.0, 2.8, 3.8, 3.0, 3.2, 3.4, 2.8, 3.0]
    assert total["ikm"] == 78.33
    assert total["grade"] == {"letter": "B", "label": "Baik"}
    english = client.get(IKM, headers={**auth_headers("operator"), "Accept-Language": "en"})
    assert english.get_json()["total"]["grade"] == {"letter": "B", "label": "Good"}
    csv = client.get(IKM, headers={**auth_headers("operator"), "Accept": "text/csv"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("period,level,agency_code,service_kind")
    assert lines[1].split(",")[1] == "total" and lines[1].endswith(",78.33,B")
    assert any(",service,PUPR,complaint,road_damage," in line for line in lines)


def test_officers_see_their_own_agencys_ikm_only(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    _answered(app, client, 5, factories.agency_id(app, "PUPR"))
    dlh = factories.agency_id(app, "DLH")
    officer_headers = auth_headers("officer", agency_code="DLH")
    own = client.get(IKM, headers=officer_headers).get_json()
    assert own["total"]["answers"] == 0 and own["agencies"] == []
    _problem(
        client.get(f"{IKM}?agency_id={factories.agency_id(app, 'PUPR')}", headers=officer_headers),
        403,
        "forbidden",
    )
    assert client.get(f"{IKM}?agency_id={dlh}", headers=officer_headers).status_code == 200
    _problem(client.get(IKM, headers=auth_headers("citizen")), 403, "forbidden")
    _problem(
        client.get(f"{IKM}?period=2026-13", headers=auth_headers("operator")),
        422,
        "validation_error",
    )


def test_no_small_group_can_be_found_by_subtracting_the_groups_shown(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    pupr = uuid.UUID(factories.agency_id(app, "PUPR"))
    dlh = uuid.UUID(factories.agency_id(app, "DLH"))
    groups = ((pupr, "road_damage", 6), (pupr, "drainage", 3), (dlh, "waste", 7))
    for agency, key, count in groups:
        for n in range(count):
            # Through the service: this many logins would meet the login rate limit.
            someone = factories.make_account(app, "citizen")
            invitation_id = invite(app, someone.id, agency_id=agency, service_key=key)
            with app.app_context():
                quality_service.answer_invitation(
                    user_id=uuid.UUID(someone.id),
                    invitation_id=uuid.UUID(invitation_id),
                    scores=scores(*RESPONDENTS[n % len(RESPONDENTS)]),
                )
    report = client.get(IKM, headers=auth_headers("operator")).get_json()
    services = {s["service_key"]: s for row in report["agencies"] for s in row["services"]}
    # Drainage has 3 answers: withheld. PUPR (9) minus road damage would give drainage, so road
    # damage is withheld too; the total minus every shown service (waste) gives 9, not 3.
    assert services["drainage"]["suppressed"] and services["road_damage"]["suppressed"]
    assert services["road_damage"]["ikm"] is None and services["road_damage"]["answers"] == 6
    assert not services["waste"]["suppressed"]
    agencies = {row["agency"]["code"]: row for row in report["agencies"]}
    assert not agencies["PUPR"]["suppressed"] and agencies["PUPR"]["answers"] == 9
    assert not report["total"]["suppressed"]
