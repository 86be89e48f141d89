"""One login limit per account, however its name is written; registration's "already registered"
answers rationed per address against account enumeration."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth import service as auth_service
from tests import factories
from tests.platform.test_errors import assert_problem

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
LIMIT = 10  # LOGIN_RATE_LIMIT default: 10 per minute


def login_from(client: FlaskClient, address: str, username: str, password: str = "Salah-99-x"):  # type: ignore[no-untyped-def]
    return client.post(
        LOGIN,
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def spellings(phone: str, nik: str, email: str) -> list[str]:
    """Ten ways of writing one account's name: its phone in every accepted form, NIK, email."""
    national = phone[1:]  # 8123…
    return [
        phone,
        f"+62{national}",
        f"62{national}",
        f"{phone[:4]}-{phone[4:8]}-{phone[8:]}",
        f"+62 {national[:3]} {national[3:7]} {national[7:]}",
        nik,
        email,
        email.upper(),
        f"  {email.title()}  ",
        f" {nik} ",
    ]


def test_every_spelling_of_one_account_shares_one_counter(app: Flask, client: FlaskClient) -> None:
    body = factories.registration()
    account = factories.make_account(app, nik=body["nik"], phone=body["phone"], email=body["email"])
    names = spellings(body["phone"], body["nik"], body["email"])
    assert len(names) == LIMIT
    # Each from its own address, so only the per-account counter can stop them.
    statuses = [login_from(client, f"10.9.0.{i}", name).status_code for i, name in enumerate(names)]
    assert statuses == [401] * LIMIT
    # The eleventh try is refused whatever the spelling, even with the right password.
    for i, name in enumerate((body["nik"], body["email"], f"+62{body['phone'][1:]}")):
        refused = login_from(client, f"10.9.1.{i}", name, account.password)
        assert_problem(refused, 429, "rate_limited")
    # Another account is not affected.
    other = factories.make_account(app)
    assert login_from(client, "10.9.2.1", other.username, other.password).status_code == 200


def test_spellings_of_an_unknown_number_share_one_counter_too(client: FlaskClient) -> None:
    phone = factories.valid_phone()
    national = phone[1:]
    names = [phone, f"+62{national}", f"62{national}", f"{phone[:4]}-{phone[4:]}", f"0{national}"]
    statuses = [
        login_from(client, f"10.8.0.{i}", names[i % len(names)]).status_code for i in range(LIMIT)
    ]
    assert statuses == [401] * LIMIT
    assert_problem(login_from(client, "10.8.1.1", f"+62-{national}"), 429, "rate_limited")


@pytest.fixture
def roomy_registration(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the conflict ration limits: the general per-address limit is lifted."""
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "1000 per minute")


@pytest.mark.usefixtures("roomy_registration")
def test_already_registered_answers_are_rationed_per_address(
    app: Flask, client: FlaskClient
) -> None:
    """Specific codes tell a resident what to fix, so they are kept, but one address gets at most
    REGISTER_CONFLICT_RATE_LIMIT (5 per hour) of them: probing who has an account stops there."""
    taken = factories.registration()
    factories.make_account(app, nik=taken["nik"], phone=taken["phone"], email=taken["email"])
    probes = [
        factories.registration(nik=taken["nik"]),
        factories.registration(phone=taken["phone"]),
        factories.registration(email=taken["email"]),
        factories.registration(phone=f"+62{taken['phone'][1:]}"),
        factories.registration(email=taken["email"].upper()),
    ]
    codes = []
    for probe in probes:
        response = client.post(REGISTER, json=probe, environ_base={"REMOTE_ADDR": "10.7.0.1"})
        codes.append(assert_problem(response, 409, response.get_json()["code"])["code"])
    assert codes == ["nik_taken", "phone_taken", "email_taken", "phone_taken", "email_taken"]
    # The ration is spent: the next registration from that address is refused, even a new one.
    refused = client.post(
        REGISTER, json=factories.registration(), environ_base={"REMOTE_ADDR": "10.7.0.1"}
    )
    assert_problem(refused, 429, "rate_limited")
    assert "Retry-After" in refused.headers
    # Another address still registers.
    fresh = client.post(
        REGISTER, json=factories.registration(), environ_base={"REMOTE_ADDR": "10.7.0.2"}
    )
    assert fresh.status_code == 201


@pytest.mark.usefixtures("roomy_registration")
def test_successful_registrations_do_not_spend_the_conflict_ration(client: FlaskClient) -> None:
    statuses = [
        client.post(
            REGISTER, json=factories.registration(), environ_base={"REMOTE_ADDR": "10.7.1.1"}
        ).status_code
        for _ in range(8)
    ]
    assert statuses == [201] * 8


def test_taken_answers_to_a_profile_change_are_rationed_per_account(
    app: Flask, client: FlaskClient
) -> None:
    """PATCH /me also says phone_taken / email_taken (after a fresh login): at most
    REGISTER_CONFLICT_RATE_LIMIT of them per account, then 429 whatever the change."""
    taken = [factories.make_account(app, email=f"diambil{i}@example.com") for i in range(5)]
    prober = factories.make_account(app)
    headers = factories.login_headers(client, prober)
    for i, other in enumerate(taken):
        change = {"phone": other.username} if i % 2 else {"email": f"diambil{i}@example.com"}
        response = client.patch("/api/v1/me", headers=headers, json=change)
        assert response.status_code == 409, response.get_json()
    refused = client.patch("/api/v1/me", headers=headers, json={"full_name": "Nama Baru"})
    assert_problem(refused, 429, "rate_limited")
    # Another account changes its profile freely.
    other = factories.login_headers(client, factories.make_account(app))
    assert client.patch("/api/v1/me", headers=other, json={"full_name": "Ok"}).status_code == 200


def test_an_oversized_name_is_counted_under_a_bounded_key(app: Flask, client: FlaskClient) -> None:
    """The limiter runs before the schema: a name of 10,000 characters still has one counter,
    under a key of bounded length (Redis keys stay small), and no lookup is made for it."""
    name = "a" * 10_000 + "@example.com"
    with app.app_context():
        assert len(auth_service.login_limit_key(name)) <= 206
    statuses = [login_from(client, f"10.6.0.{i}", name).status_code for i in range(LIMIT)]
    assert set(statuses) <= {401, 422}
    assert_problem(login_from(client, "10.6.1.1", name), 429, "rate_limited")
