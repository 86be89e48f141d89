"""One pagination helper: flask-smorest's `@blp.paginate(SelectPage)` over a SQLAlchemy select."""

from __future__ import annotations

from typing import Any

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
