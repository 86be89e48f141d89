"""Health: who works at which facility, and the check that they do."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import field_errors, forbidden, not_found
from binjai_api.extensions import db
from binjai_api.health.models import (
    FacilityStaff,
    QueueDay,
)
from binjai_api.health.service._common import _require_facility
from binjai_api.i18n import gettext

# --- facility staff ---------------------------------------------------------------------------


def staff_facility_id(user_id: uuid.UUID) -> uuid.UUID | None:
    """The facility whose queues this officer runs, if any."""
    return db.session.scalar(
        sa.select(FacilityStaff.facility_id).where(FacilityStaff.user_id == user_id)
    )


def require_staff(principal: Principal, facility_id: uuid.UUID) -> None:
    """Admins, and officers tied to this facility, may act on its queues; nobody else."""
    if principal.role == Role.ADMIN:
        return
    if principal.role == Role.OFFICER and staff_facility_id(principal.id) == facility_id:
        return
    raise forbidden(gettext("Only this facility's staff may do this."))


def staff_query(facility_id: uuid.UUID) -> sa.Select[Any]:
    """The officers tied to a facility."""
    _require_facility(facility_id)
    return (
        sa.select(FacilityStaff)
        .where(FacilityStaff.facility_id == facility_id)
        .order_by(FacilityStaff.created_at, FacilityStaff.user_id)
    )


def staff_facilities() -> dict[uuid.UUID, uuid.UUID]:
    """Every facility officer's facility, by account (who runs which queues)."""
    rows = db.session.execute(sa.select(FacilityStaff.user_id, FacilityStaff.facility_id))
    return {row.user_id: row.facility_id for row in rows}


def queue_day_facility_id(queue_day_id: uuid.UUID) -> uuid.UUID | None:
    """The facility of one poli's session on one date (a command center's overdue item)."""
    return db.session.scalar(sa.select(QueueDay.facility_id).where(QueueDay.id == queue_day_id))


def add_staff(*, facility_id: uuid.UUID, user_id: uuid.UUID) -> FacilityStaff:
    """Tie an officer's account to this facility (moving it from another one, if any)."""
    _require_facility(facility_id)
    user = auth_service.get_user(user_id)
    if user.role != Role.OFFICER:
        raise field_errors({"user_id": [gettext("Facility staff must be officer accounts.")]})
    link = db.session.get(FacilityStaff, user_id)
    if link is None:
        link = FacilityStaff(user_id=user_id, facility_id=facility_id, created_at=utcnow())
        db.session.add(link)
    else:
        link.facility_id = facility_id
    db.session.commit()
    return link


def remove_staff(*, facility_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Untie an officer from this facility."""
    link = db.session.get(FacilityStaff, user_id)
    if link is None or link.facility_id != facility_id:
        raise not_found(gettext("This account is not staff of this facility."))
    db.session.delete(link)
    db.session.commit()
