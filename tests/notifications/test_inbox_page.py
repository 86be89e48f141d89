"""The inbox page read as plain rows and written in one pass, its total and unread count in one
statement: the same JSON, headers and counts as marshmallow's dump of the entries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from binjai_api.extensions import db
from binjai_api.fastdump import Dumped
from binjai_api.notifications import kinds, service
from binjai_api.notifications.models import Notification
from binjai_api.notifications.schemas import NotificationSchema
from binjai_api.notifications.service import Link
from tests import factories
from tests.notifications.helpers import notify_and_commit

pytestmark = pytest.mark.usefixtures("rollback_db")

INBOX = "/api/v1/notifications"


@pytest.fixture
def resident(app: Flask, client: Any) -> tuple[factories.Account, dict[str, str]]:
    account = factories.make_account(app, "citizen")
    return account, factories.login_headers(client, account)


def _broadcast(app: Flask, operator_id: str, **texts: str | None) -> None:
    """A city announcement to everyone, recorded in every inbox."""
    with app.app_context():
        service.create_broadcast(
            created_by_id=uuid.UUID(operator_id),
            audience="all",
            title_id=texts["title_id"] or "",
            body_id=texts["body_id"] or "",
            title_en=texts.get("title_en"),
            body_en=texts.get("body_en"),
        )
        while service.record_broadcast_batch(batch_size=100):
            pass


def _set_read_at(app: Flask, notification_id: str, read_at: datetime) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id == uuid.UUID(notification_id))
            .values(read_at=read_at, updated_at=read_at)
        )
        db.session.commit()


@pytest.fixture
def mixed_inbox(app: Flask, resident: Any) -> tuple[factories.Account, dict[str, str]]:
    """Entries of every shape: with and without a link, parameters given per language, a stop
    the text already ends with, an announcement written by hand, broadcasts with and without
    English texts; some read (one at a whole second, no microseconds), some not."""
    account, headers = resident
    operator = factories.make_account(app, "operator")
    [password] = notify_and_commit(app, [account.id], kinds.PASSWORD_CHANGED)
    complaint = str(uuid.uuid4())
    notify_and_commit(
        app,
        [account.id],
        kinds.COMPLAINT_DISPATCHED,
        params={
            "tracking_number": "BJI-2026-000042",
            "title": "Jalan berlubang",
            "agency@id": "Dinas Pekerjaan Umum",
            "agency@en": "Public Works Agency",
        },
        link=Link("complaints", complaint),
    )
    [rejected] = notify_and_commit(
        app,
        [account.id],
        kinds.COMPLAINT_REJECTED,
        params={"tracking_number": "BJI-2026-000043", "title": "Sampah", "note": "Bukan wewenang."},
        link=Link("complaints", str(uuid.uuid4())),
    )
    notify_and_commit(
        app,
        [account.id],
        kinds.ANNOUNCEMENT,
        params={"title": "Pemadaman listrik", "body": "Besok pagi.", "body@en": "Tomorrow."},
    )
    _broadcast(
        app,
        operator.id,
        title_id="Fogging DBD",
        body_id="Pengasapan Sabtu.",
        title_en="Dengue fogging",
        body_en="Fogging on Saturday.",
    )
    _broadcast(app, operator.id, title_id="Kerja bakti", body_id="Minggu pagi.")
    _set_read_at(app, password, datetime(2026, 12, 4, 2, 30, tzinfo=UTC))
    _set_read_at(app, rejected, datetime.now(UTC).replace(microsecond=123))
    return account, headers


def _marshmallow_dump(notification: Notification) -> dict[str, Any]:
    """What the schema itself dumps of an entry (not its compiled plan)."""
    return ma.Schema.dump(NotificationSchema(), notification)  # type: ignore[no-any-return]


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_page_is_written_field_for_field_as_marshmallow_dumps_each_entry(
    app: Flask, client: Any, mixed_inbox: Any, language: str
) -> None:
    """Each entry of the page, every field in order and of the same type, is what
    NotificationSchema dumps of the same entry loaded through the ORM; the body the API sends
    holds the same."""
    account, headers = mixed_inbox
    response = client.get(f"{INBOX}?page_size=50", headers={**headers, "Accept-Language": language})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    sent = json.loads(response.get_data(as_text=True))
    assert len(sent) == 6
    with app.test_request_context(headers={"Accept-Language": language}):
        listing = service.InboxListing(user_id=uuid.UUID(account.id))
        entries = service.inbox_entries(service.inbox_page(listing, offset=0, limit=50).rows)
        assert [entry["id"] for entry in entries] == [item["id"] for item in sent]
        for entry, item in zip(entries, sent, strict=True):
            assert type(entry) is Dumped
            notification = db.session.get(Notification, uuid.UUID(entry["id"]))
            expected = _marshmallow_dump(notification)
            assert list(entry.items()) == list(expected.items())
            assert [(k, type(v)) for k, v in entry.items()] == [
                (k, type(v)) for k, v in expected.items()
            ]
            assert item == expected
    shapes = {(item["read"], item["link"]["resource_type"] is None) for item in sent}
    assert shapes == {(True, True), (True, False), (False, True), (False, False)}
    titles = {item["title"] for item in sent}
    if language == "en":
        assert {"Dengue fogging", "Kerja bakti", "Pemadaman listrik"} <= titles
        assert any("Public Works Agency" in item["body"] for item in sent)
    else:
        assert {"Fogging DBD", "Kerja bakti", "Pemadaman listrik"} <= titles
    assert not any(".." in item["body"] for item in sent)


def test_one_entry_is_dumped_as_marshmallow_dumps_it(
    app: Flask, client: Any, mixed_inbox: Any
) -> None:
    """The item views (read one, mark read) dump through the schema's compiled plan: the same
    as marshmallow's dump."""
    _account, headers = mixed_inbox
    for item in client.get(INBOX, headers=headers).json:
        one = client.get(f"{INBOX}/{item['id']}", headers=headers).json
        assert one == item
        with app.test_request_context():
            notification = db.session.get(Notification, uuid.UUID(item["id"]))
            assert NotificationSchema().dump(notification) == _marshmallow_dump(notification)


