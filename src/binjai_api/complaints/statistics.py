"""What the command center reads of complaints: overdue reports and figures over many reports.

Read-only and set-based: these queries aggregate in the database, never row by row in Python.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from binjai_api.complaints.models import Complaint
from binjai_api.complaints.states import OPEN_STATUSES, Status
from binjai_api.config import API_V1_STR
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db

# The step a report's running deadline belongs to, by status (states.py: verification while it
# waits for the BCC, the agency's follow-up once dispatched or reopened).
VERIFICATION_STEP = "verification"
FOLLOW_UP_STEP = "follow_up"


def overdue_items(*, now: datetime, agency_id: uuid.UUID | None = None) -> list[OverdueItem]:
    """Open reports whose running deadline has passed, most overdue first."""
    query = (
        sa.select(
            Complaint.id,
            Complaint.tracking_number,
            Complaint.title,
            Complaint.agency_id,
            Complaint.status,
            Complaint.due_at,
        )
        .where(
            Complaint.status.in_(OPEN_STATUSES),
            Complaint.due_at.is_not(None),
            Complaint.due_at < now,
        )
        .order_by(Complaint.due_at, Complaint.id)
    )
    if agency_id is not None:
        query = query.where(Complaint.agency_id == agency_id)
    items = []
    for row in db.session.execute(query):
        verifying = row.status == Status.SUBMITTED
        items.append(
            OverdueItem(
                item_type=ItemType.COMPLAINT,
                item_id=row.id,
                reference=row.tracking_number,
                title=row.title,
                agency_id=row.agency_id,
                step=VERIFICATION_STEP if verifying else FOLLOW_UP_STEP,
                waiting_on=WaitingOn.BCC_OPERATOR if verifying else WaitingOn.AGENCY_OFFICER,
                due_at=row.due_at,
                link=f"{API_V1_STR}/complaints/{row.id}",
            )
        )
    return items
