"""POST /api/v1/auth/register: the resident's first step."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests import factories
from tests.platform.test_errors import assert_problem

REGISTER = "/api/v1/auth/register"


def test_registration_answers_201_with_the_nik_masked(client: FlaskClient) -> None:
    body = factories.registration(phone="0812 3456-7890")
    response = client.post(REGISTER, json=body)
    assert response.status_code == 201
    account = response.get_json()
    assert account["nik"] == "*" * 12 + body["nik"][-4:]
    assert body["nik"] not in response.get_data(as_text=True)
    assert account["phone"] == "+6281234567890"  # stored as E.164
    assert account["role"] == "citizen"
    assert account["created_at"].endswith("Z")
    assert "password" not in account and "password_hash" not in account


@pytest.mark.parametrize("phone", ["081234567891", "+6281234567891", "6281234567891"])
def test_phone_is_accepted_as_08_or_628_and_stored_in_e164(client: FlaskClient, phone: str) -> None:
    response = client.post(REGISTER, json=factories.registration(phone=phone))
    assert response.get_json()["phone"] == "+6281234567891"


@pytest.mark.parametrize(
    ("nik", "reason"),
    [
        ("12750145019000", "too short"),
        ("127501450190000X", "not digits"),
        ("9975014501900003", "unknown province"),
        ("1200014501900003", "city 00"),
        ("1275003201900003", "district 00"),
        ("1275013201900003", "day 32"),
        ("1275017201900003", "woman's day 72"),
        ("1275013002900003", "30 February"),
        ("1275010513900003", "month 13"),
        ("1275010501900000", "serial 0000"),
    ],
)
def test_implausible_nik_is_a_422_on_nik(client: FlaskClient, nik: str, reason: str) -> None:
    response = client.post(REGISTER, json=factories.registration(nik=nik))
    body = assert_problem(response, 422, "validation_error")
    assert list(body["errors"]["json"]) == ["nik"], reason


def test_a_womans_nik_adds_40_to_the_day(client: FlaskClient) -> None:
    response = client.post(
        REGISTER, json=factories.registration(nik=factories.valid_nik(woman=True))
    )
    assert response.status_code == 201


@pytest.mark.parametrize("phone", ["0212345678", "08123", "+6521234567890", "telepon"])
def test_non_mobile_phone_is_a_422_on_phone(client: FlaskClient, phone: str) -> None:
    response = client.post(REGISTER, json=factories.registration(phone=phone))
    assert list(assert_problem(response, 422, "validation_error")["errors"]["json"]) == ["phone"]


@pytest.mark.parametrize("password", ["short1!", "password123", "Indonesia", "bismillah123"])
def test_short_or_common_password_is_a_422(client: FlaskClient, password: str) -> None:
    response = client.post(REGISTER, json=factories.registration(password=password))
    body = assert_problem(response, 422, "validation_error")
    assert list(body["errors"]["json"]) == ["password"]


def test_password_containing_the_nik_is_refused(client: FlaskClient) -> None:
    body = factories.registration()
    body["password"] = "x" + body["nik"]
    response = client.post(REGISTER, json=body)
    assert list(assert_problem(response, 422, "validation_error")["errors"]["json"]) == ["password"]


@pytest.mark.parametrize(
    ("field", "code"), [("nik", "nik_taken"), ("phone", "phone_taken"), ("email", "email_taken")]
)
def test_taken_nik_phone_or_email_is_a_409(client: FlaskClient, field: str, code: str) -> None:
    first = factories.registration()
    assert client.post(REGISTER, json=first).status_code == 201
    second = factories.registration(**{field: first[field]})
    assert_problem(client.post(REGISTER, json=second), 409, code)


def test_the_same_phone_in_another_spelling_is_taken(client: FlaskClient) -> None:
    first = factories.registration(phone="081298765432")
    assert client.post(REGISTER, json=first).status_code == 201
    second = factories.registration(phone="+62 812-9876-5432")
    assert_problem(client.post(REGISTER, json=second), 409, "phone_taken")


@pytest.mark.parametrize(
    "extra",
    [
        {"role": "admin"},
        {"agency_id": "00000000-0000-0000-0000-000000000000"},
        {"is_active": False},
    ],
)
def test_fields_a_client_may_not_set_are_a_422(client: FlaskClient, extra: dict[str, Any]) -> None:
    response = client.post(REGISTER, json={**factories.registration(), **extra})
    body = assert_problem(response, 422, "validation_error")
    assert set(body["errors"]["json"]) == set(extra)


def test_registration_can_log_in_by_phone_email_and_nik(client: FlaskClient) -> None:
    body = factories.registration()
    client.post(REGISTER, json=body)
    for username in (body["phone"], body["email"].upper(), body["nik"], "+62" + body["phone"][1:]):
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": body["password"]}
        )
        assert response.status_code == 200, username
