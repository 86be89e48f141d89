"""Property-based run of the whole spec, in process: no server error, no answer off the spec.

Fixed seed (derandomized) and a bounded number of examples per operation, as an admin, so that
guarded operations are exercised past their access check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from tests import factories

MAX_EXAMPLES = 30


@pytest.fixture
def api_schema(
    app: Flask, rollback_db: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[schemathesis.BaseSchema]:
    for setting in ("LOGIN_RATE_LIMIT", "REGISTER_RATE_LIMIT", "TOKEN_RATE_LIMIT"):
        monkeypatch.setitem(app.config, setting, "100000 per minute")
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def admin_headers(app: Flask) -> dict[str, str]:
    admin = factories.make_account(app, "admin")
    return factories.login_headers(app.test_client(), admin)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_spec(
    case: schemathesis.Case, admin_headers: dict[str, str]
) -> None:
    response = case.call(headers=admin_headers)
    # Every check but positive_data_acceptance: domain rules (a NIK's birth date, the list of
    # common passwords, a taken phone) rightly refuse some schema-valid bodies with a
    # documented 422 or 409.
    case.validate_response(
        response,
        headers=admin_headers,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
