"""Managing webhook endpoints: who may, what is shown once, idempotent creation, settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from binjai_api.config import UnsafeConfigurationError, load_settings
from tests.platform.test_errors import assert_problem
from tests.webhooks.conftest import Integrator, make_integrator, subscribe
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("rollback_db")

ENDPOINTS = "/api/v1/webhook-endpoints"


def test_an_endpoint_is_listed_read_and_deleted_by_its_own_client_only(
    client: FlaskClient, integrator: Callable[..., Integrator], receiver: Receiver
) -> None:
    owner, other = integrator("complaints:read"), integrator("complaints:read", name="Lain")
    created = subscribe(
        client, owner, receiver.url, "complaint.created", description="SP4N-LAPOR! bridge"
    )
    assert created["event_types"] == ["complaint.created"] and created["is_enabled"] is True
    listed = client.get(ENDPOINTS, headers=owner.headers)
    assert [e["id"] for e in listed.get_json()] == [created["id"]]
    assert "secret" not in listed.get_json()[0]
    assert client.get(ENDPOINTS, headers=other.headers).get_json() == []
    item = f"{ENDPOINTS}/{created['id']}"
    shown = client.get(item, headers=owner.headers)
    assert shown.status_code == 200 and shown.headers["ETag"]
    unchanged = {**owner.headers, "If-None-Match": shown.headers["ETag"]}
    assert client.get(item, headers=unchanged).status_code == 304
    for method in (client.get, client.delete):
        assert_problem(method(item, headers=other.headers), 404, "not_found")
    assert client.get(f"{item}/deliveries", headers=other.headers).status_code == 404
    assert client.delete(item, headers=owner.headers).status_code == 204
    assert_problem(client.get(item, headers=owner.headers), 404, "not_found")


def test_only_clients_holding_webhooks_manage_may_manage_endpoints(
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    auth_headers: Callable[..., dict[str, str]],
    receiver: Receiver,
) -> None:
    body = {"url": receiver.url, "event_types": ["complaint.created"]}
    assert_problem(client.post(ENDPOINTS, json=body), 401, "missing_token")
    reader = make_integrator(client.application, client, ["complaints:read"])
    assert client.post(ENDPOINTS, headers=reader.headers, json=body).status_code == 403
    for role in ("citizen", "admin"):
        assert client.get(ENDPOINTS, headers=auth_headers(role)).status_code == 403


def test_creation_is_idempotent_and_replays_the_secret_it_showed(
    client: FlaskClient, integrator: Callable[..., Integrator], receiver: Receiver
) -> None:
    who = integrator("complaints:read")
    headers = {**who.headers, "Idempotency-Key": "hook-1"}
    body = {"url": receiver.url, "event_types": ["complaint.created"]}
    first = client.post(ENDPOINTS, headers=headers, json=body)
    again = client.post(ENDPOINTS, headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(client.get(ENDPOINTS, headers=who.headers).get_json()) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://hooks.example.org/in", "event_types": ["complaint.created"]},
        {"url": "https://user:pw@hooks.example.org/in", "event_types": ["complaint.created"]},
        {"url": "https://hooks.example.org/in", "event_types": ["complaint.deleted"]},
        {"url": "https://hooks.example.org/in", "event_types": []},
        {"url": "https://hooks.example.org/" + "a" * 2000, "event_types": ["complaint.created"]},
        {"url": "https://[::1/in", "event_types": ["complaint.created"]},
        {"url": "https://hooks.example.org/a b", "event_types": ["complaint.created"]},
        {"url": "https://hooks.example.org/\x00", "event_types": ["complaint.created"]},
    ],
)
def test_bad_urls_and_event_types_are_422(
    client: FlaskClient, integrator: Callable[..., Integrator], body: dict[str, object]
) -> None:
    response = client.post(ENDPOINTS, headers=integrator("complaints:read").headers, json=body)
    assert_problem(response, 422, "validation_error")


def test_production_refuses_to_allow_private_receivers() -> None:
    production = {
        "BINJAI_ENV": "production",
        "SECRET_KEY": "s" * 48,
        "JWT_SECRET_KEY": "j" * 48,
        "PAYMENT_CALLBACK_SECRET": "p" * 48,
        "PERMIT_SIGNING_KEY": "k" * 48,
        "AUDIT_PSEUDONYM_KEY": "a" * 48,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/binjai",
        "PUBLIC_BASE_URL": "https://api.binjaikota.go.id",
    }
    assert load_settings(production)["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] is False
    with pytest.raises(UnsafeConfigurationError, match="WEBHOOK_ALLOW_PRIVATE_ADDRESSES"):
        load_settings({**production, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True})
    assert load_settings({"BINJAI_ENV": "development"})["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]


def test_a_rotation_retried_with_its_key_rotates_once(
    client: FlaskClient, integrator: Callable[..., Integrator], receiver: Receiver
) -> None:
    who = integrator("complaints:read")
    endpoint = subscribe(client, who, receiver.url, "complaint.created")
    url = f"{ENDPOINTS}/{endpoint['id']}/secret-rotations"
    headers = {**who.headers, "Idempotency-Key": "rotate-1"}
    first, again = client.post(url, headers=headers), client.post(url, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["secret"] == again.get_json()["secret"] != endpoint["secret"]
