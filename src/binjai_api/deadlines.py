"""What an overdue item looks like to the command center, whatever its domain.

Each domain that runs deadlines (complaints, licensing, health) answers "what is overdue now?"
with these, from its own service (`overdue_items(...)`). The BCC's overdue list and the
escalation job both read them, so the two can never disagree about what is late.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ItemType(StrEnum):
    COMPLAINT = "complaint"
    PERMIT_APPLICATION = "permit_application"
    QUEUE_SESSION = "queue_session"  # one poli's session on one date


class WaitingOn(StrEnum):
    """Who must act to end the overdue step."""

    BCC_OPERATOR = "bcc_operator"  # verification of a complaint
    AGENCY_OFFICER = "agency_officer"  # an agency's follow-up or permit step
    FACILITY_STAFF = "facility_staff"  # a poli's queue not served by the end of its session
    APPLICANT = "applicant"  # corrections or payment owed by the applicant


@dataclass(frozen=True)
class OverdueItem:
    item_type: ItemType
    item_id: uuid.UUID
    reference: str  # what people quote: tracking number, application number, "poli on date"
    title: str
    agency_id: uuid.UUID | None  # the agency responsible for the step
    step: str  # the domain's name of the step that is late (verification, follow_up, ...)
    waiting_on: WaitingOn
    due_at: datetime
    link: str  # the item's API path, e.g. /api/v1/complaints/{id}
    # The title in English texts when it is a catalog name (a permit type, a poli); a resident's
    # own words (a complaint's title) have none.
    title_en: str | None = None

    def lateness_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.due_at).total_seconds()))
