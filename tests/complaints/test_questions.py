"""Category questions, notices and the emergency stop: set by operators, checked at submission,
stored with the question as asked, shown by who may see them, and spoken by Open311."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.complaints.conftest import Person
from tests.complaints.desk_helpers import problem
from tests.complaints.helpers import report, submit
from tests.queries import counting_queries

STOP = "Darurat? Hubungi 112 sekarang."
STOP_EN = "Emergency? Call 112 now."
FLOOD_FORM: dict[str, Any] = {
    "questions": [
        {
            "code": "depth",
            "kind": "number",
            "label": "Kedalaman air",
            "label_en": "Water depth",
            "required": True,
            "min": 0,
            "max": 500,
            "unit": "cm",
        },
        {
            "code": "lives_at_risk",
            "kind": "yes_no",
            "label": "Nyawa terancam?",
            "label_en": "Lives at risk?",
            "stop_values": ["true"],
            "stop_message": STOP,
            "stop_message_en": STOP_EN,
        },
        {
            "code": "source",
            "kind": "choice",
            "label": "Sumber air",
            "label_en": "Source of the water",
            "choices": [
                {"value": "rain", "label": "Hujan", "label_en": "Rain"},
                {"value": "river", "label": "Sungai meluap", "label_en": "River overflow"},
            ],
        },
        {"code": "since", "kind": "date", "label": "Sejak", "label_en": "Since"},
        {
            "code": "landmark",
            "kind": "text",
            "label": "Patokan untuk petugas",
            "label_en": "Landmark for the officers",
            "private": True,
        },
    ],
    "notice": "Untuk keadaan darurat hubungi 112.",
    "notice_en": "For emergencies call 112.",
}


def set_form(client: FlaskClient, headers: dict[str, str], category_id: str, form: Any) -> Any:
    return client.put(
        f"/api/v1/complaint-categories/{category_id}/form", headers=headers, json=form
    )


def test_operators_set_a_form_that_the_category_shows(
    client: FlaskClient, categories: dict[str, str], operator: Person, resident: Person
) -> None:
    drainage = categories["drainage"]
    response = set_form(client, operator.headers, drainage, FLOOD_FORM)
    assert response.status_code == 200, response.get_json()
    category = client.get(f"/api/v1/complaint-categories/{drainage}").get_json()
    assert [q["code"] for q in category["questions"]] == [
        "depth",
        "lives_at_risk",
        "source",
        "since",
        "landmark",
    ]
    assert category["questions"][0]["unit"] == "cm" and category["questions"][0]["required"]
    assert category["notice"] == "Untuk keadaan darurat hubungi 112."
    problem(set_form(client, resident.headers, drainage, FLOOD_FORM), 403)


def test_a_form_with_inconsistent_questions_is_refused(
    client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    def refused(question: dict[str, Any]) -> dict[str, Any]:
        base = {"code": "q", "kind": "text", "label": "Q", "label_en": "Q"}
        response = set_form(
            client, operator.headers, categories["drainage"], {"questions": [{**base, **question}]}
        )
        return dict(problem(response, 422)["errors"]["json"])

    assert "questions.0.choices" in refused({"kind": "choice"})
    assert "questions.0.stop_values" in refused({"kind": "yes_no", "stop_values": ["maybe"]})
    assert "questions.0.stop_message" in refused({"kind": "yes_no", "stop_values": ["true"]})
    assert "questions.0.stop_values" in refused({"stop_values": ["x"], "stop_message": "m"})
    assert "questions.0.code" in refused({"code": "privacy"})  # an Open311 built-in attribute
    assert "questions.0.min" in refused({"kind": "number", "min": 5, "max": 1})
    assert "questions.0.kind" in refused({"kind": "magic"})


def test_answers_are_checked_and_stored_with_the_question(
    client: FlaskClient, categories: dict[str, str], operator: Person, resident: Person
) -> None:
    drainage = categories["drainage"]
    set_form(client, operator.headers, drainage, FLOOD_FORM)
    missing = client.post("/api/v1/complaints", headers=resident.headers, json=report(drainage))
    assert "answers.depth" in problem(missing, 422)["errors"]["json"]
    wrong = client.post(
        "/api/v1/complaints",
        headers=resident.headers,
        json=report(
            drainage,
            title="   ",
            answers={"depth": 900, "source": "sea", "since": "kemarin", "colour": "brown"},
        ),
    )
    errors = problem(wrong, 422)["errors"]["json"]
    assert {"answers.depth", "answers.source", "answers.since", "answers.colour"} <= set(errors)
    assert "title" in errors  # the report's own errors in the same answer
    created = submit(
        client,
        resident.headers,
        drainage,
        answers={
            "depth": "40",
            "lives_at_risk": False,
            "source": "river",
            "since": "2026-12-01",
            "landmark": "Rumah cat hijau",
        },
    )
    answers = {a["code"]: a for a in created["answers"]}
    assert answers["depth"]["value"] == 40 and answers["depth"]["unit"] == "cm"
    assert answers["lives_at_risk"]["value"] is False
    assert answers["lives_at_risk"]["value_label"] == "Tidak"
    assert answers["source"]["value_label"] == "Sungai meluap"
    assert answers["since"]["value"] == "2026-12-01"
    assert answers["landmark"]["private"] is True
    # A later change of the form leaves what was answered as it was asked.
    set_form(client, operator.headers, drainage, {"questions": []})
    again = client.get(f"/api/v1/complaints/{created['id']}", headers=operator.headers).get_json()
    assert {a["code"] for a in again["answers"]} == set(answers)
    english = client.get(
        f"/api/v1/complaints/{created['id']}",
        headers={**operator.headers, "Accept-Language": "en"},
    ).get_json()
    labels = {a["code"]: (a["question"], a["value_label"]) for a in english["answers"]}
    assert labels["source"] == ("Source of the water", "River overflow")


def test_private_answers_are_for_staff_and_the_reporter_only(
    client: FlaskClient,
    categories: dict[str, str],
    operator: Person,
    resident: Person,
    other_resident: Person,
) -> None:
    drainage = categories["drainage"]
    set_form(client, operator.headers, drainage, FLOOD_FORM)
    created = submit(
        client, resident.headers, drainage, answers={"depth": 30, "landmark": "Dekat masjid"}
    )
    for headers in (operator.headers, resident.headers):
        seen = client.get(f"/api/v1/complaints/{created['id']}", headers=headers).get_json()
        assert {a["code"] for a in seen["answers"]} == {"depth", "landmark"}
    public = client.get(f"/api/v1/public/complaints/{created['id']}").get_json()
    assert [a["code"] for a in public["answers"]] == ["depth"]
    assert "Dekat masjid" not in str(public)
    problem(client.get(f"/api/v1/complaints/{created['id']}", headers=other_resident.headers), 404)


def test_an_answer_can_stop_the_submission_with_the_emergency_message(
    client: FlaskClient, categories: dict[str, str], operator: Person, resident: Person
) -> None:
    drainage = categories["drainage"]
    set_form(client, operator.headers, drainage, FLOOD_FORM)
    # The stop wins over the missing required depth: the resident must read it.
    stopped = client.post(
        "/api/v1/complaints",
        headers=resident.headers,
        json=report(drainage, answers={"lives_at_risk": True}),
    )
    body = problem(stopped, 422, "emergency_stop")
    assert body["detail"] == STOP and body["stop_message"] == STOP
    assert body["question_code"] == "lives_at_risk"
    english = client.post(
        "/api/v1/complaints",
        headers={**resident.headers, "Accept-Language": "en"},
        json=report(drainage, answers={"lives_at_risk": "yes", "depth": 10}),
    )
    assert problem(english, 422, "emergency_stop")["stop_message"] == STOP_EN
    mine = client.get("/api/v1/complaints/mine", headers=resident.headers).get_json()
    assert mine == []  # nothing was filed


def test_a_whole_category_can_stop_every_submission(
    client: FlaskClient, categories: dict[str, str], operator: Person, resident: Person
) -> None:
    disaster = categories["disaster"]
    set_form(
        client,
        operator.headers,
        disaster,
        {"questions": [], "stop_message": STOP, "stop_message_en": STOP_EN},
    )
    stopped = client.post("/api/v1/complaints", headers=resident.headers, json=report(disaster))
    body = problem(stopped, 422, "emergency_stop")
    assert body["question_code"] is None
    assert body["detail"] == STOP


def test_a_category_without_questions_costs_no_extra_query(
    app: Flask, client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    """Submission reads the questions with the category: asking nothing and asking questions
    cost the same statements."""
    submit(client, resident.headers, categories["waste"])  # warm the caches of the first call
    with counting_queries(app) as plain:
        submit(client, resident.headers, categories["waste"])
    with counting_queries(app) as with_answers:
        submit(client, resident.headers, categories["road_damage"], answers={"hole_size": "large"})
    assert len(with_answers) == len(plain), (plain, with_answers)
    unknown = client.post(
        "/api/v1/complaints",
        headers=resident.headers,
        json=report(categories["waste"], answers={"size": 1}),
    )
    assert "answers.size" in problem(unknown, 422)["errors"]["json"]


def test_the_demo_forms_ask_the_hole_size_and_the_water_depth(
    client: FlaskClient, categories: dict[str, str], resident: Person
) -> None:
    road = client.get(f"/api/v1/complaint-categories/{categories['road_damage']}").get_json()
    assert road["questions"][0]["code"] == "hole_size"
    flood = client.get(f"/api/v1/complaint-categories/{categories['drainage']}").get_json()
    codes = {q["code"]: q for q in flood["questions"]}
    assert codes["water_depth_cm"]["kind"] == "number"
    assert codes["lives_at_risk"]["stop_values"] == ["true"]
    stopped = client.post(
        "/api/v1/complaints",
        headers=resident.headers,
        json=report(categories["drainage"], answers={"lives_at_risk": True}),
    )
    assert "112" in problem(stopped, 422, "emergency_stop")["stop_message"]


def test_the_staff_csv_carries_every_answer(
    client: FlaskClient, categories: dict[str, str], operator: Person, resident: Person
) -> None:
    drainage = categories["drainage"]
    set_form(client, operator.headers, drainage, FLOOD_FORM)
    created = submit(
        client,
        resident.headers,
        drainage,
        answers={"depth": 30, "lives_at_risk": False, "landmark": "=Dekat masjid"},
    )
    submit(client, resident.headers, categories["waste"])
    response = client.get(
        "/api/v1/complaints",
        headers={**operator.headers, "Accept": "text/csv"},
        query_string={"category_id": drainage},
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["tracking_number"] for row in rows] == [created["tracking_number"]]
    assert rows[0]["channel"] == "app"
    # Private answers too (staff only), and a formula-looking answer made harmless.
    assert rows[0]["answers"] == "depth=30; lives_at_risk=false; landmark==Dekat masjid"
    problem(
        client.get("/api/v1/complaints", headers={**resident.headers, "Accept": "text/csv"}), 403
    )


def test_a_stale_if_match_does_not_overwrite_the_form(
    client: FlaskClient, categories: dict[str, str], operator: Person
) -> None:
    drainage = categories["drainage"]
    etag = client.get(f"/api/v1/complaint-categories/{drainage}").headers["ETag"]
    first = client.put(
        f"/api/v1/complaint-categories/{drainage}/form",
        headers={**operator.headers, "If-Match": etag},
        json=FLOOD_FORM,
    )
    assert first.status_code == 200, first.get_json()
    assert first.headers["ETag"] != etag
    stale = client.put(
        f"/api/v1/complaint-categories/{drainage}/form",
        headers={**operator.headers, "If-Match": etag},
        json={"questions": []},
    )
    problem(stale, 412, "precondition_failed")
    kept = client.get(f"/api/v1/complaint-categories/{drainage}").get_json()
    assert len(kept["questions"]) == len(FLOOD_FORM["questions"])
