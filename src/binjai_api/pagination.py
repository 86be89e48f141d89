"""Lists: `@blp.paginate(SelectPage)` over a SQLAlchemy select, and whitelisted sorting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Page


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
        from binjai_api.extensions import db

        count = sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery())
        return int(db.session.scalar(count) or 0)


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
