"""The page arguments and `X-Pagination` of every list, without flask-smorest's per-request
schemas: the same metadata, key for key and in order, and the same answers to bad arguments."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from flask_smorest.pagination import PaginationMixin

from binjai_api.openapi import Blueprint
from tests.platform.test_errors import assert_problem

pytestmark = pytest.mark.usefixtures("rollback_db")


@pytest.mark.parametrize("page_size", [1, 2, 3, 20, 100])
def test_the_metadata_is_flask_smorests_key_for_key_in_order(page_size: int) -> None:
    """Empty lists, one page, many, the last page exactly full, a page past the end."""
    for item_count in (0, 1, 2, 3, 5, 19, 20, 21, 99, 100, 101, 250):
        for page in range(1, 8):
            ours = Blueprint._make_pagination_metadata(page, page_size, item_count)
            theirs = PaginationMixin._make_pagination_metadata(page, page_size, item_count)
            assert json.dumps(ours) == json.dumps(theirs), (page, page_size, item_count)


def test_one_page_arguments_schema_per_list_and_bad_pages_still_refused(
    client: FlaskClient,
) -> None:
    parser = Blueprint.PAGINATION_ARGUMENTS_PARSER
    for _ in range(2):
        response = client.get("/api/v1/agencies?page=2&page_size=1")
        assert response.status_code == 200 and len(response.get_json()) == 1
        assert json.loads(response.headers["X-Pagination"])["page"] == 2
    kept = dict(parser._schemas)  # type: ignore[attr-defined]
    assert kept and all(type(schema) is cls for cls, schema in kept.items())
    client.get("/api/v1/agencies?page=3&page_size=2")
    assert parser._schemas == kept  # type: ignore[attr-defined]
    for bad in ("page=0", "page_size=101", "page=x", "page_size=0"):
        problem = assert_problem(client.get(f"/api/v1/agencies?{bad}"), 422, "validation_error")
        assert set(problem["errors"]["query"]) <= {"page", "page_size"}
