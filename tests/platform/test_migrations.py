"""Models and Alembic migrations agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from binjai_api.extensions import db


def test_models_match_the_migrated_schema(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"a model changed without its migration: {differences}"


def test_the_database_is_at_the_latest_revision(app: Flask) -> None:
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    migrate: Migrate = app.extensions["migrate"].migrate
    with app.app_context():
        heads = ScriptDirectory.from_config(migrate.get_config()).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    with app.app_context(), db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)
