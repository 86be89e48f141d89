"""Numbers meant for humans (tracking numbers, application, bill and permit numbers): one counter
row per series, incremented in one statement.

On PostgreSQL the upsert holds the row's lock until the caller's transaction ends, so concurrent
callers queue on it and never share a number; a rollback gives the number back, so a series has
no gaps from failed writes.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api import direct_sql
from binjai_api.db import Base
from binjai_api.extensions import db


class NumberSeries(Base):
    """The last number given out in a series, e.g. `complaint:2026`, `permit:SIP:2026`."""

    __tablename__ = "number_series"

    series: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


def next_in_series(series: str) -> int:
    """The next number of a series (1 for a new one), within the caller's transaction."""
    return int(next_in_series_with(series)[0])


def next_in_series_with(
    series: str, *also: sa.ColumnElement[Any], **values: Any
) -> tuple[Any, ...]:
    """The next number of a series and the values of `also` (scalar subqueries, the same
    objects at each call: what the caller needs beside the number, read in the same round
    trip, their bound parameters given as `values`), within the caller's transaction."""
    connection = db.session.connection()  # a Core statement: no ORM execution around it
    statement = _upsert(connection.dialect.name, also)
    return direct_sql.execute(connection, statement, {"series": series, **values}).one()


@cache
def _upsert(dialect: str, also: tuple[sa.ColumnElement[Any], ...]) -> sa.Insert:
    """Built once per dialect and `also`; the series is bound at each execution."""
    table = cast(sa.Table, NumberSeries.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .values(series=sa.bindparam("series", type_=sa.String()), last_value=1)
        .on_conflict_do_update(
            index_elements=["series"], set_={"last_value": table.c.last_value + 1}
        )
        .returning(table.c.last_value, *also)
    )
