"""Prebuilt Core statements sent straight on the DBAPI cursor of the session's connection
(issue 17).

A complaint's submission sends a dozen prebuilt statements in one transaction, and the work
around each of them in SQLAlchemy (an execution context, its parameters built and processed, a
result object) cost about as much as the statement itself on the embedded SQLite. Here a
statement is compiled once per dialect and set of parameter names (and per number of items of
an expanding IN list); at each execution its parameters go through the same bind processors
SQLAlchemy applies, on the cursor of the same DBAPI connection, inside the same transaction.
What the engine's listeners see is unchanged: `before_cursor_execute` and `after_cursor_execute`
are dispatched around the cursor's call (the SQLite read-to-write upgrade of db.tune_sqlite, and
every statement count in tests and benches, depend on it; the execution context they are given
is None). A failure is handled by SQLAlchemy's own handler for a statement's failure: wrapped
(`sa.exc.IntegrityError`, ...), the handle_error events, a lost connection invalidated.

Everything else goes through `Connection.execute`: a connection outside a transaction, a
statement whose columns take Python-side defaults this path would not fill, a value given at
execution that SQLAlchemy renders into the SQL (literal_execute), and an IN list executed with
several sets of values (which SQLAlchemy refuses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

Parameters = dict[str, Any]
_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Result:
    """The rows a statement returned (processed as SQLAlchemy's result would) and its row count."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def one(self) -> tuple[Any, ...]:
        if len(self.rows) != 1:
            raise sa.exc.NoResultFound if not self.rows else sa.exc.MultipleResultsFound
        return self.rows[0]

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


class Compiled:
    """One statement compiled for one dialect, set of parameter names and (for an expanding IN
    list) number of list items: its SQL, how each position's value is found and processed, and
    how each returned column is processed. Also what auth/principals.py sends on a connection of
    its own."""

    def __init__(
        self,
        statement: sa.Executable,
        dialect: sa.Dialect,
        keys: tuple[str, ...],
        lengths: tuple[int, ...] | None = None,
    ):
        self.statement = statement  # held: the cache is keyed by its id()
        compiled: Any = cast(sa.ClauseElement, statement).compile(
            dialect=dialect, column_keys=list(keys)
        )
        self.sql: str = compiled.string
        # A value this path would have to make (a Python-side column default): SQLAlchemy's.
        self.direct = not compiled.insert_prefetch and not compiled.update_prefetch
        literal = compiled.literal_execute_params
        late = literal | compiled.post_compile_params
        # Values by position (SQLite's qmark) or by name (psycopg's pyformat).
        self.named = not compiled.positional
        # Expanding IN lists: one compiled form per number of items (`variant`).
        self.expanding_keys = tuple(
            sorted(bind.key for bind in compiled.post_compile_params if bind not in literal)
        )
        self.variants: dict[tuple[int, ...], Compiled] = {}
        names = (
            [name for name, bind in compiled.binds.items() if bind not in late]
            if self.named
            else compiled.positiontup
        )
        processors = compiled._bind_processors  # what construct_params' caller applies
        expanded: dict[str, tuple[str, int]] = {}
        if any(bind.key in keys for bind in literal):
            self.direct = False  # a value given at execution rendered into the SQL: SQLAlchemy's
        elif self.direct and (lengths is not None if self.expanding_keys else literal):
            # Rendered late (a literal of the statement, an IN list's placeholders), as
            # SQLAlchemy does at each execution: here once for this shape, on sample values.
            sample: dict[str, Any] = dict.fromkeys(keys)
            sample.update(
                zip(self.expanding_keys, ([None] * n for n in lengths or ()), strict=True)
            )
            state = compiled.construct_expanded_state(sample)
            self.sql = state.statement
            if self.named:
                names = names + [
                    item for items in state.parameter_expansion.values() for item in items
                ]
            else:
                names = state.positiontup
            processors = {**processors, **state.processors}  # the items' own
            for name, items in state.parameter_expansion.items():
                for index, item in enumerate(items):
                    expanded[item] = (compiled.binds[name].key, index)
        escaped = compiled.escaped_bind_names
        self.names = tuple(escaped.get(name, name) for name in names)  # as the SQL names them
        self.positions: list[tuple[str, str, Any, _Processor, int | None]] = []
        for name in names:
            if name in expanded:
                key, index = expanded[name]
                self.positions.append((key, name, None, processors.get(name), index))
            else:
                bind = compiled.binds[name]
                self.positions.append((bind.key, name, bind, processors.get(name), None))
        dml = compiled.isinsert or compiled.isupdate or compiled.isdelete
        self.returns_rows = bool(compiled.effective_returning) if dml else True
        # A textual statement's columns have no types: its values as the driver gives them.
        returned = getattr(statement, "exported_columns", None) if self.returns_rows else ()
        self.columns: tuple[_Processor, ...] | None = (
            None
            if returned is None
            else tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in returned
            )
        )
        self.dialect, self.keys = dialect, keys

    def variant(self, parameters: Parameters) -> Compiled:
        """The form of this statement for the number of items of each IN list in `parameters`."""
        lengths = tuple(len(parameters[key]) for key in self.expanding_keys)
        found = self.variants.get(lengths)
        if found is None:
            found = self.variants[lengths] = Compiled(
                self.statement, self.dialect, self.keys, lengths
            )
        return found

    def values(self, parameters: Parameters) -> tuple[Any, ...] | dict[str, Any]:
        """The values of one execution, by position or by name, found as SQLAlchemy's
        construct_params finds them (by the parameter's key, then its compiled name, then its
        own value) and processed as it processes them."""
        converted = []
        for key, name, bind, process, index in self.positions:
            if index is not None:
                value = parameters[key][index]
            elif key in parameters:
                value = parameters[key]
            elif name in parameters:
                value = parameters[name]
            elif bind.required:
                raise sa.exc.InvalidRequestError(f"A value is required for bind parameter {key!r}")
            else:
                value = bind.effective_value
            converted.append(value if process is None else process(value))
        return dict(zip(self.names, converted, strict=True)) if self.named else tuple(converted)

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        if self.columns is None:
            return tuple(values)
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.columns, values, strict=True)
        )


