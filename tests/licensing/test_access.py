"""Object-level authorization: applicants see only their own applications and documents; officers
only their agency's, and act only on their agency's step; the Command Center reads, masked."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.licensing.helpers import (
    BASE,
    PDF,
    QUICK_DEADLINES,
    Person,
    act,
    acted,
    draft,
    issued_permit,
    make_permit_type,
    officer,
    person,
    submitted,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


def test_applicants_see_only_their_own_applications_and_documents(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    owner = person(app, client)
    stranger = person(app, client)
    app_id = submitted(client, owner, permit_type)
    detail = client.get(f"{BASE}/{app_id}", headers=owner.headers).get_json()
    document_id = detail["documents"][0]["id"]

    own = client.get(f"{BASE}/{app_id}/documents/{document_id}", headers=owner.headers)
    assert own.status_code == 200 and own.data == PDF and own.mimetype == "application/pdf"

    assert_problem(client.get(f"{BASE}/{app_id}", headers=stranger.headers), 404, "not_found")
    assert_problem(
        client.get(f"{BASE}/{app_id}/documents/{document_id}", headers=stranger.headers),
        404,
        "not_found",
    )
    assert_problem(act(client, stranger, app_id, "withdraw"), 404, "not_found")
    assert client.get(f"{BASE}/mine", headers=stranger.headers).get_json() == []
    assert [a["id"] for a in client.get(f"{BASE}/mine", headers=owner.headers).get_json()] == [
        app_id
    ]
    # A document id of another application is not reachable through one's own application.
    mine = draft(client, stranger, permit_type)
    assert_problem(
        client.get(f"{BASE}/{mine['id']}/documents/{document_id}", headers=stranger.headers),
        404,
        "not_found",
    )


def test_officers_see_and_act_only_for_their_agency(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app, technical="DINKES")
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    dinkes = officer(app, client, "DINKES")
    pupr = officer(app, client, "PUPR")
    a_draft = draft(client, applicant, permit_type)
    app_id = submitted(client, applicant, permit_type)

    # Another agency: the application and its documents do not exist for them.
    assert_problem(client.get(f"{BASE}/{app_id}", headers=pupr.headers), 404, "not_found")
    document_id = client.get(f"{BASE}/{app_id}", headers=dpmptsp.headers).json["documents"][0]["id"]
    document_url = f"{BASE}/{app_id}/documents/{document_id}"
    assert_problem(client.get(document_url, headers=pupr.headers), 404, "not_found")
    assert client.get(document_url, headers=dinkes.headers).data == PDF
    assert client.get(document_url, headers=dpmptsp.headers).data == PDF
    assert_problem(act(client, pupr, app_id, "verify"), 404, "not_found")
    assert client.get(f"{BASE}?permit_type_id={permit_type['id']}", headers=pupr.headers).json == []

    # Drafts stay with the applicant.
    assert_problem(client.get(f"{BASE}/{a_draft['id']}", headers=dpmptsp.headers), 404, "not_found")

    # The technical agency sees it but the verification step is the issuing agency's.
    assert client.get(f"{BASE}/{app_id}", headers=dinkes.headers).get_json()["id"] == app_id
    assert_problem(act(client, dinkes, app_id, "verify"), 403, "not_your_step")
    # Nor may the applicant take an officer's step, or an officer the applicant's.
    assert_problem(act(client, applicant, app_id, "verify"), 403, "not_your_step")
    assert_problem(act(client, dpmptsp, app_id, "withdraw"), 403, "not_your_step")

    acted(client, dpmptsp, app_id, "verify")
    assert_problem(
        act(client, dpmptsp, app_id, "record_review", review_result="recommended", note="ok"),
        403,
        "not_your_step",
    )

    # Both agencies handle it; only the one whose step it is finds it waiting on them.
    def queue(who: Person, **args: str) -> list[str]:
        query = {"permit_type_id": permit_type["id"], **args}
        return [
            item["id"] for item in client.get(BASE, headers=who.headers, query_string=query).json
        ]

    assert queue(dinkes) == queue(dpmptsp) == [app_id]
    assert queue(dinkes, waiting_on_my_agency="true") == [app_id]
    assert queue(dpmptsp, waiting_on_my_agency="true") == []

    # Officers handling the case see the applicant's identity in full, as the applicant does.
    own = client.get(f"{BASE}/{app_id}", headers=applicant.headers).get_json()["applicant"]
    assert "*" not in own["nik"] and "*" not in own["phone"]
    for handling in (dinkes, dpmptsp):
        assert client.get(f"{BASE}/{app_id}", headers=handling.headers).json["applicant"] == own


def test_the_command_center_reads_with_personal_data_masked_and_cannot_act(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    operator = person(app, client, "operator")
    app_id = submitted(client, applicant, permit_type)
    detail = client.get(f"{BASE}/{app_id}", headers=operator.headers).get_json()
    own = client.get(f"{BASE}/{app_id}", headers=applicant.headers).get_json()
    for name in ("nik", "phone"):
        masked, full = detail["applicant"][name], own["applicant"][name]
        assert "*" not in full and masked != full
        assert masked.startswith("*") and full.endswith(masked.lstrip("*"))
    assert detail["form_data"] == {"nama_praktik": "********hati"}  # free text: masked
    assert_problem(act(client, operator, app_id, "verify"), 403, "forbidden")
    document_id = detail["documents"][0]["id"]
    assert_problem(
        client.get(f"{BASE}/{app_id}/documents/{document_id}", headers=operator.headers),
        403,
        "forbidden",
    )
    assert own["form_data"] == {"nama_praktik": "Bidan Sehati"}


def test_the_holder_and_the_issuing_officers_download_the_permit(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(
        app,
        technical=None,
        levy_idr=None,
        deadlines=QUICK_DEADLINES,
    )
    holder = person(app, client)
    other = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    permit = issued_permit(client, holder, dpmptsp, permit_type)
    assert (
        client.get(f"/api/v1/permits/{permit['id']}/pdf", headers=holder.headers).status_code == 200
    )
    assert_problem(
        client.get(f"/api/v1/permits/{permit['id']}/pdf", headers=other.headers), 404, "not_found"
    )
    assert (
        client.get(f"/api/v1/permits/{permit['id']}/pdf", headers=dpmptsp.headers).status_code
        == 200
    )
    assert_problem(
        client.get(
            f"/api/v1/permits/{permit['id']}/pdf", headers=officer(app, client, "PUPR").headers
        ),
        404,
        "not_found",
    )
    assert_problem(
        client.get(
            f"/api/v1/permits/{permit['id']}/pdf", headers=person(app, client, "operator").headers
        ),
        403,
        "forbidden",
    )
    assert client.get("/api/v1/permits/mine", headers=other.headers).get_json() == []
