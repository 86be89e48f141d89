"""The API contract on licensing's endpoints: ETags and If-Match, Idempotency-Key on creation,
sort whitelists and updated_after on the lists the app syncs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.licensing.models import PermitApplication
from tests.licensing.helpers import (
    BASE,
    QUICK_DEADLINES,
    acted,
    count,
    draft,
    issued_permit,
    make_permit_type,
    officer,
    person,
    submitted,
)
from tests.platform.test_errors import assert_problem
from tests.queries import counting_queries

pytestmark = pytest.mark.usefixtures("rollback_db")


def test_an_application_has_an_etag_and_a_stale_if_match_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    application = draft(client, applicant, permit_type)
    url = f"{BASE}/{application['id']}"
    first = client.get(url, headers=applicant.headers)
    etag = first.headers["ETag"]
    cached = client.get(url, headers={**applicant.headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""

    changed = client.patch(
        url,
        headers={**applicant.headers, "If-Match": etag},
        json={"form_data": {"jumlah_ruang": 2}},
    )
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    # Another device still holds the first version: its edit is refused, not merged.
    stale = client.patch(
        url,
        headers={**applicant.headers, "If-Match": etag},
        json={"form_data": {"jumlah_ruang": 9}},
    )
    assert_problem(stale, 412, "precondition_failed")
    assert client.get(url, headers=applicant.headers).get_json()["form_data"] == {
        "nama_praktik": "Bidan Sehati",
        "jumlah_ruang": 2,
    }


def test_the_public_check_and_a_permit_type_send_etags(
    app: Flask, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    permit_type = make_permit_type(app)
    url = f"/api/v1/permit-types/{permit_type['id']}"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    admin = auth_headers("admin")
    changed = client.patch(url, headers={**admin, "If-Match": etag}, json={"levy_idr": 1000})
    assert changed.status_code == 200
    stale = client.patch(url, headers={**admin, "If-Match": etag}, json={"levy_idr": 5})
    assert_problem(stale, 412, "precondition_failed")
    assert client.get(url).get_json()["levy_idr"] == 1000
    check = client.get("/api/v1/permits/verify/" + "A" * 43)
    assert check.headers["ETag"]
    assert (
        client.get(check.request.path, headers={"If-None-Match": check.headers["ETag"]}).status_code
        == 304
    )


def test_an_idempotency_key_creates_one_draft(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    headers = {**applicant.headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"permit_type_id": permit_type["id"], "form_data": {"nama_praktik": "Sehati"}}
    first = client.post(BASE, headers=headers, json=body)
    again = client.post(BASE, headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert (
        count(app, PermitApplication, PermitApplication.applicant_id == uuid.UUID(applicant.id))
        == 1
    )
    reused = client.post(BASE, headers=headers, json={**body, "form_data": {}})
    assert_problem(reused, 422, "idempotency_key_reuse")


def test_my_lists_sort_by_whitelisted_fields_and_sync_incrementally(
    app: Flask, client: FlaskClient
) -> None:
    permit_type = make_permit_type(app, technical=None, levy_idr=None, deadlines=QUICK_DEADLINES)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    older = draft(client, applicant, permit_type)
    time.sleep(0.01)
    newer = draft(client, applicant, permit_type)
    mine = client.get(f"{BASE}/mine?sort=number", headers=applicant.headers).get_json()
    assert [a["id"] for a in mine] == [older["id"], newer["id"]]
    since = client.get(
        f"{BASE}/mine",
        headers=applicant.headers,
        query_string={"updated_after": older["updated_at"]},
    ).get_json()
    assert [a["id"] for a in since] == [newer["id"]]
    assert_problem(
        client.get(f"{BASE}/mine?sort=applicant_id", headers=applicant.headers),
        422,
        "validation_error",
    )
    assert_problem(
        client.get(f"{BASE}?sort=form_data", headers=dpmptsp.headers), 422, "validation_error"
    )

    permit = issued_permit(client, applicant, dpmptsp, permit_type)
    permits = client.get("/api/v1/permits/mine?sort=-valid_until", headers=applicant.headers)
    assert [p["id"] for p in permits.get_json()] == [permit["id"]]
    assert "X-Pagination" in permits.headers
    later = client.get(
        "/api/v1/permits/mine",
        headers=applicant.headers,
        query_string={"updated_after": "2999-01-01T00:00:00Z"},
    ).get_json()
    assert later == []
    assert_problem(
        client.get("/api/v1/permits/mine?sort=holder_id", headers=applicant.headers),
        422,
        "validation_error",
    )


def test_the_lists_cost_the_same_queries_for_any_page_size(app: Flask, client: FlaskClient) -> None:
    permit_type = make_permit_type(app)
    applicant = person(app, client)
    dpmptsp = officer(app, client, "DPMPTSP")
    for _ in range(3):  # each waits on DINKES, with a step DPMPTSP took in its timeline
        acted(client, dpmptsp, submitted(client, applicant, permit_type), "verify")
    lists = {
        "mine": (f"{BASE}/mine", applicant.headers, {}),
        "queue": (BASE, dpmptsp.headers, {"permit_type_id": permit_type["id"]}),
    }
    counts = {}
    for name, (url, headers, query) in lists.items():
        for size in (1, 3):
            with counting_queries(app) as statements:
                response = client.get(
                    url, headers=headers, query_string={**query, "page_size": size}
                )
                assert response.status_code == 200
                assert len(response.get_json()) == size
            counts[(name, size)] = len(statements)
    assert counts[("mine", 1)] == counts[("mine", 3)]
    assert counts[("queue", 1)] == counts[("queue", 3)]
    # The timeline loaded with the page is each application's own, oldest first.
    mine = client.get(f"{BASE}/mine", headers=applicant.headers).get_json()
    for item in mine:
        detail = client.get(f"{BASE}/{item['id']}", headers=applicant.headers).get_json()
        assert item["timeline"] == detail["timeline"]
        assert [(e["action"], e["actor_agency_code"]) for e in item["timeline"]] == [
            ("create", None),
            ("upload_document", None),
            ("upload_document", None),
            ("submit", None),
            ("verify", "DPMPTSP"),
        ]
        assert item["next_action"]["agency_code"] == "DINKES"
