"""What the command center reads of licensing: overdue applications and figures over many
applications.

Read-only and set-based: these queries aggregate in the database, never row by row in Python.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from binjai_api.config import API_V1_STR
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db
from binjai_api.licensing.models import PermitApplication, PermitType
from binjai_api.licensing.workflow import STATUSES, Actor


def overdue_items(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OverdueItem]:
    """Applications whose current step (an officer's, or the applicant's corrections or payment)
    is past its deadline, most overdue first. The agency is the one that must act: the technical
    agency during technical review, otherwise the issuing agency (which decides what happens
    when an applicant misses a deadline)."""
    query = (
        sa.select(
            PermitApplication.id,
            PermitApplication.number,
            PermitApplication.status,
            PermitApplication.action_due_at,
            PermitType.name,
            PermitType.issuing_agency_id,
            PermitType.technical_agency_id,
        )
        .join(PermitType, PermitType.id == PermitApplication.permit_type_id)
        .where(
            PermitApplication.action_due_at.is_not(None),
            PermitApplication.action_due_at < now,
        )
        .order_by(PermitApplication.action_due_at, PermitApplication.id)
    )
    items = []
    for row in db.session.execute(query):
        rule = STATUSES.get(row.status)
        if rule is None or rule.step is None or rule.waiting_on is None:
            continue
        responsible = (
            row.technical_agency_id
            if rule.waiting_on == Actor.TECHNICAL_AGENCY
            else row.issuing_agency_id
        )
        if agency_id is not None and responsible != agency_id:
            continue
        items.append(
            OverdueItem(
                item_type=ItemType.PERMIT_APPLICATION,
                item_id=row.id,
                reference=row.number,
                title=row.name,
                agency_id=responsible,
                step=str(rule.step),
                waiting_on=(
                    WaitingOn.APPLICANT
                    if rule.waiting_on == Actor.APPLICANT
                    else WaitingOn.AGENCY_OFFICER
                ),
                due_at=row.action_due_at,
                link=f"{API_V1_STR}/permit-applications/{row.id}",
            )
        )
    return items
