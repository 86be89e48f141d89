"""RFC 8288 paging links on every list, and the weak ETag of the lists the app polls (the inbox
here; my complaints, bookings and applications in their domains' tests)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.notifications.kinds import PASSWORD_CHANGED
from tests import factories
from tests.notifications.helpers import notify_and_commit

pytestmark = pytest.mark.usefixtures("rollback_db")

INBOX = "/api/v1/notifications"
POLLED_OPERATIONS = {
    "/api/v1/notifications",
    "/api/v1/complaints/mine",
    "/api/v1/queue-bookings/mine",
    "/api/v1/permit-applications/mine",
}


def links(response: Any) -> dict[str, str]:
    """The `Link` header as {rel: url}."""
    found = re.findall(r'<([^>]+)>; rel="([a-z]+)"', response.headers["Link"])
    return {rel: url for url, rel in found}


@pytest.fixture
def inbox_of_three(app: Flask, client: FlaskClient) -> dict[str, str]:
    account = factories.make_account(app, "citizen")
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    return factories.login_headers(client, account)


def test_a_middle_page_links_first_prev_next_and_last_as_absolute_urls(
    app: Flask, client: FlaskClient, inbox_of_three: dict[str, str]
) -> None:
    response = client.get(f"{INBOX}?page_size=1&page=2&unread=true", headers=inbox_of_three)
    assert response.status_code == 200
    base = app.config["PUBLIC_BASE_URL"] + INBOX
    assert links(response) == {
        "first": f"{base}?page_size=1&page=1&unread=true",
        "prev": f"{base}?page_size=1&page=1&unread=true",
        "next": f"{base}?page_size=1&page=3&unread=true",
        "last": f"{base}?page_size=1&page=3&unread=true",
    }
    # X-Pagination is still there, and says the same.
    pagination = json.loads(response.headers["X-Pagination"])
    assert (pagination["previous_page"], pagination["next_page"]) == (1, 3)


def test_the_first_and_last_pages_have_no_prev_or_next(
    client: FlaskClient, inbox_of_three: dict[str, str]
) -> None:
    first = links(client.get(f"{INBOX}?page_size=2", headers=inbox_of_three))
    assert set(first) == {"first", "next", "last"}
    assert first["next"].endswith("page_size=2&page=2")
    last = links(client.get(f"{INBOX}?page_size=2&page=2", headers=inbox_of_three))
    assert set(last) == {"first", "prev", "last"}


def test_an_empty_list_and_a_page_past_the_end_still_link_back(
    client: FlaskClient, auth_headers: Any
) -> None:
    headers = auth_headers()
    empty = links(client.get(INBOX, headers=headers))
    assert set(empty) == {"first", "last"}
    assert empty["first"] == empty["last"] and empty["last"].endswith("page=1")
    past = links(client.get(f"{INBOX}?page=7", headers=headers))
    assert past["prev"].endswith("page=1")  # the last page that exists


def test_links_start_with_the_public_base_url_not_the_request_host(
    client: FlaskClient, inbox_of_three: dict[str, str], app: Flask
) -> None:
    response = client.get(
        INBOX,
        headers={**inbox_of_three, "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert all(
        url.startswith(app.config["PUBLIC_BASE_URL"] + "/") for url in links(response).values()
    )


def test_a_public_list_and_the_geojson_feed_link_too(client: FlaskClient) -> None:
    response = client.get("/api/v1/agencies?page_size=1")
    assert response.status_code == 200
    assert {"first", "next", "last"} <= set(links(response))
    geojson = client.get("/api/v1/public/complaints.geojson?page_size=1")
    assert geojson.status_code == 200
    assert links(geojson)["first"].endswith("/api/v1/public/complaints.geojson?page_size=1&page=1")


def test_the_inbox_answers_304_until_it_changes(
    app: Flask, client: FlaskClient, inbox_of_three: dict[str, str]
) -> None:
    first = client.get(INBOX, headers=inbox_of_three)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"

    cached = client.get(INBOX, headers={**inbox_of_three, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == etag
    assert 'rel="first"' in cached.headers["Link"]

    entry = first.get_json()[0]["id"]
    client.post(f"{INBOX}/{entry}/read", headers=inbox_of_three)
    changed = client.get(INBOX, headers={**inbox_of_three, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()[0]["read"] is True


def test_a_new_entry_changes_the_inbox_etag(
    app: Flask, client: FlaskClient, auth_headers: Any
) -> None:
    account = factories.make_account(app, "citizen")
    headers = factories.login_headers(client, account)
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    etag = client.get(INBOX, headers=headers).headers["ETag"]
    notify_and_commit(app, [account.id], PASSWORD_CHANGED)
    fresh = client.get(INBOX, headers={**headers, "If-None-Match": etag})
    assert fresh.status_code == 200 and len(fresh.get_json()) == 2


def test_the_etag_covers_the_unread_badge_of_the_whole_inbox(
    client: FlaskClient, inbox_of_three: dict[str, str]
) -> None:
    """Reading an entry on page 2 leaves page 1's rows alone but changes X-Unread-Count."""
    page_one = client.get(f"{INBOX}?page_size=1", headers=inbox_of_three)
    etag = page_one.headers["ETag"]
    [on_page_two] = client.get(f"{INBOX}?page_size=1&page=2", headers=inbox_of_three).get_json()
    client.post(f"{INBOX}/{on_page_two['id']}/read", headers=inbox_of_three)
    again = client.get(f"{INBOX}?page_size=1", headers={**inbox_of_three, "If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["X-Unread-Count"] == "2"


def test_the_etag_depends_on_the_language_and_the_page(
    client: FlaskClient, inbox_of_three: dict[str, str]
) -> None:
    indonesian = client.get(INBOX, headers=inbox_of_three)
    english = client.get(
        INBOX,
        headers={
            **inbox_of_three,
            "Accept-Language": "en",
            "If-None-Match": indonesian.headers["ETag"],
        },
    )
    assert english.status_code == 200
    assert english.get_json()[0]["title"] == "Your password was changed"
    other_page = client.get(
        f"{INBOX}?page_size=1&page=2",
        headers={**inbox_of_three, "If-None-Match": indonesian.headers["ETag"]},
    )
    assert other_page.status_code == 200


def test_a_list_that_is_not_polled_sends_no_etag(client: FlaskClient, auth_headers: Any) -> None:
    response = client.get("/api/v1/devices", headers=auth_headers())
    assert response.status_code == 200
    assert "ETag" not in response.headers and "Link" in response.headers


def test_the_spec_documents_link_on_every_list_and_etag_on_the_polled_ones(
    client: FlaskClient,
) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["headers"]["LINK"]["description"].startswith("RFC 8288")
    paginated = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            success = operation["responses"].get("200", {})
            headers = success.get("headers", {})
            if "X-Pagination" not in headers:
                continue
            paginated += 1
            assert "Link" in headers, f"{method.upper()} {path}"
            polled = path in POLLED_OPERATIONS and method == "get"
            assert ("ETag" in headers) == polled or path not in POLLED_OPERATIONS, path
            if polled:
                assert "304" in operation["responses"], path
                names = [p.get("$ref", p.get("name", "")) for p in operation.get("parameters", [])]
                assert any("IF_NONE_MATCH" in name for name in names), path
    assert paginated >= 25
    assert set(spec["paths"]) >= POLLED_OPERATIONS
