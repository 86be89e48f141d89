"""A real receiver on 127.0.0.1 and integrators' API clients holding `webhooks:manage`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.auth.models import ApiClient
from binjai_api.extensions import db
from binjai_api.notifications import dispatcher
from binjai_api.notifications.fcm import LoggingSender
from tests import factories
from tests.webhooks.receiver import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.close()


@dataclass(frozen=True)
class Integrator:
    api_client_id: str
    client_id: str
    admin_id: str
    headers: dict[str, str]


def make_integrator(
    app: Flask, client: FlaskClient, scopes: list[str], *, name: str = "SP4N-LAPOR! bridge"
) -> Integrator:
    admin = factories.make_account(app, "admin")
    created = client.post(
        "/api/v1/admin/api-clients",
        headers=factories.login_headers(client, admin),
        json={"name": name, "scopes": scopes},
    ).get_json()
    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert token.status_code == 200, token.get_json()
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    return Integrator(created["id"], created["client_id"], admin.id, headers)


@pytest.fixture
def integrator(app: Flask, client: FlaskClient) -> Callable[..., Integrator]:
    """`integrator("complaints:read")`: a new API client with `webhooks:manage` and these."""

    def make(*scopes: str, name: str = "SP4N-LAPOR! bridge") -> Integrator:
        return make_integrator(app, client, ["webhooks:manage", *scopes], name=name)

    return make


def subscribe(
    client: FlaskClient, who: Integrator, url: str, *event_types: str, **fields: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/webhook-endpoints",
        headers=who.headers,
        json={"url": url, "event_types": list(event_types), **fields},
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def drain(app: Flask) -> dispatcher.DispatchReport:
    """Run the outbox worker until nothing is due (pushes only logged)."""
    with app.app_context():
        return dispatcher.drain(LoggingSender())


def set_scopes(app: Flask, who: Integrator, scopes: list[str]) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(ApiClient).where(ApiClient.client_id == who.client_id).values(scopes=scopes)
        )
        db.session.commit()
