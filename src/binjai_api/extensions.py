"""Extension singletons, bound to the app in `create_app` with `init_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from binjai_api.config import PROJECT_DIR
from binjai_api.db import Base, render_migration_item
from binjai_api.openapi import BinjaiApi
from binjai_api.ratelimit import client_address, default_rate_limit

db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate(
    directory=str(PROJECT_DIR / "migrations"),
    compare_type=True,
    render_as_batch=True,  # SQLite alters tables by copying them
    render_item=render_migration_item,
)
jwt = JWTManager()
api = BinjaiApi()
babel = Babel()
limiter = Limiter(key_func=client_address, default_limits=[default_rate_limit])
