"""Reading the audit trail in tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from binjai_api.audit import service
from binjai_api.audit.models import AuditRecord
from binjai_api.extensions import db

AUDIT = "/api/v1/ops/audit"


def records(app: Flask, **filters: Any) -> list[AuditRecord]:
    """Records matching column == value filters, in chain order (unsealed ones last)."""
    with app.app_context():
        query = sa.select(AuditRecord).order_by(AuditRecord.seq.is_(None), AuditRecord.seq)
        for name, value in filters.items():
            query = query.where(getattr(AuditRecord, name) == value)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def only(app: Flask, **filters: Any) -> AuditRecord:
    found = records(app, **filters)
    assert len(found) == 1, [(r.action, r.object_type, r.after) for r in found]
    return found[0]


def seal(app: Flask) -> int:
    """Seal what is pending, as the outbox worker does a moment after each commit."""
    with app.app_context():
        return service.seal_pending()