_compiled: dict[tuple[int, int, tuple[str, ...]], Compiled] = {}


def _compiled_for(statement: sa.Executable, dialect: sa.Dialect, keys: tuple[str, ...]) -> Compiled:
    cache_key = (id(statement), id(dialect), keys)
    found = _compiled.get(cache_key)
    if found is None or found.statement is not statement:
        found = _compiled[cache_key] = Compiled(statement, dialect, keys)
    return found


def execute(
    connection: sa.Connection,
    statement: sa.Executable,
    parameters: Parameters | list[Parameters] | None = None,
) -> Result:
    """`statement` with `parameters` (one set, or several: one execution each) in the
    connection's transaction; its rows when it returns some."""
    if not connection.in_transaction():
        return _through_sqlalchemy(connection, statement, parameters)
    many = isinstance(parameters, list) and len(parameters) > 1
    first = (parameters[0] if parameters else {}) if isinstance(parameters, list) else parameters
    first = first or {}
    compiled = _compiled_for(statement, connection.dialect, tuple(sorted(first)))
    if compiled.expanding_keys and not many and compiled.direct:
        if not all(key in first for key in compiled.expanding_keys):
            return _through_sqlalchemy(connection, statement, parameters)  # its error
        compiled = compiled.variant(first)
    if not compiled.direct or (many and (compiled.returns_rows or compiled.expanding_keys)):
        return _through_sqlalchemy(connection, statement, parameters)
    values: Any
    if many:
        assert isinstance(parameters, list)
        values = [compiled.values(each) for each in parameters]
    else:
        values = compiled.values(first)
    return _send(connection, compiled, values, many)


def _send(connection: sa.Connection, compiled: Compiled, values: Any, many: bool) -> Result:
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    dispatch = connection.dispatch
    try:
        dispatch.before_cursor_execute(connection, cursor, compiled.sql, values, None, many)
        if many:
            cursor.executemany(compiled.sql, values)
        else:
            cursor.execute(compiled.sql, values)
        if compiled.columns is None:  # a textual statement: the driver tells
            returned = cursor.description is not None
        else:  # known from the statement (psycopg builds a description afresh at each look)
            returned = compiled.returns_rows
        rows = [compiled.row(row) for row in cursor.fetchall()] if returned else []
        rowcount = cursor.rowcount
        dispatch.after_cursor_execute(connection, cursor, compiled.sql, values, None, many)
    except connection.dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy handles its own statement's failure: wrapped (IntegrityError, ...), the
        # handle_error events, a lost connection invalidated; the cursor closed. It raises.
        connection._handle_dbapi_exception(error, compiled.sql, values, cursor, None)
        raise  # not reached
    except BaseException:
        cursor.close()
        raise
    cursor.close()
    return Result(rows, rowcount)


def _through_sqlalchemy(
    connection: sa.Connection,
    statement: sa.Executable,
    parameters: Parameters | list[Parameters] | None,
) -> Result:
    result = connection.execute(statement, parameters)
    rows = [tuple(row) for row in result] if result.returns_rows else []
    return Result(rows, result.rowcount)