def test_the_counts_are_exact_under_every_filter_and_a_new_entry_shows_at_once(
    app: Flask, client: Any, mixed_inbox: Any
) -> None:
    """X-Pagination's total counts what the filters list, X-Unread-Count the whole inbox's
    unread entries, both at once after a change."""
    account, headers = mixed_inbox
    user = uuid.UUID(account.id)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Notification.read_at, Notification.updated_at).where(
                Notification.user_id == user
            )
        ).all()
    since = sorted(row.updated_at for row in rows)[2]
    after = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cases = {
        "": len(rows),
        "unread=true": sum(row.read_at is None for row in rows),
        "unread=false": sum(row.read_at is not None for row in rows),
        f"updated_after={after}": sum(row.updated_at > since for row in rows),
        f"unread=true&updated_after={after}": sum(
            row.read_at is None and row.updated_at > since for row in rows
        ),
    }
    unread = sum(row.read_at is None for row in rows)
    for query, total in cases.items():
        listed = client.get(f"{INBOX}?page_size=1&{query}", headers=headers)
        assert json.loads(listed.headers["X-Pagination"])["total"] == total, query
        assert listed.headers["X-Unread-Count"] == str(unread), query
        assert len(listed.json) == min(1, total)
    notify_and_commit(app, [account.id], kinds.PASSWORD_CHANGED)
    fresh = client.get(INBOX, headers=headers)
    assert fresh.headers["X-Unread-Count"] == str(unread + 1)
    assert json.loads(fresh.headers["X-Pagination"])["total"] == len(rows) + 1
    assert fresh.json[0]["kind"] == kinds.PASSWORD_CHANGED
    other = factories.make_account(app, "citizen")
    notify_and_commit(app, [other.id], kinds.PASSWORD_CHANGED)
    assert client.get(INBOX, headers=headers).headers["X-Unread-Count"] == str(unread + 1)


