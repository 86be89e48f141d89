"""The inbox, and notify(): written in the caller's transaction, shown only to its owner."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from binjai_api.extensions import db
from binjai_api.notifications import kinds, service
from binjai_api.notifications.kinds import ANNOUNCEMENT, PASSWORD_CHANGED
from binjai_api.notifications.models import Delivery, Notification
from tests import factories
from tests.notifications.helpers import (
    DEVICE_TOKEN,
    count,
    notify_and_commit,
    register_device,
)
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


@pytest.fixture
def resident(app: Flask, client: Any) -> tuple[factories.Account, dict[str, str]]:
    account = factories.make_account(app, "citizen")
    return account, factories.login_headers(client, account)


def test_a_committed_notify_writes_inbox_and_outbox_rows(
    app: Flask, client: Any, resident: Any
) -> None:
    account, headers = resident
    register_device(app, account.id, DEVICE_TOKEN + "a")
    register_device(app, account.id, DEVICE_TOKEN + "b")
    [notification_id] = notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    inbox = client.get("/api/v1/notifications", headers=headers)
    assert inbox.status_code == 200
    assert [n["id"] for n in inbox.json] == [notification_id]
    entry = inbox.json[0]
    assert entry["kind"] == "password_changed"
    assert entry["title"] == "Kata sandi Anda telah diubah"
    assert entry["link"] == {
        "resource_type": None,
        "resource_id": None,
        "url": f"binjai://notifications/{notification_id}",
    }
    assert entry["read"] is False
    assert count(app, Delivery, Delivery.notification_id == uuid.UUID(notification_id)) == 2


def test_a_rolled_back_notify_notifies_no_one(app: Flask, resident: Any) -> None:
    account, _ = resident
    register_device(app, account.id, DEVICE_TOKEN + "c")
    with app.app_context():
        service.notify(recipients=[uuid.UUID(account.id)], kind=PASSWORD_CHANGED)
        db.session.rollback()
    user = uuid.UUID(account.id)
    assert count(app, Notification, Notification.user_id == user) == 0
    assert count(app, Delivery) == 0


def test_notify_refuses_unknown_kinds_and_missing_parameters(app: Flask, resident: Any) -> None:
    account, _ = resident
    with app.app_context(), pytest.raises(ValueError, match="unknown notification kind"):
        service.notify(recipients=[uuid.UUID(account.id)], kind="no_such_kind")
    with app.app_context(), pytest.raises(KeyError):
        service.notify(recipients=[uuid.UUID(account.id)], kind=ANNOUNCEMENT, params={})


def test_the_inbox_shows_only_my_own_notifications(app: Flask, client: Any, resident: Any) -> None:
    _account, headers = resident
    other = factories.make_account(app, "citizen")
    [other_id] = notify_and_commit(app, [other.id], PASSWORD_CHANGED)
    assert client.get("/api/v1/notifications", headers=headers).json == []
    assert_problem(
        client.get(f"/api/v1/notifications/{other_id}", headers=headers), 404, "not_found"
    )
    assert_problem(
        client.post(f"/api/v1/notifications/{other_id}/read", headers=headers), 404, "not_found"
    )


def test_texts_follow_the_language_of_the_request(app: Flask, client: Any, resident: Any) -> None:
    account, headers = resident
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    english = client.get("/api/v1/notifications", headers={**headers, "Accept-Language": "en"})
    assert english.json[0]["title"] == "Your password was changed"
    assert english.headers["Content-Language"] == "en"


def test_unread_count_read_and_read_all(app: Flask, client: Any, resident: Any) -> None:
    account, headers = resident
    first, second, third = (
        notify_and_commit(app, [account.id], PASSWORD_CHANGED)[0] for _ in range(3)
    )
    listed = client.get("/api/v1/notifications", headers=headers)
    assert listed.headers["X-Unread-Count"] == "3"

    read = client.post(f"/api/v1/notifications/{second}/read", headers=headers)
    assert read.status_code == 200
    assert read.json["read"] is True
    read_at = read.json["read_at"]
    again = client.post(f"/api/v1/notifications/{second}/read", headers=headers)
    assert again.json["read_at"] == read_at, "reading twice keeps the first moment"

    unread = client.get("/api/v1/notifications?unread=true", headers=headers)
    assert {n["id"] for n in unread.json} == {first, third}
    assert unread.headers["X-Unread-Count"] == "2"

    all_read = client.post("/api/v1/notifications/read-all", headers=headers)
    assert all_read.json == {"marked_read": 2, "unread_count": 0}
    assert client.get("/api/v1/notifications", headers=headers).headers["X-Unread-Count"] == "0"


def test_updated_after_returns_what_changed_since_the_last_sync(
    app: Flask, client: Any, resident: Any
) -> None:
    account, headers = resident
    first, second = (notify_and_commit(app, [account.id], PASSWORD_CHANGED)[0] for _ in range(2))
    synced = client.get("/api/v1/notifications?sort=updated_at", headers=headers).json
    newest = synced[-1]["updated_at"]
    assert client.get(f"/api/v1/notifications?updated_after={newest}", headers=headers).json == []
    client.post(f"/api/v1/notifications/{first}/read", headers=headers)
    changed = client.get(f"/api/v1/notifications?updated_after={newest}", headers=headers).json
    assert [n["id"] for n in changed] == [first]
    assert second not in {n["id"] for n in changed}


def test_the_inbox_is_paginated_newest_first(app: Flask, client: Any, resident: Any) -> None:
    account, headers = resident
    ids = [notify_and_commit(app, [account.id], PASSWORD_CHANGED)[0] for _ in range(3)]
    page = client.get("/api/v1/notifications?page_size=2", headers=headers)
    assert [n["id"] for n in page.json] == [ids[2], ids[1]]
    assert '"total": 3' in page.headers["X-Pagination"]


def test_an_inbox_entry_has_an_etag(app: Flask, client: Any, resident: Any) -> None:
    account, headers = resident
    [notification_id] = notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    first = client.get(f"/api/v1/notifications/{notification_id}", headers=headers)
    etag = first.headers["ETag"]
    cached = client.get(
        f"/api/v1/notifications/{notification_id}", headers={**headers, "If-None-Match": etag}
    )
    assert cached.status_code == 304


def test_changing_my_password_notifies_me(app: Flask, client: Any, resident: Any) -> None:
    account, headers = resident
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": account.password, "new_password": "Sungai-Bingai-77x"},
        headers=headers,
    )
    assert response.status_code == 204
    user = uuid.UUID(account.id)
    with app.app_context():
        kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user))
        assert list(kinds) == [PASSWORD_CHANGED]


def test_the_parameter_check_agrees_with_rendering_for_every_kind(app: Flask) -> None:
    """notify() checks a kind's parameters by name (worked out once per kind) instead of
    rendering its texts: for every kind it accepts exactly what rendering accepts."""
    with app.test_request_context():
        for code in kinds.KINDS:
            needed = kinds._plain_parameters(code)
            if needed is None:
                continue  # checked by rendering, as before
            full = {name: "x" for name in needed}
            kinds.check_params(code, full)
            kinds.render(code, full, None)
            kinds.check_params(code, {f"{name}@id": "x" for name in needed})
            for name in needed:
                partial = {other: "x" for other in needed if other != name}
                with pytest.raises(KeyError):
                    kinds.render(code, partial, None)
                with pytest.raises(KeyError):
                    kinds.check_params(code, {**partial, f"{name}@en": "x"})
        assert kinds._plain_parameters(ANNOUNCEMENT) == {"title", "body"}


def test_each_entry_is_rendered_once_for_its_title_and_body(
    app: Flask, client: Any, resident: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, headers = resident
    for _ in range(3):
        notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    notify_and_commit(
        app,
        [account.id],
        ANNOUNCEMENT,
        params={"title": "Pemadaman listrik", "body": "Besok pagi.", "body@en": "Tomorrow."},
    )
    expected = {}
    with app.app_context():
        for language in ("id", "en"):
            for entry in db.session.scalars(
                sa.select(Notification).where(Notification.user_id == uuid.UUID(account.id))
            ):
                expected[str(entry.id), language] = service.render_texts(entry, language)
    rendered = []
    real_render = kinds.render

    def counted(*args: Any) -> tuple[str, str]:
        rendered.append(args[0])
        return real_render(*args)

    monkeypatch.setattr(kinds, "render", counted)
    for language in ("id", "en"):
        rendered.clear()
        listed = client.get(
            "/api/v1/notifications", headers={**headers, "Accept-Language": language}
        ).json
        assert len(listed) == 4
        assert len(rendered) == 4, "one rendering per entry, for its title and its body"
        for entry in listed:
            assert (entry["title"], entry["body"]) == expected[entry["id"], language]
        rendered.clear()
        one = client.get(
            f"/api/v1/notifications/{listed[0]['id']}",
            headers={**headers, "Accept-Language": language},
        ).json
        assert len(rendered) == 1
        assert (one["title"], one["body"]) == (listed[0]["title"], listed[0]["body"])
