"""Extension singletons, bound to the app in `create_app` with `init_app`."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import Babel
from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession

from binjai_api.config import PROJECT_DIR
from binjai_api.db import Base, CommitDeferring, render_migration_item
from binjai_api.openapi import BinjaiApi
from binjai_api.ratelimit import BinjaiLimiter, client_address

log = logging.getLogger(__name__)


class AppSession(CommitDeferring, FlaskSession):
    """The request's session: Flask-SQLAlchemy's, whose commits an idempotent request defers."""


class BinjaiSQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        """Close the request's session; when its connection died under the request (the
        database restarted), the closing rollback fails: drop the connection instead. Raised
        here, after the response is made, the error would reach gunicorn as an HTML 500."""
        try:
            super()._teardown_session(exc)
        except sa.exc.DBAPIError:
            log.warning("closing a session whose connection was lost", exc_info=True)
            self.session.registry().invalidate()
            self.session.remove()


db = BinjaiSQLAlchemy(metadata=Base.metadata, session_options={"class_": AppSession})
migrate = Migrate(
    directory=str(PROJECT_DIR / "migrations"),
    compare_type=True,
    render_as_batch=True,  # SQLite alters tables by copying them
    render_item=render_migration_item,
)
jwt = JWTManager()
api = BinjaiApi()
babel = Babel()
limiter = BinjaiLimiter(key_func=client_address)
