"""Open311 tests reuse the complaints fixtures (demo categories, residents, staff)."""

from __future__ import annotations

import pytest
from flask import Flask

from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import ApiScope
from tests.complaints.conftest import (  # noqa: F401  (fixtures)
    categories,
    operator,
    pupr_officer,
    resident,
)


def issue_api_key(app: Flask, *scopes: ApiScope) -> str:
    """An integrator's Open311 api_key: `<client_id>:<client_secret>`."""
    with app.app_context():
        client, secret = auth_service.create_api_client(
            name="Integrator Kecamatan",
            scopes=[scope.value for scope in scopes],
            created_by_id=None,
        )
        return f"{client.client_id}:{secret}"


@pytest.fixture
def api_key(app: Flask, rollback_db: None) -> str:
    return issue_api_key(app, ApiScope.COMPLAINTS_WRITE)
