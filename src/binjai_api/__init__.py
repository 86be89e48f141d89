"""Binjai API: the backend of Kota Binjai's citizen app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from binjai_api import config, page_bounds

# Before any blueprint declares a list: every `page` gets its maximum (page_bounds.py).
page_bounds.install()


class BinjaiFlask(Flask):
    """Flask, remembering which of the app's functions are plain `def`s: Flask asks
    (`inspect.iscoroutinefunction`, unwrapping each) for every hook and view on every request,
    some twenty times per request here, and the answer never changes."""

    _SYNC_KEPT_MAX = 4096  # the app's hooks and views; anything beyond is simply asked again

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: dict[Any, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # A bound method is made afresh at each lookup (a MethodView's handler, per request):
        # its function answers for it.
        key = getattr(func, "__func__", func)
        try:
            plain = self._plain_functions.get(key)
        except TypeError:  # not hashable
            return super().ensure_sync(func)
        if plain is None:
            plain = super().ensure_sync(func) is func
            if len(self._plain_functions) < self._SYNC_KEPT_MAX:
                self._plain_functions[key] = plain
        return func if plain else super().ensure_sync(func)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, error handlers."""
    app = BinjaiFlask(__name__, static_url_path="/api/static")
    app.config.update(config.load_settings(test_config))
    app.config.update(_openapi_settings())
    app.json.sort_keys = False  # type: ignore[attr-defined]  # fields in their documented order
    if app.config["TRUSTED_PROXY_COUNT"]:
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    from binjai_api import access, errors, i18n, logs, media_types, metrics, probes, text_input
    from binjai_api.extensions import api, db, jwt, limiter, migrate

    logs.init_app(app)  # first, so every later hook and error has a request id
    _import_models()
    db.init_app(app)
    _tune_sqlite(app)
    _start_audit_trail(app)
    migrate.init_app(app, db)
    jwt.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    access.init_app(app)  # 401 before anything judges the body
    media_types.init_app(app)
    text_input.init_app(app)
    api.init_app(app)
    api.register_security_scheme()
    errors.init_app(app)
    _register_principal_loader(app)
    for blueprint in _blueprints():
        api.register_blueprint(blueprint)
    _register_fhir_face(app)
    probes.init_app(app)
    metrics.init_app(app)
    _add_security_headers(app)
    _mark_framework_views_public(app)

    from binjai_api import cli

    cli.init_app(app)
    return app


def _openapi_settings() -> dict[str, Any]:
    from binjai_api.openapi import spec_settings

    return spec_settings()


def _blueprints() -> tuple[Any, ...]:
    """Registration order, which is also the order of tags in the docs."""
    from binjai_api.agencies.routes import blp as agencies_blp
    from binjai_api.area_alerts.routes import blp as area_alerts_blp
    from binjai_api.audit.routes import blp as audit_blp
    from binjai_api.auth.routes import admin_blp
    from binjai_api.auth.routes import blp as auth_blp
    from binjai_api.complaints.desk_routes import blp as complaint_desk_blp
    from binjai_api.complaints.routes import blp as complaints_blp
    from binjai_api.health.routes import blp as health_blp
    from binjai_api.licensing.routes import blp as licensing_blp
    from binjai_api.notifications.routes import blp as notifications_blp
    from binjai_api.notifications.routes import ops_blp as broadcasts_blp
    from binjai_api.open311.routes import blp as open311_blp
    from binjai_api.ops.routes import blp as ops_blp
    from binjai_api.quality.routes import blp as quality_blp
    from binjai_api.regions.routes import blp as regions_blp
    from binjai_api.webhooks.routes import blp as webhooks_blp
    from binjai_api.workcalendar.routes import blp as days_off_blp

    return (
        auth_blp,
        complaints_blp,
        complaint_desk_blp,
        licensing_blp,
        health_blp,
        notifications_blp,
        area_alerts_blp,
        agencies_blp,
        regions_blp,
        days_off_blp,
        broadcasts_blp,
        ops_blp,
        quality_blp,
        audit_blp,
        admin_blp,
        webhooks_blp,
        open311_blp,
    )


def _register_fhir_face(app: Flask) -> None:
    """The FHIR R4 face: outside the OpenAPI spec, described by its CapabilityStatement."""
    from binjai_api.fhir.routes import blp as fhir_blp

    app.register_blueprint(fhir_blp)


def _import_models() -> None:
    """Every table must be in the metadata before migrations compare it."""
    from binjai_api import idempotency, numbering  # noqa: F401
    from binjai_api.agencies import models as _agencies  # noqa: F401
    from binjai_api.area_alerts import models as _area_alerts  # noqa: F401
    from binjai_api.audit import models as _audit  # noqa: F401
    from binjai_api.auth import models as _auth  # noqa: F401
    from binjai_api.complaints import models as _complaints  # noqa: F401
    from binjai_api.health import models as _health  # noqa: F401
    from binjai_api.licensing import models as _licensing  # noqa: F401
    from binjai_api.notifications import models as _notifications  # noqa: F401
    from binjai_api.ops import models as _ops  # noqa: F401
    from binjai_api.quality import models as _quality  # noqa: F401
    from binjai_api.regions import models as _regions  # noqa: F401
    from binjai_api.webhooks import models as _webhooks  # noqa: F401
    from binjai_api.workcalendar import models as _workcalendar  # noqa: F401


def _start_audit_trail(app: Flask) -> None:
    from binjai_api.audit import service as audit_service

    audit_service.init_app(app)


def _add_security_headers(app: Flask) -> None:
    from binjai_api import security_headers

    security_headers.init_app(app)


def _register_principal_loader(app: Flask) -> None:
    from binjai_api.auth import principals
    from binjai_api.db import CommitDeferring
    from binjai_api.extensions import jwt

    principals.init_app(app)
    principals.listen(CommitDeferring)
    jwt.user_lookup_loader(lambda _header, data: principals.load_principal(data))


def _tune_sqlite(app: Flask) -> None:
    """Make the embedded SQLite behave: foreign keys, WAL, writers waiting for the lock."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from binjai_api.db import tune_sqlite
    from binjai_api.extensions import db

    with app.app_context():
        tune_sqlite(db.engine)


def _mark_framework_views_public(app: Flask) -> None:
    from binjai_api.access import mark_public

    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static" or endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = mark_public(view)
