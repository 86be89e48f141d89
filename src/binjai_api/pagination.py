"""Lists: `@blp.paginate(SelectPage)` over a SQLAlchemy select, and whitelisted sorting."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app
from flask_smorest import Page

# Distinct filter combinations whose totals one process keeps (a map panned around adds some).
_SHARED_COUNTS_MAX = 1024
_shared_counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
_shared_counts_lock = threading.Lock()


def count_rows(statement: sa.Select[Any], *, shared_for_seconds: int = 0) -> int:
    """How many rows a select returns.

    With `shared_for_seconds`, for public lists that read alike for everyone: the total is kept
    that long in this process, keyed by the exact query. Counting a feed over a few hundred
    thousand reports is a scan of the table on every page otherwise; a total that lags a few
    seconds behind new reports is the price, the items themselves are always fresh."""
    from binjai_api.extensions import db

    count = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    if shared_for_seconds <= 0:
        return int(db.session.scalar(count) or 0)
    compiled = count.compile(db.engine)
    key = f"{db.engine.url}|{compiled}|{sorted(compiled.params.items())!r}"
    now = time.monotonic()
    with _shared_counts_lock:
        cached = _shared_counts.get(key)
        if cached is not None and cached[0] > now:
            _shared_counts.move_to_end(key)
            return cached[1]
    total = int(db.session.scalar(count) or 0)
    with _shared_counts_lock:
        _shared_counts[key] = (now + shared_for_seconds, total)
        _shared_counts.move_to_end(key)
        while len(_shared_counts) > _SHARED_COUNTS_MAX:
            _shared_counts.popitem(last=False)
    return total


def public_count_seconds() -> int:
    """How long a public list's total may be shared (PUBLIC_COUNT_CACHE_SECONDS)."""
    return int(current_app.config["PUBLIC_COUNT_CACHE_SECONDS"])


class SelectPage(Page):
    """Pages through a `select()` with LIMIT/OFFSET and one COUNT query."""

    collection: sa.Select[Any]

    @property
    def items(self) -> list[Any]:
        from binjai_api.extensions import db

        statement = self.collection.offset(self.page_params.first_item).limit(
            self.page_params.page_size
        )
        return list(db.session.scalars(statement))

    @property
    def item_count(self) -> int:
        return count_rows(self.collection)


class PublicSelectPage(SelectPage):
    """A public list that reads alike for everyone: its total is shared for a few seconds
    (`count_rows`)."""

    @property
    def item_count(self) -> int:
        return count_rows(self.collection, shared_for_seconds=public_count_seconds())


def sort_field(*allowed: str, default: str) -> ma.fields.String:
    """`sort=field` or `sort=-field` (descending), limited to `allowed` (CONVENTIONS: lists)."""
    choices = [name for field in allowed for name in (field, f"-{field}")]
    return ma.fields.String(
        load_default=default,
        validate=ma.validate.OneOf(choices),
        metadata={"description": "Sort by a field; a leading `-` sorts descending."},
    )


def apply_sort(
    query: sa.Select[Any],
    sort: str,
    columns: Mapping[str, Any],
    tiebreaker: Any,
) -> sa.Select[Any]:
    """Order `query` by the whitelisted column named in `sort`, then by `tiebreaker` so that pages
    never overlap."""
    column = columns[sort.lstrip("-")]
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(None).order_by(ordered, tiebreaker)
