"""The audit trail, for admins."""

from __future__ import annotations

from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint

blp = Blueprint(
    "audit",
    __name__,
    url_prefix=f"{API_V1_STR}/ops/audit",
    description="The append-only, hash-chained audit trail (admins only).",
)
