"""Numbers meant for humans (tracking numbers, application, bill and permit numbers): one counter
row per series, incremented in one statement.

On PostgreSQL the upsert holds the row's lock until the caller's transaction ends, so concurrent
callers queue on it and never share a number; a rollback gives the number back, so a series has
no gaps from failed writes.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.db import Base
from binjai_api.extensions import db


class NumberSeries(Base):
    """The last number given out in a series, e.g. `complaint:2026`, `permit:SIP:2026`."""

    __tablename__ = "number_series"

    series: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


def next_in_series(series: str) -> int:
    """The next number of a series (1 for a new one), within the caller's transaction."""
    table = cast(sa.Table, NumberSeries.__table__)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(series=series, last_value=1)
        .on_conflict_do_update(
            index_elements=["series"], set_={"last_value": table.c.last_value + 1}
        )
        .returning(table.c.last_value)
    )
    return int(db.session.execute(statement).scalar_one())
