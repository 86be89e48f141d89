"""Field work: the reports an officer has taken on ("assign"), for their phone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from binjai_api.complaints.models import Complaint
from binjai_api.complaints.states import OPEN_STATUSES


def assignments_query(
    *,
    user_id: uuid.UUID,
    statuses: Sequence[str] | None = None,
    updated_after: datetime | None = None,
) -> sa.Select[Complaint]:
    """The caller's assignments, the nearest deadline first (reports without one last).

    Without `status`, open reports only; a phone syncing with `updated_after` gets every
    report of theirs changed since, closed ones included, so that it can drop them."""
    query = sa.select(Complaint).where(Complaint.assignee_id == user_id)
    if statuses:
        query = query.where(Complaint.status.in_(statuses))
    elif updated_after is None:
        query = query.where(Complaint.status.in_(OPEN_STATUSES))
    if updated_after is not None:
        query = query.where(Complaint.updated_at > updated_after)
    return query.order_by(Complaint.due_at.asc().nulls_last(), Complaint.created_at, Complaint.id)
