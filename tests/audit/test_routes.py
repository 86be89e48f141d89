"""GET /api/v1/ops/audit: admins only, filtered by actor, object, action and time; CSV too."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.audit.helpers import AUDIT, records, seal


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> tuple[str, dict[str, str]]:
    account = factories.make_account(app, "admin")
    return account.id, factories.login_headers(client, account)


def _declare(client: FlaskClient, headers: dict[str, str], day: str) -> str:
    response = client.post("/api/v1/days-off", headers=headers, json={"date": day, "name": "Libur"})
    assert response.status_code == 201, response.get_json()
    return day


@pytest.mark.parametrize("role", ["citizen", "officer", "operator"])
def test_only_admins_read_the_trail(
    client: FlaskClient, auth_headers: Callable[..., dict[str, str]], role: str
) -> None:
    response = client.get(AUDIT, headers=auth_headers(role))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"
    assert client.get(AUDIT).status_code == 401


def test_the_list_is_newest_first_and_filters_by_actor_object_action_and_time(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    admin_id, headers = admin
    for day in ("2033-05-01", "2033-05-02"):
        _declare(client, headers, day)
    assert client.delete("/api/v1/days-off/2033-05-01", headers=headers).status_code == 204
    # Not listed until the worker seals them: every record listed has its place in the chain.
    pending = client.get(AUDIT, headers=headers, query_string={"actor_id": admin_id})
    assert pending.status_code == 200 and pending.get_json() == []
    seal(app)

    listed = client.get(AUDIT, headers=headers, query_string={"actor_id": admin_id})
    assert listed.status_code == 200
    items = listed.get_json()
    assert [(i["action"], i["object_type"]) for i in items] == [
        ("delete", "days_off"),
        ("create", "days_off"),
        ("create", "days_off"),
    ]
    assert [i["seq"] for i in items] == sorted((i["seq"] for i in items), reverse=True)
    first = items[-1]
    assert first["actor_id"] == admin_id and first["actor_role"] == "admin"
    assert first["request_id"] and first["hash"] and first["after"]["name"] == "Libur"
    assert json.loads(listed.headers["X-Pagination"])["total"] == 3

    oldest_first = client.get(
        AUDIT, headers=headers, query_string={"actor_id": admin_id, "sort": "seq"}
    ).get_json()
    assert [i["id"] for i in oldest_first] == [i["id"] for i in reversed(items)]

    deleted = client.get(
        AUDIT, headers=headers, query_string={"action": "delete", "object_type": "days_off"}
    ).get_json()
    assert [i["id"] for i in deleted] == [items[0]["id"]]
    by_object = client.get(
        AUDIT,
        headers=headers,
        query_string={"object_type": "days_off", "object_id": items[0]["object_id"]},
    ).get_json()
    assert {i["action"] for i in by_object} == {"create", "delete"}

    instant = items[1]["occurred_at"]  # both ends inclusive
    up_to = client.get(AUDIT, headers=headers, query_string={"actor_id": admin_id, "to": instant})
    assert {i["id"] for i in up_to.get_json()} == {items[1]["id"], items[2]["id"]}
    since = client.get(AUDIT, headers=headers, query_string={"actor_id": admin_id, "from": instant})
    assert {i["id"] for i in since.get_json()} == {items[0]["id"], items[1]["id"]}
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(AUDIT, headers=headers, query_string={"from": future}).get_json() == []


def test_bad_filters_are_422(client: FlaskClient, admin: tuple[str, dict[str, str]]) -> None:
    _admin_id, headers = admin
    for query in (
        {"action": "launch"},
        {"from": "yesterday"},
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"sort": "occurred_at"},
    ):
        response = client.get(AUDIT, headers=headers, query_string=query)
        assert response.status_code == 422, query
        assert response.get_json()["code"] == "validation_error"


def test_pages_of_the_trail(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    admin_id, headers = admin
    for day in ("2033-06-01", "2033-06-02", "2033-06-03"):
        _declare(client, headers, day)
    seal(app)
    page = client.get(
        AUDIT, headers=headers, query_string={"actor_id": admin_id, "page_size": 2, "page": 2}
    )
    assert page.status_code == 200 and len(page.get_json()) == 1
    assert json.loads(page.headers["X-Pagination"])["total"] == 3


def test_csv_downloads_the_whole_filtered_list(
    app: Flask, client: FlaskClient, admin: tuple[str, dict[str, str]]
) -> None:
    admin_id, headers = admin
    for day in ("2033-07-01", "2033-07-02", "2033-07-03"):
        _declare(client, headers, day)
    seal(app)
    response = client.get(
        AUDIT,
        headers={**headers, "Accept": "text/csv"},
        query_string={"actor_id": admin_id, "page_size": 1},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    expected = records(app, actor_id=admin_id)
    assert len(rows) == len(expected) == 3  # every record, not one page
    assert [int(row["seq"]) for row in rows] == sorted((r.seq or 0 for r in expected), reverse=True)
    assert json.loads(rows[-1]["after"])["name"] == "Libur"
    assert rows[-1]["hash"] == expected[0].hash
