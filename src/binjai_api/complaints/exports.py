"""The staff's work queue as a spreadsheet (`Accept: text/csv` on GET /api/v1/complaints): one
report per row, with the answers to its category's questions (private ones included: staff only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from binjai_api.complaints import questions
from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db

QUEUE_CSV_COLUMNS = (
    "tracking_number",
    "type",
    "category_code",
    "agency_code",
    "status",
    "channel",
    "privacy",
    "title",
    "kelurahan_code",
    "created_at",
    "due_at",
    "assignee_id",
    "answers",
)
QUEUE_CSV_EXAMPLE = (
    "BJI-2026-000123",
    "complaint",
    "drainage",
    "PUPR",
    "dispatched",
    "phone",
    "public",
    "Genangan di Jl. Samanhudi",
    "12.75.02.1001",
    "2026-12-04T02:15:00Z",
    "2026-12-11T16:59:59Z",
    None,
    "water_depth_cm=40; lives_at_risk=false",
)


def queue_csv_rows(query: sa.Select[Complaint]) -> Iterator[tuple[Any, ...]]:
    """Every report of the filtered queue (not one page), streamed in chunks."""
    for complaint in db.session.scalars(query.execution_options(yield_per=500)):
        yield (
            complaint.tracking_number,
            complaint.type,
            complaint.category.code,
            complaint.agency.code,
            complaint.status,
            complaint.channel,
            complaint.privacy,
            complaint.title,
            complaint.kelurahan_code,
            complaint.created_at,
            complaint.due_at,
            complaint.assignee_id,
            questions.answers_text(complaint.answers),
        )
