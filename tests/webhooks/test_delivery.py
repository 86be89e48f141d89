"""Webhooks delivered by the outbox worker to a real receiver on 127.0.0.1, whose signatures the
`standardwebhooks` library verifies: retries, disabling, rotation, SSRF refusal, scope filtering."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks.webhooks import WebhookVerificationError

from binjai_api.complaints import service as complaints_service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.notifications.models import Notification
from binjai_api.webhooks import safety
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.complaints.helpers import act, report, submit
from tests.platform.test_metrics import scrape, value
from tests.webhooks.conftest import Integrator, drain, set_scopes, subscribe
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("rollback_db")

OUTCOMES = "binjai_notification_deliveries_total"


@pytest.fixture
def road_damage(app: Flask, rollback_db: None) -> str:
    with app.app_context():
        complaints_service.seed_categories()
        found = db.session.scalars(complaints_service.categories_query(include_inactive=True))
        return next(str(c.id) for c in found if c.code == "road_damage")


def make_due_now(app: Flask) -> None:
    """Let time pass: every pending webhook falls due."""
    with app.app_context():
        db.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def the_delivery(app: Flask, endpoint_id: str) -> WebhookDelivery:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == uuid.UUID(endpoint_id))
        ).all()
        assert len(rows) == 1
        db.session.expunge(rows[0])
        return rows[0]


def the_endpoint(app: Flask, endpoint_id: str) -> WebhookEndpoint:
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, uuid.UUID(endpoint_id))
        assert endpoint is not None
        db.session.expunge(endpoint)
        return endpoint


def file_a_report(app: Flask, client: FlaskClient, category_id: str, **overrides: Any) -> Any:
    resident = factories.make_account(app, "citizen")
    return submit(client, factories.login_headers(client, resident), category_id, **overrides)


def test_a_new_report_and_its_status_change_arrive_signed_with_its_public_view_only(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    who = integrator("complaints:read")
    endpoint = subscribe(client, who, receiver.url, "complaint.created", "complaint.status_changed")
    assert endpoint["secret"].startswith("whsec_")
    resident = factories.make_account(app, "citizen", full_name="Siti Aminah Rahasia")
    created = submit(client, factories.login_headers(client, resident), road_damage)
    operator = factories.make_account(app, "operator")
    assert (
        act(
            client, factories.login_headers(client, operator), created["id"], "dispatch"
        ).status_code
        == 200
    )

    report_ = drain(app)
    assert report_.sent == 2
    assert [r.path for r in receiver.received] == ["/hooks/binjai"] * 2
    bodies = [r.verified_with(endpoint["secret"]) for r in receiver.received]
    assert [b["type"] for b in bodies] == ["complaint.created", "complaint.status_changed"]
    assert bodies[0]["data"]["id"] == created["id"]
    assert bodies[0]["data"]["tracking_number"] == created["tracking_number"]
    assert bodies[0]["data"]["status"] == "submitted"
    assert bodies[1]["data"]["status"] == "dispatched"
    assert bodies[1]["data"]["previous_status"] == "submitted"
    assert bodies[0]["timestamp"].endswith("Z")
    for received in receiver.received:
        assert received.message_id.startswith("msg_")
        assert received.headers["content-type"] == "application/json"
        text = received.body.decode()
        # No personal data: the reporter's name, phone, NIK, account or street address.
        for private in ("Siti Aminah Rahasia", resident.username, resident.id, "No. 12"):
            assert private not in text
        assert "reporter" not in text and "contact" not in text

    log = client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=who.headers)
    assert log.status_code == 200
    entries = log.get_json()
    assert [(e["event_type"], e["status"], e["last_status_code"]) for e in entries] == [
        ("complaint.status_changed", "sent", 204),
        ("complaint.created", "sent", 204),
    ]
    assert {e["message_id"] for e in entries} == {r.message_id for r in receiver.received}


def test_a_confidential_report_shows_only_its_reference_and_status(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    endpoint = subscribe(client, integrator("complaints:read"), receiver.url, "complaint.created")
    created = file_a_report(app, client, road_damage, privacy="confidential")
    drain(app)
    [received] = receiver.received
    data = received.verified_with(endpoint["secret"])["data"]
    assert data["confidential"] is True and data["tracking_number"] == created["tracking_number"]
    assert not {"title", "lat", "lon", "kelurahan_code"} & set(data)
    assert report(road_damage)["title"] not in received.body.decode()


def test_failures_are_retried_with_backoff_under_the_same_webhook_id(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    endpoint = subscribe(client, integrator("complaints:read"), receiver.url, "complaint.created")
    receiver.statuses = [500, 503]
    scraped = scrape(client)
    file_a_report(app, client, road_damage)
    before = utcnow()
    first = drain(app)
    assert (first.sent, first.retried) == (0, 1)
    delivery = the_delivery(app, endpoint["id"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    base = app.config["WEBHOOK_RETRY_BASE_SECONDS"]
    # Equal jitter: between half the base and the base after the first failure.
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert base / 2 - 1 <= wait <= base + 5
    assert the_endpoint(app, endpoint["id"]).failing_since is not None

    assert drain(app).claimed == 0, "not due before its backoff"
    make_due_now(app)
    assert drain(app).retried == 1
    make_due_now(app)
    assert drain(app).sent == 1

    assert len(receiver.received) == 3
    assert len({r.message_id for r in receiver.received}) == 1, "one message, three attempts"
    for received in receiver.received:
        received.verified_with(endpoint["secret"])
    delivery = the_delivery(app, endpoint["id"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 3, 204)
    healed = the_endpoint(app, endpoint["id"])
    assert healed.failing_since is None and healed.last_success_at is not None
    after = scrape(client)  # /metrics counts the outcomes per channel
    for outcome, more in (("retried", 2), ("sent", 1)):
        labels = {"channel": "webhook", "outcome": outcome}
        counted = value(after, OUTCOMES, **labels) - value(scraped, OUTCOMES, **labels)
        assert counted == more, outcome


def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_told(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_DAYS", 3)
    who = integrator("complaints:read")
    endpoint = subscribe(client, who, receiver.url, "complaint.created")
    receiver.statuses = [500] * 10
    file_a_report(app, client, road_damage)
    drain(app)
    assert the_endpoint(app, endpoint["id"]).is_enabled, "one day of failures is not enough"
    with app.app_context():  # the streak began more than three days ago
        db.session.execute(
            sa.update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(endpoint["id"]))
            .values(failing_since=utcnow() - timedelta(days=3, minutes=1))
        )
        db.session.commit()
    file_a_report(app, client, road_damage)  # queued behind the retry
    make_due_now(app)
    drain(app)

    disabled = the_endpoint(app, endpoint["id"])
    assert not disabled.is_enabled and disabled.disabled_reason == "failing"
    shown = client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=who.headers)
    assert shown.get_json()["is_enabled"] is False
    with app.app_context():
        statuses = sorted(
            db.session.scalars(
                sa.select(WebhookDelivery.status).where(
                    WebhookDelivery.endpoint_id == uuid.UUID(endpoint["id"])
                )
            )
        )
        notices = db.session.scalars(
            sa.select(Notification).where(Notification.user_id == uuid.UUID(who.admin_id))
        ).all()
    assert "pending" not in statuses and "dropped" in statuses
    assert [n.kind for n in notices] == ["webhook_endpoint_disabled"]
    assert notices[0].params["url"] == receiver.url and notices[0].params["days"] == "3"

    calls = len(receiver.received)
    file_a_report(app, client, road_damage)
    drain(app)
    assert len(receiver.received) == calls, "a disabled endpoint receives nothing"

    enabled = client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/enable", headers=who.headers)
    assert enabled.status_code == 200 and enabled.get_json()["is_enabled"] is True
    assert enabled.get_json()["failing_since"] is None
    file_a_report(app, client, road_damage)
    drain(app)
    assert len(receiver.received) == calls + 1


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    who = integrator("complaints:read")
    endpoint = subscribe(client, who, receiver.url, "complaint.created")
    old_secret = endpoint["secret"]
    rotated = client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/secret-rotations", headers=who.headers
    )
    assert rotated.status_code == 200, rotated.get_json()
    new_secret = rotated.get_json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    assert rotated.get_json()["previous_secret_expires_at"] is not None
    assert (
        "secret"
        not in client.get(
            f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=who.headers
        ).get_json()
    ), "a secret is shown once"

    file_a_report(app, client, road_damage)
    drain(app)
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    during.verified_with(new_secret)
    during.verified_with(old_secret)

    with app.app_context():  # the overlap is over
        db.session.execute(
            sa.update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(endpoint["id"]))
            .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    file_a_report(app, client, road_damage)
    drain(app)
    after = receiver.received[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    after.verified_with(new_secret)
    with pytest.raises(WebhookVerificationError):
        after.verified_with(old_secret)


def test_a_tampered_body_fails_verification(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    endpoint = subscribe(client, integrator("complaints:read"), receiver.url, "complaint.created")
    file_a_report(app, client, road_damage)
    drain(app)
    [received] = receiver.received
    body = json.loads(received.body)
    body["data"]["status"] = "closed"
    received.body = json.dumps(body).encode()
    with pytest.raises(WebhookVerificationError):
        received.verified_with(endpoint["secret"])


@pytest.fixture
def production_addressing(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Addresses checked as in production; `answers[host]` is what DNS says of each name."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(safety, "resolver", lambda host, _port: answers[host])
    return answers


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.5"],
        ["192.168.1.10"],
        ["127.0.0.1"],
        ["169.254.169.254"],  # cloud metadata
        ["::1"],
        ["fe80::1"],
        ["::ffff:10.1.2.3"],
        ["93.184.216.34", "172.16.0.9"],  # every address is checked, not only the first
    ],
)
def test_registering_a_name_that_resolves_to_a_private_address_is_refused(
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    production_addressing: dict[str, list[str]],
    addresses: list[str],
) -> None:
    production_addressing["hooks.partner.example"] = addresses
    response = client.post(
        "/api/v1/webhook-endpoints",
        headers=integrator("complaints:read").headers,
        json={"url": "https://hooks.partner.example/in", "event_types": ["complaint.created"]},
    )
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "url" in response.get_json()["errors"]["json"]


def test_plain_http_is_refused_outside_development(
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    production_addressing: dict[str, list[str]],
) -> None:
    production_addressing["hooks.partner.example"] = ["93.184.216.34"]
    response = client.post(
        "/api/v1/webhook-endpoints",
        headers=integrator("complaints:read").headers,
        json={"url": "http://hooks.partner.example/in", "event_types": ["complaint.created"]},
    )
    assert response.status_code == 422
    assert "url" in response.get_json()["errors"]["json"]


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_contacted(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
    production_addressing: dict[str, list[str]],
) -> None:
    port = receiver.server.server_address[1]
    production_addressing["hooks.partner.example"] = ["93.184.216.34"]  # public when registered
    endpoint = subscribe(
        client,
        integrator("complaints:read"),
        f"https://hooks.partner.example:{port}/hooks/binjai",
        "complaint.created",
    )
    production_addressing["hooks.partner.example"] = ["127.0.0.1"]  # DNS rebinding
    file_a_report(app, client, road_damage)
    report_ = drain(app)
    assert (report_.sent, report_.retried) == (0, 1)
    assert receiver.received == [], "the receiver on 127.0.0.1 was never contacted"
    delivery = the_delivery(app, endpoint["id"])
    assert delivery.last_error == "refused: private_address"
    assert delivery.last_status_code is None


def test_subscribing_to_an_event_needs_its_scope(
    client: FlaskClient, integrator: Callable[..., Integrator], receiver: Receiver
) -> None:
    who = integrator("facilities:read")
    response = client.post(
        "/api/v1/webhook-endpoints",
        headers=who.headers,
        json={"url": receiver.url, "event_types": ["complaint.created"]},
    )
    assert response.status_code == 422
    assert "complaints:read" in str(response.get_json()["errors"]["json"]["event_types"])
    allowed = subscribe(client, who, receiver.url, "queue_session.cancelled")
    assert allowed["event_types"] == ["queue_session.cancelled"]


def test_a_withdrawn_scope_stops_the_events_at_once(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    who = integrator("complaints:read")
    endpoint = subscribe(client, who, receiver.url, "complaint.created")
    file_a_report(app, client, road_damage)  # queued while the client held the scope
    set_scopes(app, who, ["webhooks:manage"])
    file_a_report(app, client, road_damage)  # not even queued
    report_ = drain(app)
    assert (report_.sent, report_.dropped) == (0, 1)
    assert receiver.received == []
    delivery = the_delivery(app, endpoint["id"])
    assert (delivery.status, delivery.last_error) == ("dropped", "scope_withdrawn")


def test_other_clients_subscriptions_get_nothing_they_did_not_choose(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    subscribe(client, integrator("complaints:read"), receiver.url, "complaint.status_changed")
    file_a_report(app, client, road_damage)
    assert drain(app).claimed == 0
    assert receiver.received == []


def test_a_delivery_is_sent_again_on_request_under_the_same_webhook_id(
    app: Flask,
    client: FlaskClient,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    who = integrator("complaints:read")
    endpoint = subscribe(client, who, receiver.url, "complaint.created")
    file_a_report(app, client, road_damage)
    drain(app)
    delivery = the_delivery(app, endpoint["id"])
    url = f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery.id}/redeliver"
    again = client.post(url, headers=who.headers)
    assert again.status_code == 202, again.get_json()
    assert again.get_json()["status"] == "pending"
    drain(app)
    assert [r.message_id for r in receiver.received] == [delivery.message_id] * 2
    assert the_delivery(app, endpoint["id"]).status == "sent"

    with app.app_context():  # a worker holds it right now: left to that worker
        db.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id)
            .values(status="pending", claim_id=uuid.uuid4())
        )
        db.session.commit()
    held = client.post(url, headers=who.headers)
    assert held.status_code == 202 and held.get_json()["status"] == "pending"
    assert the_delivery(app, endpoint["id"]).claim_id is not None

    other = integrator("complaints:read", name="Another")
    stolen = client.post(url, headers=other.headers)
    assert stolen.status_code == 404
    assert stolen.headers["Content-Type"] == "application/problem+json"


def test_each_domain_event_carries_its_public_view(app: Flask) -> None:
    """The views of the other events: no holder, applicant or patient, only public fields."""
    from binjai_api.webhooks import events

    with app.app_context():
        for event_type in events.REQUIRED_SCOPE:
            assert event_type in events.VIEWS
    assert set(webhooks_service.__dict__) >= {"emit"}


def test_old_sent_and_dropped_deliveries_are_pruned_and_failed_ones_kept(
    app: Flask,
    client: FlaskClient,
    runner: Any,
    integrator: Callable[..., Integrator],
    receiver: Receiver,
    road_damage: str,
) -> None:
    subscribe(client, integrator("complaints:read"), receiver.url, "complaint.created")
    for _ in range(3):
        file_a_report(app, client, road_damage)
    drain(app)
    old = utcnow() - timedelta(days=app.config["OUTBOX_RETENTION_DAYS"] + 1)
    with app.app_context():
        ids = list(db.session.scalars(sa.select(WebhookDelivery.id)))
        for delivery_id, status in zip(ids, ("sent", "dropped", "failed"), strict=True):
            db.session.execute(
                sa.update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(status=status, updated_at=old)
            )
        db.session.commit()
    result = runner.invoke(args=["prune-deliveries"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 webhook deliveries" in result.output
    with app.app_context():
        assert list(db.session.scalars(sa.select(WebhookDelivery.status))) == ["failed"]
