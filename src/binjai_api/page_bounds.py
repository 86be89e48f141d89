"""A maximum for every list's `page`, in the schema: past it, 422 (CONVENTIONS: lists).

flask-smorest's pagination schema bounds `page_size` but not `page`: `?page=10**20` reached the
database as an OFFSET that SQLite cannot hold (a 500). Its schema factory is replaced once, at
import, by one whose `page` has a maximum; every `@blp.paginate` made afterwards uses it, and the
spec documents the maximum.
"""

from __future__ import annotations

from typing import Any

import flask_smorest.pagination
import marshmallow as ma

# 100,000 pages of 100 items: far past any list a person pages through (the public feed of
# 200,000 reports has 10,000 pages of 20), and an OFFSET every database holds.
MAX_PAGE = 100_000

_smorest_factory = flask_smorest.pagination._pagination_parameters_schema_factory


def _bounded_factory(def_page: int, def_page_size: int, def_max_page_size: int) -> Any:
    """flask-smorest's pagination parameters, with `page` between 1 and MAX_PAGE."""
    base = _smorest_factory(def_page, def_page_size, def_max_page_size)

    class PaginationParametersSchema(base):  # type: ignore[valid-type,misc]
        page = ma.fields.Integer(
            load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE)
        )

    return PaginationParametersSchema


def install() -> None:
    """Bound `page` in every list declared from now on (called before the blueprints load)."""
    if flask_smorest.pagination._pagination_parameters_schema_factory is not _bounded_factory:
        flask_smorest.pagination._pagination_parameters_schema_factory = _bounded_factory
