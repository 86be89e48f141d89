"""The audit trail, for admins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask.views import MethodView

from binjai_api import access
from binjai_api.audit import service
from binjai_api.audit.schemas import (
    CSV_COLUMNS,
    EXAMPLE_HASH,
    AuditQueryArgsSchema,
    AuditRecordSchema,
)
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.csv_export import csv_doc, send_csv, wants_csv
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "audit",
    __name__,
    url_prefix=f"{API_V1_STR}/ops/audit",
    description="The append-only, hash-chained audit trail (admins only).",
)

_CSV_EXAMPLE_ROW = (
    1042,
    "0b6f4e2a-3c1d-4f5e-9a8b-7c6d5e4f3a2b",
    "2026-11-27T03:15:42.120000Z",
    "user",
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "admin",
    "update",
    "users",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "4bf92f3577b34da6a3ce929d0e0e4736",
    '{"role": "officer"}',
    '{"role": "operator"}',
    EXAMPLE_HASH,
    EXAMPLE_HASH,
)


def _csv_rows(records: Any) -> Iterator[list[Any]]:
    for record in records:
        row = [getattr(record, column) for column in CSV_COLUMNS]
        for index in (CSV_COLUMNS.index("before"), CSV_COLUMNS.index("after")):
            if row[index] is not None:
                row[index] = json.dumps(row[index], ensure_ascii=False, sort_keys=True)
        yield row


@blp.route("")
class AuditRecordsView(MethodView):
    @access.roles(Role.ADMIN)
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditRecordSchema(many=True))
    @blp.doc(**csv_doc(CSV_COLUMNS, _CSV_EXAMPLE_ROW))
    @blp.paginate(SelectPage)
    def get(self, filters: dict[str, Any]) -> Any:
        """List audit records; `Accept: text/csv` downloads the whole filtered list"""
        query = service.audit_records_query(**filters)
        if wants_csv():
            send_csv(CSV_COLUMNS, _csv_rows(service.audit_records(query)), "audit-trail.csv")
        return query
