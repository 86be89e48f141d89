"""Counting the SQL a request sends, for tests that pin a list's cost (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask

from binjai_api.extensions import db


@contextmanager
def counting_queries(app: Flask, *, touching: str | None = None) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs; with `touching`, only those whose text
    holds it (e.g. a domain's table prefix)."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
        if touching is not None:
            statements[:] = [s for s in statements if touching in s]