@contextmanager
def _inbox_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements sent that read the notifications table."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "notifications" in statement:
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("query", ["", "?page_size=2&page=2", "?unread=true&sort=updated_at"])
def test_a_page_reads_its_rows_and_counts_in_one_statement(
    app: Flask, client: Any, mixed_inbox: Any, query: str
) -> None:
    """Whatever the page and the filters: one statement reads the page with its broadcasts'
    texts, the listing's total and the unread badge; a poll answered 304 sends the same one and
    the same headers."""
    _account, headers = mixed_inbox
    with _inbox_statements(app) as sent:
        first = client.get(f"{INBOX}{query}", headers=headers)
    assert first.status_code == 200 and first.json
    assert len(sent) == 1
    with _inbox_statements(app) as sent:
        polled = client.get(
            f"{INBOX}{query}", headers={**headers, "If-None-Match": first.headers["ETag"]}
        )
    assert polled.status_code == 304 and polled.data == b""
    for name in ("X-Unread-Count", "X-Pagination", "Link", "ETag", "Cache-Control"):
        assert polled.headers[name] == first.headers[name], name
    assert len(sent) == 1


def test_a_page_past_the_end_and_an_empty_inbox_are_counted_in_a_second_statement(
    app: Flask, client: Any, mixed_inbox: Any, resident: Any
) -> None:
    """A page with no entry has no row to carry the counts: they are read in a second
    statement, as exact; an empty inbox likewise."""
    _account, headers = mixed_inbox
    full = client.get(INBOX, headers=headers)
    with _inbox_statements(app) as sent:
        past = client.get(f"{INBOX}?page_size=5&page=3", headers=headers)
    assert past.status_code == 200 and past.json == []
    assert len(sent) == 2
    assert json.loads(past.headers["X-Pagination"])["total"] == 6
    assert past.headers["X-Unread-Count"] == full.headers["X-Unread-Count"]
    polled = client.get(
        f"{INBOX}?page_size=5&page=3", headers={**headers, "If-None-Match": past.headers["ETag"]}
    )
    assert polled.status_code == 304
    nobody = factories.login_headers(client, factories.make_account(app, "citizen"))
    empty = client.get(INBOX, headers=nobody)
    assert empty.json == [] and empty.headers["X-Unread-Count"] == "0"
    assert json.loads(empty.headers["X-Pagination"])["total"] == 0


def test_the_poll_etag_follows_a_read_entry(app: Flask, client: Any, mixed_inbox: Any) -> None:
    _account, headers = mixed_inbox
    first = client.get(INBOX, headers=headers)
    unread = next(item for item in first.json if not item["read"])
    client.post(f"{INBOX}/{unread['id']}/read", headers=headers)
    again = client.get(INBOX, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert int(again.headers["X-Unread-Count"]) == int(first.headers["X-Unread-Count"]) - 1
    assert next(item for item in again.json if item["id"] == unread["id"])["read"] is True


def test_each_kinds_templates_are_its_translated_texts(app: Flask) -> None:
    """Templates translated once per process are the texts force_locale translates, in each
    language; outside an app context (no catalogs) nothing is kept."""
    with app.app_context():
        for code, kind in kinds.KINDS.items():
            for language in ("id", "en"):
                with force_locale(language):
                    translated = (str(kind.title), str(kind.body))
                assert kinds.templates(code, language) == translated
    key = (kinds.PASSWORD_CHANGED, "id")
    kept = kinds._TEMPLATES.pop(key)
    try:
        kinds.templates(*key)
        assert key not in kinds._TEMPLATES, "no catalogs outside an app context: not kept"
    finally:
        kinds._TEMPLATES[key] = kept


def test_an_old_inbox_entry_is_dumped_with_its_timestamps_to_the_microsecond(
    app: Flask, client: Any, resident: Any
) -> None:
    account, headers = resident
    [entry] = notify_and_commit(app, [account.id], kinds.PASSWORD_CHANGED)
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    with app.app_context():
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id == uuid.UUID(entry))
            .values(created_at=moment, updated_at=moment + timedelta(microseconds=7))
        )
        db.session.commit()
    [item] = client.get(INBOX, headers=headers).json
    assert item["created_at"] == "2025-01-02T03:04:05.000000Z"
    assert item["updated_at"] == "2025-01-02T03:04:05.000007Z"
