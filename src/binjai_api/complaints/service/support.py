"""Complaints: residents' support ("saya juga") for a report."""

from __future__ import annotations

import uuid

from binjai_api.auth.service import Principal
from binjai_api.complaints.models import (
    Complaint,
    ComplaintSupporter,
)
from binjai_api.complaints.service.public import find_public_complaint
from binjai_api.complaints.service.workflow import _add_supporter, _count_supporters
from binjai_api.complaints.states import (
    is_open,
)
from binjai_api.errors import conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext

# --- support ("saya juga") ---------------------------------------------------------------------


def support_complaint(*, principal: Principal, complaint_id: uuid.UUID) -> tuple[Complaint, bool]:
    """Say "saya juga" (me too) on an open public report; returns (report, newly supported)."""
    complaint = find_public_complaint(complaint_id)
    if complaint is None:
        raise not_found(gettext("Report not found."))
    if complaint.reporter_id == principal.id:
        raise conflict("own_report", gettext("You cannot support your own report."))
    if not is_open(complaint.status):
        raise conflict("report_closed", gettext("Only open reports can be supported."))
    added = _add_supporter(complaint, principal.id)
    db.session.commit()
    return complaint, added


def withdraw_support(*, principal: Principal, complaint_id: uuid.UUID) -> None:
    """Take back a "saya juga"."""
    row = db.session.get(ComplaintSupporter, (complaint_id, principal.id))
    if row is None:
        raise not_found(gettext("You do not support this report."))
    db.session.delete(row)
    _count_supporters(complaint_id, -1)
    db.session.commit()
