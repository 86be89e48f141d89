"""Every route declares who may call it; nothing is reachable by accident."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, session

from binjai_api.access import ACCESS_RULE_ATTRIBUTE, AccessRule

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _handlers(app: Flask) -> list[tuple[str, str, Any]]:
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            found.append((f"{method} {rule.rule}", rule.endpoint, handler))
    return found


def test_every_route_has_an_explicit_access_rule(app: Flask) -> None:
    handlers = _handlers(app)
    assert len(handlers) > 20
    missing = [
        name
        for name, _endpoint, handler in handlers
        if not isinstance(getattr(handler, ACCESS_RULE_ATTRIBUTE, None), AccessRule)
    ]
    assert missing == [], f"routes without an access rule: {missing}"


def test_public_routes_are_exactly_the_intended_ones(app: Flask) -> None:
    public = sorted(
        name
        for name, _endpoint, handler in _handlers(app)
        if getattr(handler, ACCESS_RULE_ATTRIBUTE).public
    )
    assert public == [
        "GET /api/docs",
        "GET /api/redoc",
        "GET /api/static/<path:filename>",
        "GET /api/v1/agencies",
        "GET /api/v1/agencies/<uuid:agency_id>",
        "GET /api/v1/complaint-categories",
        "GET /api/v1/complaint-categories/<uuid:category_id>",
        "GET /api/v1/days-off",
        "GET /api/v1/facilities",
        "GET /api/v1/facilities/<uuid:facility_id>",
        "GET /api/v1/openapi.json",
        "GET /api/v1/permit-types",
        "GET /api/v1/permit-types/<uuid:permit_type_id>",
        "GET /api/v1/permits/verify/<string:code>",
        "GET /api/v1/public/complaints",
        "GET /api/v1/public/complaints.geojson",
        "GET /api/v1/public/complaints/<uuid:complaint_id>",
        "GET /api/v1/public/complaints/<uuid:complaint_id>/photos/<uuid:photo_id>",
        "GET /api/v1/public/kelurahan/<string(maxlength=13):kelurahan_code>/complaints.atom",
        "GET /api/v1/public/performance",
        "GET /api/v1/regions",
        "GET /fhir/r4/<string:resource_type>",
        "GET /fhir/r4/<string:resource_type>/<string:resource_id>",
        "GET /fhir/r4/metadata",
        "GET /healthz",
        "GET /metrics",
        "GET /open311/v2/discovery.<any(json,xml):response_format>",
        "GET /open311/v2/requests.<any(json,xml):response_format>",
        "GET /open311/v2/requests/<string:service_request_id>.<any(json,xml):response_format>",
        "GET /open311/v2/services.<any(json,xml):response_format>",
        "GET /open311/v2/services/<string:service_code>.<any(json,xml):response_format>",
        "GET /open311/v2/tokens/<string:token>.<any(json,xml):response_format>",
        "GET /readyz",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/auth/register",
        "POST /api/v1/auth/token",
        "POST /api/v1/payments/callback",
        "POST /open311/v2/requests.<any(json,xml):response_format>",
    ]


def test_admin_routes_are_for_admins_only(app: Flask) -> None:
    for name, _endpoint, handler in _handlers(app):
        if "/api/v1/admin/" in name:
            rule = getattr(handler, ACCESS_RULE_ATTRIBUTE)
            assert rule.roles == ("admin",) and not rule.any_user and not rule.scopes, name


def test_no_cookie_session_is_read_or_written(app: Flask) -> None:
    """Callers prove who they are with bearer tokens only: a cookie is never read as a session,
    no response sets one, and nothing can be kept in one."""
    client = app.test_client()
    response = client.get("/healthz", headers={"Cookie": "session=eyJ1c2VyIjoiYWRtaW4ifQ"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.test_request_context("/", headers={"Cookie": "session=eyJ1c2VyIjoiYWRtaW4ifQ"}):
        assert not session
        with pytest.raises(RuntimeError):
            session["user"] = "admin"
