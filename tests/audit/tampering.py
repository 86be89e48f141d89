"""Getting past the audit trail's append-only triggers, as an attacker with database access
would, to tamper with records (and to empty the trail between committed tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def triggers_bypassed(connection: sa.Connection) -> Iterator[None]:
    """Inside the connection's current transaction, the append-only triggers do not fire.

    PostgreSQL: `session_replication_role = replica` (a superuser's switch) silences ordinary
    triggers for this transaction only. SQLite: the triggers are dropped and created again from
    their own stored SQL."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        try:
            yield
        finally:
            connection.exec_driver_sql("SET LOCAL session_replication_role = origin")
        return
    triggers = connection.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'audit_records'"
        )
    ).all()
    for name, _sql in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        for _name, sql in triggers:
            connection.exec_driver_sql(sql)


def empty_the_trail(connection: sa.Connection) -> None:
    """No records, and the chain's head back at its start."""
    with triggers_bypassed(connection):
        connection.exec_driver_sql("DELETE FROM audit_records")
    connection.exec_driver_sql("DELETE FROM audit_chain_head")
    connection.exec_driver_sql("INSERT INTO audit_chain_head (id, last_seq) VALUES (1, 0)")
