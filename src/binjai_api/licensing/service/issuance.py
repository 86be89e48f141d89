"""Licensing: issued permits: issuing, revoking and the holder's list."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.auth.service import Principal
from binjai_api.extensions import db
from binjai_api.licensing import permits
from binjai_api.licensing.models import (
    Permit,
    PermitApplication,
)
from binjai_api.numbering import next_in_series
from binjai_api.pagination import apply_sort
from binjai_api.workcalendar import service as workcalendar

# --- permits -----------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _issue_permit(application: PermitApplication, now: datetime) -> Permit:
    """Number, validity and signed verification code of the permit."""
    permit_type = application.permit_type
    agency = agencies_service.get_agency(permit_type.issuing_agency_id)
    valid_from = workcalendar.local_date(now)
    valid_until = _add_months(valid_from, permit_type.validity_months) - timedelta(days=1)
    sequence = next_in_series(f"permit:{permit_type.code}:{valid_from.year}")
    number = f"{permit_type.code}/{sequence:05d}/{agency.code}/{valid_from.year}"
    permit = Permit(
        id=uuid.uuid4(),
        application_id=application.id,
        permit_type_id=permit_type.id,
        holder_id=application.applicant_id,
        permit_number=number,
        issued_at=now,
        valid_from=valid_from,
        valid_until=valid_until,
        status="active",
    )
    permit.permit_type = permit_type
    permit.verification_code = permits.code_of(permit)
    db.session.add(permit)
    if application.replaces_permit_id is not None:
        earlier = db.session.get(Permit, application.replaces_permit_id)
        if earlier is not None and earlier.replaced_by_id is None:
            db.session.flush()
            earlier.replaced_by_id = permit.id
    return permit


def _revoke_permit(application: PermitApplication, reason: str, now: datetime) -> Permit:
    permit = db.session.scalar(sa.select(Permit).where(Permit.application_id == application.id))
    assert permit is not None
    permit.status = "revoked"
    permit.revoked_at = now
    permit.revocation_reason = reason
    return permit


PERMIT_SORTABLE = {
    "issued_at": Permit.issued_at,
    "valid_until": Permit.valid_until,
    "updated_at": Permit.updated_at,
}


def my_permits_query(
    *, principal: Principal, updated_after: datetime | None = None, sort: str = "-issued_at"
) -> sa.Select[Any]:
    """The caller's permits, newest first."""
    query = sa.select(Permit).where(Permit.holder_id == principal.id)
    if updated_after is not None:
        query = query.where(Permit.updated_at > updated_after)
    return apply_sort(query, sort, PERMIT_SORTABLE, tiebreaker=Permit.id)
