""" "Is it fixed?": some working days after a report is resolved, ask its reporter and supporters.

FixMyStreet asks reporters weeks later and reopens the report if not. Here the outbox worker
runs `ask_due_fix_checks` every FIX_CHECK_INTERVAL_SECONDS: a report still `resolved`
FIX_CHECK_WORKING_DAYS (14) working days after its resolution gets one question (the unique
FixCheck row is the claim: two workers never ask twice). "No" reopens the report with a reason,
"yes" closes it, no answer leaves it resolved.

The reporter's own 7-day window (complaints/states.py: reopen or rate within 7 days of the
resolution) is not widened: it has passed by the time we ask. The question opens a window of
the same length of its own, counted from when it was asked, for the one answer it takes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from binjai_api.complaints import service as complaints_service
from binjai_api.complaints.states import REOPEN_WINDOW_DAYS
from binjai_api.db import utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.quality.models import FixCheck
from binjai_api.workcalendar import service as workcalendar

log = logging.getLogger(__name__)

ANSWER_WINDOW_DAYS = REOPEN_WINDOW_DAYS
# Reports resolved longer ago than the question's delay plus this are not asked any more (a
# worker that was off for months does not flood residents with stale questions).
LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class AskReport:
    asked: int  # reports asked this round
    people: int  # reporters and supporters notified

    def summary(self) -> str:
        return f"{self.asked} reports asked, {self.people} people notified"


def ask_due_fix_checks(now: datetime | None = None) -> AskReport:
    """One round: ask about every report resolved FIX_CHECK_WORKING_DAYS working days ago or
    more and not asked yet; each report in its own transaction."""
    now = now or utcnow()
    days = int(current_app.config["FIX_CHECK_WORKING_DAYS"])
    # A working day is at least a calendar day: nothing resolved after this is due yet.
    candidates = complaints_service.resolved_reports(
        resolved_from=now - timedelta(days=days * 3 + LOOKBACK_DAYS),
        resolved_before=now - timedelta(days=days),
    )
    already = {
        (row.complaint_id, row.resolved_at)
        for row in db.session.execute(
            sa.select(FixCheck.complaint_id, FixCheck.resolved_at).where(
                FixCheck.complaint_id.in_([report.id for report in candidates])
            )
        )
    }
    db.session.commit()
    asked = people = 0
    for report in candidates:
        if (report.id, report.resolved_at) in already:
            continue
        if workcalendar.add_working_days(report.resolved_at, days) > now:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(
                    FixCheck(
                        complaint_id=report.id,
                        resolved_at=report.resolved_at,
                        agency_id=report.agency_id,
                        asked_at=now,
                        answer_until=now + timedelta(days=ANSWER_WINDOW_DAYS),
                    )
                )
        except sa.exc.IntegrityError:  # asked before, or by another worker just now
            continue
        people += complaints_service.ask_if_fixed(
            complaint_id=report.id, answer_until=now + timedelta(days=ANSWER_WINDOW_DAYS)
        )
        db.session.commit()
        asked += 1
    if asked:
        log.info("fix checks: %s reports asked, %s people notified", asked, people)
    return AskReport(asked, people)


def _latest_check(complaint_id: uuid.UUID) -> FixCheck | None:
    return db.session.scalar(
        sa.select(FixCheck)
        .where(FixCheck.complaint_id == complaint_id)
        .order_by(FixCheck.asked_at.desc())
        .limit(1)
    )


def get_fix_check(*, user_id: uuid.UUID, complaint_id: uuid.UUID) -> FixCheck:
    """The latest question about a report, to its reporter or a supporter (404 to anyone else,
    and when it was never asked)."""
    check = _latest_check(complaint_id)
    if check is None or not complaints_service.is_follower(
        complaint_id=complaint_id, user_id=user_id
    ):
        raise not_found(gettext("No “is it fixed?” question for this report."))
    return check


def state_of(check: FixCheck, now: datetime | None = None) -> str:
    if check.answer is not None:
        return "answered"
    return "expired" if (now or utcnow()) >= check.answer_until else "open"


def answer_fix_check(
    *, user_id: uuid.UUID, complaint_id: uuid.UUID, fixed: bool, reason: str | None
) -> FixCheck:
    """The first answer of the reporter or a supporter settles the question: "no" (with a
    reason) reopens the report, "yes" closes it."""
    check = get_fix_check(user_id=user_id, complaint_id=complaint_id)
    reason = (reason or "").strip() or None
    if not fixed and reason is None:
        raise field_errors({"reason": [gettext("Say what is still wrong.")]})
    now = utcnow()
    if check.answer is not None:
        raise conflict("fix_check_answered", gettext("This question was already answered."))
    if now >= check.answer_until:
        raise conflict("fix_check_expired", gettext("This question can no longer be answered."))
    answer = "fixed" if fixed else "not_fixed"
    claimed = db.session.execute(
        sa.update(FixCheck)
        .where(FixCheck.id == check.id, FixCheck.answer.is_(None))
        .values(answer=answer, answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        db.session.rollback()
        raise conflict("fix_check_answered", gettext("This question was already answered."))
    complaints_service.settle_fix_check(
        complaint_id=complaint_id,
        resolved_at=check.resolved_at,
        user_id=user_id,
        fixed=fixed,
        reason=reason,
    )
    db.session.commit()
    db.session.refresh(check)
    return check


@dataclass(frozen=True)
class FixCheckCounts:
    asked: int
    fixed: int
    not_fixed: int
    unanswered: int


def counts(*, start: datetime, end: datetime, agency_id: uuid.UUID | None = None) -> FixCheckCounts:
    """Questions asked in [start, end) and how they were answered: the statistics' figure."""
    query = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((FixCheck.answer == "fixed", 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((FixCheck.answer == "not_fixed", 1), else_=0)), 0),
    ).where(FixCheck.asked_at >= start, FixCheck.asked_at < end)
    if agency_id is not None:
        query = query.where(FixCheck.agency_id == agency_id)
    asked, fixed, not_fixed = (int(value) for value in db.session.execute(query).one())
    return FixCheckCounts(asked, fixed, not_fixed, asked - fixed - not_fixed)
