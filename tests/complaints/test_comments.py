"""The thread between a reporter and the staff: public responses and internal notes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.complaints.conftest import Person
from tests.complaints.helpers import act, kinds_for, submit
from tests.platform.test_errors import assert_problem


def test_internal_notes_are_hidden_from_the_resident(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    operator: Person,
    pupr_officer: Person,
) -> None:
    cid = submit(client, resident.headers, categories["road_damage"])["id"]
    act(client, operator.headers, cid, "dispatch")
    path = f"/api/v1/complaints/{cid}/comments"
    asked = client.post(path, headers=resident.headers, json={"body": "Kapan diperbaiki?"})
    assert asked.status_code == 201 and asked.get_json()["author_role"] == "reporter"
    note = client.post(
        path, headers=pupr_officer.headers, json={"body": "Anggaran habis", "internal": True}
    )
    assert note.status_code == 201 and note.get_json()["is_internal"] is True
    answer = client.post(path, headers=pupr_officer.headers, json={"body": "Minggu depan"})
    assert answer.status_code == 201

    seen_by_resident = client.get(path, headers=resident.headers).get_json()
    assert [c["body"] for c in seen_by_resident] == ["Kapan diperbaiki?", "Minggu depan"]
    assert seen_by_resident[0]["is_mine"] is True
    seen_by_staff = client.get(path, headers=pupr_officer.headers).get_json()
    assert [c["body"] for c in seen_by_staff] == [
        "Kapan diperbaiki?",
        "Anggaran habis",
        "Minggu depan",
    ]
    # Only the public answer notified the reporter.
    assert kinds_for(app, resident.id).count("complaint_response") == 1
    sneaky = client.post(path, headers=resident.headers, json={"body": "x", "internal": True})
    assert_problem(sneaky, 403, "forbidden")
    assert_problem(
        client.post(path, headers=resident.headers, json={"body": " "}), 422, "validation_error"
    )


def test_the_thread_syncs_with_updated_after(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    cid = submit(client, resident.headers, categories["waste"])["id"]
    path = f"/api/v1/complaints/{cid}/comments"
    first = client.post(path, headers=resident.headers, json={"body": "Satu"}).get_json()
    client.post(path, headers=resident.headers, json={"body": "Dua"})
    newer = client.get(
        f"{path}?updated_after={first['updated_at']}", headers=resident.headers
    ).get_json()
    assert [c["body"] for c in newer] == ["Dua"]
