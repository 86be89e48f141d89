"""If-Match under real concurrency: of several writers holding the same ETag, one wins and the
others get 412, never a silently lost update (CONVENTIONS: writes, retries and caching).

The views read the item for the ETag check under the row lock that the change then commits
with, so a second writer waits, reads the first one's result and fails the check.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask

from tests import factories
from tests.complaints.test_categories import new_category
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres_only

WRITERS = 8


def _race(app: Flask, path: str, bodies: list[dict[str, Any]], headers: dict[str, str]) -> Any:
    """Every writer PATCHes `path` at once with the same If-Match; returns the status counts and
    the item as it ends."""
    client = app.test_client()
    etag = client.get(path, headers=headers).headers["ETag"]
    pending = list(bodies)
    responses = run_together(
        app,
        len(bodies),
        lambda c: c.patch(path, json=pending.pop(), headers={**headers, "If-Match": etag}),
    )
    return Counter(r.status_code for r in responses), responses, client.get(path, headers=headers)


def test_one_of_several_catalog_writers_with_the_same_etag_wins(
    app: Flask, committed_db: None
) -> None:
    client = app.test_client()
    admin = factories.login_headers(client, factories.make_account(app, "admin"))
    created = client.post("/api/v1/complaint-categories", json=new_category(app), headers=admin)
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/complaint-categories/{created.get_json()['id']}"
    bodies = [{"description": f"Versi {n}"} for n in range(WRITERS)]

    statuses, responses, final = _race(app, path, bodies, admin)

    assert statuses == {200: 1, 412: WRITERS - 1}, [r.get_json() for r in responses]
    [winner] = [r.get_json() for r in responses if r.status_code == 200]
    # What stays is the winner's change, not a later writer's that never saw it.
    assert final.get_json()["description"] == winner["description"]
    assert final.headers["ETag"] == next(
        r.headers["ETag"] for r in responses if r.status_code == 200
    )
    refused = [r.get_json()["code"] for r in responses if r.status_code == 412]
    assert set(refused) == {"precondition_failed"}


def test_one_of_several_profile_writers_with_the_same_etag_wins(
    app: Flask, committed_db: None
) -> None:
    client = app.test_client()
    headers = factories.login_headers(client, factories.make_account(app))
    bodies = [{"full_name": f"Siti Aminah {n}"} for n in range(WRITERS)]

    statuses, responses, final = _race(app, "/api/v1/me", bodies, headers)

    assert statuses == {200: 1, 412: WRITERS - 1}, statuses
    [winner] = [r.get_json() for r in responses if r.status_code == 200]
    assert final.get_json()["full_name"] == winner["full_name"]
