"""Extension singletons, bound to the app in `create_app` with `init_app`."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import Babel
from flask_jwt_extended import JWTManager
from flask_jwt_extended import view_decorators as flask_jwt_view_decorators
from flask_jwt_extended.utils import get_unverified_jwt_headers
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


class BinjaiJWTManager(JWTManager):
    """flask-jwt-extended, keeping each verified token's claims in this process until the token
    expires. An app sends the same access token for up to 15 minutes, and every decode costs
    about a tenth of a millisecond per request (PyJWT checks each base64 character in Python,
    three times per token). Only tokens that passed verification are kept, per signing key; a
    kept token is refused again once past its `exp`, as PyJWT would."""

    _KEPT_MAX = 10_000

    def __init__(self, app: Any = None, **kwargs: Any) -> None:
        self._verified: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._verified_lock = threading.Lock()
        super().__init__(app, **kwargs)

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        key = (str(current_app.config["JWT_SECRET_KEY"]), encoded_token)
        kept = self._verified.get(key)
        now = time.time()
        if kept is not None and kept["exp"] > now and kept.get("nbf", 0) <= now:
            return dict(kept)
        data: dict[str, Any] = super()._decode_jwt_from_config(encoded_token)
        if isinstance(data.get("exp"), int | float):
            with self._verified_lock:
                self._verified[key] = dict(data)
                while len(self._verified) > self._KEPT_MAX:
                    self._verified.popitem(last=False)
        return data


@lru_cache(maxsize=BinjaiJWTManager._KEPT_MAX)
def _token_header(encoded_token: str) -> dict[str, Any]:
    return get_unverified_jwt_headers(encoded_token)


def _kept_token_header(encoded_token: str) -> dict[str, Any]:
    """A token's header, decoded once per token: flask-jwt-extended decodes it again (PyJWT's
    base64 checks, in Python) on every request after verifying the token, whose claims are
    kept above. Reached only with tokens that passed verification; a copy, as decoding gives."""
    return dict(_token_header(encoded_token))


# flask-jwt-extended reads the header through this module-level name (no setting for it).
flask_jwt_view_decorators.get_unverified_jwt_headers = _kept_token_header

db = BinjaiSQLAlchemy(metadata=Base.metadata, session_options={"class_": AppSession})
migrate = Migrate(
    directory=str(PROJECT_DIR / "migrations"),
    compare_type=True,
    render_as_batch=True,  # SQLite alters tables by copying them
    render_item=render_migration_item,
)
jwt = BinjaiJWTManager()
api = BinjaiApi()
babel = Babel()
limiter = BinjaiLimiter(key_func=client_address)
