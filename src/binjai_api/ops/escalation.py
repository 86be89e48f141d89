"""Escalation of missed deadlines: the staff who must act and the BCC operators are told, once per
item per deadline, and the item's timeline says so.

Once, however many workers run at the same moment: an escalation is claimed by inserting its row
(unique on item type, item id and deadline) with ON CONFLICT DO NOTHING. Only the worker whose
insert went in writes the timeline entry and the notifications, in the same transaction, and each
item commits on its own: a worker that dies mid-run leaves every item either fully escalated or
not at all, and the next round picks up the rest. A second worker inserting the same key waits on
the first one's uncommitted row, then finds it there and moves on.

Only deadlines the government owns are escalated (`WaitingOn` other than the applicant): a
missed correction or payment deadline is the applicant's lateness, which the issuing agency
handles in its own workflow, not a service failure to alert the BCC about.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from binjai_api import metrics
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.complaints import service as complaints_service
from binjai_api.complaints import statistics as complaints_statistics
from binjai_api.db import utcnow
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, local_date_time
from binjai_api.health import service as health_service
from binjai_api.health import statistics as health_statistics
from binjai_api.licensing import service as licensing_service
from binjai_api.licensing import statistics as licensing_statistics
from binjai_api.licensing.workflow import Step
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.ops.models import Escalation
from binjai_api.pagination import apply_sort
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType

log = logging.getLogger(__name__)

escalations = cast(sa.Table, Escalation.__table__)

# One notification kind per step, so that the step is named in the reader's language.
KIND_BY_STEP: dict[tuple[str, str], str] = {
    (ItemType.COMPLAINT, complaints_statistics.VERIFICATION_STEP): (
        kinds.ESCALATION_COMPLAINT_VERIFICATION
    ),
    (ItemType.COMPLAINT, complaints_statistics.FOLLOW_UP_STEP): (
        kinds.ESCALATION_COMPLAINT_FOLLOW_UP
    ),
    (ItemType.PERMIT_APPLICATION, Step.VERIFICATION): kinds.ESCALATION_PERMIT_VERIFICATION,
    (ItemType.PERMIT_APPLICATION, Step.TECHNICAL_REVIEW): kinds.ESCALATION_PERMIT_TECHNICAL_REVIEW,
    (ItemType.PERMIT_APPLICATION, Step.DECISION): kinds.ESCALATION_PERMIT_DECISION,
    (ItemType.PERMIT_APPLICATION, Step.ISSUANCE): kinds.ESCALATION_PERMIT_ISSUANCE,
    (ItemType.QUEUE_SESSION, health_statistics.SESSION_STEP): kinds.ESCALATION_QUEUE_SESSION,
}
# The app's screen for each kind of item (`binjai://<resource_type>/<id>`).
RESOURCE_TYPES = {
    ItemType.COMPLAINT: "complaints",
    ItemType.PERMIT_APPLICATION: "permit-applications",
    ItemType.QUEUE_SESSION: "facilities",  # the facility's queue: a session has no screen
}
# Ids looked up per query when skipping items escalated in an earlier round.
_LOOKUP_CHUNK = 500


@dataclass
class EscalationReport:
    overdue: int = 0  # items past a deadline the government owns
    escalated: int = 0  # claimed and notified by this run
    notified: int = 0  # inbox entries written
    already_escalated: int = 0  # by an earlier round or by another worker
    no_longer_due: int = 0  # acted on between the look and the claim
    failed: int = 0  # left for the next round (logged)

    def summary(self) -> str:
        return (
            f"overdue={self.overdue} escalated={self.escalated} notified={self.notified} "
            f"already_escalated={self.already_escalated} no_longer_due={self.no_longer_due} "
            f"failed={self.failed}"
        )


def overdue_for_staff(*, now: datetime) -> list[OverdueItem]:
    """Every item past a deadline that staff (an agency, a facility or the BCC) must meet."""
    items = [
        *complaints_statistics.overdue_items(now=now),
        *licensing_statistics.overdue_items(now=now),
        *health_statistics.overdue_items(now=now),
    ]
    return [item for item in items if item.waiting_on != WaitingOn.APPLICANT]


def escalate_overdue(now: datetime | None = None) -> EscalationReport:
    """Escalate every missed deadline not escalated yet: claim, timeline entry and notifications,
    committed item by item. Safe to run from several workers at once."""
    now = now or utcnow()
    report = EscalationReport()
    items = overdue_for_staff(now=now)
    report.overdue = len(items)
    done = _escalated_keys(items)
    audience = _Audience()
    for item in items:
        if _key(item) in done:
            report.already_escalated += 1
            continue
        try:
            _escalate(item, now=now, audience=audience, report=report)
        except sa.exc.OperationalError:
            db.session.rollback()  # the database is away or a lock timed out: a later round
            raise
        except Exception:
            # One item that cannot be escalated (a bug, a vanished row) must not hold back the
            # others; it is retried next round.
            db.session.rollback()
            log.exception("escalation of %s %s failed", item.item_type, item.item_id)
            report.failed += 1
    db.session.rollback()  # nothing left to write; end the read transaction
    if report.escalated or report.failed:
        log.info("escalation: %s", report.summary())
    return report


def _key(item: OverdueItem) -> tuple[str, uuid.UUID, datetime]:
    return str(item.item_type), item.item_id, item.due_at


def _escalated_keys(items: Sequence[OverdueItem]) -> set[tuple[str, uuid.UUID, datetime]]:
    """The (item type, item id, deadline) of these items already escalated: one query per chunk
    of ids instead of an insert per item per round for items that stay overdue for weeks."""
    ids = list({item.item_id for item in items})
    keys: set[tuple[str, uuid.UUID, datetime]] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        rows = db.session.execute(
            sa.select(Escalation.item_type, Escalation.item_id, Escalation.deadline).where(
                Escalation.item_id.in_(ids[start : start + _LOOKUP_CHUNK])
            )
        )
        keys.update((row.item_type, row.item_id, row.deadline) for row in rows)
    return keys


def _title(item: OverdueItem, language: str) -> str:
    """The item's title in the reader's language: a catalog name has an English one."""
    return (item.title_en if language == "en" else None) or item.title


def _escalate(
    item: OverdueItem, *, now: datetime, audience: _Audience, report: EscalationReport
) -> None:
    """Claim and escalate one item, in one transaction; the outcome is counted in `report`."""
    recipients, link = audience.of(item)
    escalation_id = uuid.uuid4()
    if not _claim(item, escalation_id=escalation_id, now=now, notified_count=len(recipients)):
        db.session.rollback()
        report.already_escalated += 1  # by another worker, a moment ago
        return
    if not _record_in_timeline(item, now=now):
        db.session.rollback()  # releases the claim: that deadline is no longer running
        report.no_longer_due += 1
        return
    notifications_service.notify(
        recipients=recipients,
        kind=KIND_BY_STEP.get((item.item_type, item.step), kinds.ESCALATION_OTHER),
        params={
            "reference": item.reference,
            **in_each_language("title", lambda language: _title(item, language)[:80]),
            # The deadline in each reader's language: "4 Desember 2026 pukul 09.30 WIB".
            **in_each_language("due", lambda language: local_date_time(item.due_at, language)),
        },
        link=link,
    )
    webhooks_service.emit(WebhookEventType.DEADLINE_MISSED, item)
    db.session.commit()
    metrics.ESCALATIONS.labels(item_type=str(item.item_type)).inc()
    report.escalated += 1
    report.notified += len(recipients)
    log.info(
        "escalated %s %s (%s, due %s) to %s staff",
        item.item_type,
        item.item_id,
        item.step,
        item.due_at.isoformat(),
        len(recipients),
    )


def _claim(
    item: OverdueItem, *, escalation_id: uuid.UUID, now: datetime, notified_count: int
) -> bool:
    """Insert the escalation's row unless one exists for this item and deadline."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(escalations)
        .values(
            id=escalation_id,
            item_type=str(item.item_type),
            item_id=item.item_id,
            deadline=item.due_at,
            step=item.step,
            # The agency answerable for the step; none while the BCC itself must act.
            agency_id=None if item.waiting_on == WaitingOn.BCC_OPERATOR else item.agency_id,
            reference=item.reference[:60],
            title=item.title[:200],
            link=item.link[:300],
            escalated_at=now,
            notified_count=notified_count,
        )
        .on_conflict_do_nothing(index_elements=["item_type", "item_id", "deadline"])
        # RETURNING, not rowcount: an INSERT's rowcount comes back -1 here on PostgreSQL.
        .returning(escalations.c.id)
    )
    return db.session.execute(statement).scalar_one_or_none() is not None


def _record_in_timeline(item: OverdueItem, *, now: datetime) -> bool:
    """The item's own timeline entry; False if its deadline is no longer the one escalated."""
    if item.item_type == ItemType.COMPLAINT:
        return complaints_service.record_escalation(
            complaint_id=item.item_id, deadline=item.due_at, at=now
        )
    if item.item_type == ItemType.PERMIT_APPLICATION:
        return licensing_service.record_escalation(
            application_id=item.item_id, step=item.step, deadline=item.due_at, at=now
        )
    # A queue session keeps no timeline: its escalations are read at GET /api/v1/ops/escalations.
    return True


class _Audience:
    """Who hears of an item's missed deadline, with the staff lists read once per run.

    - The BCC operators, always: they watch every agency's deadlines.
    - The active officers of the agency answerable for the step, except while the BCC itself
      must act (complaint verification), when the agency has nothing to do yet.
    - For a queue session: the officers who run that facility's queues (whatever their agency)
      and the health agency's officers who run no facility (its office), not the staff of every
      other puskesmas.
    """

    def __init__(self) -> None:
        self._operators: list[uuid.UUID] | None = None
        self._officers: dict[uuid.UUID, list[uuid.UUID]] = {}
        self._facility_of_staff: dict[uuid.UUID, uuid.UUID] | None = None

    def of(self, item: OverdueItem) -> tuple[list[uuid.UUID], notifications_service.Link]:
        """The recipients of an item's escalation and what their app opens."""
        if self._operators is None:
            self._operators = auth_service.active_staff_ids(role=Role.OPERATOR)
        link = notifications_service.Link(RESOURCE_TYPES[item.item_type], str(item.item_id))
        staff: list[uuid.UUID] = []
        if item.waiting_on != WaitingOn.BCC_OPERATOR and item.agency_id is not None:
            staff = self._agency_officers(item.agency_id)
        if item.item_type == ItemType.QUEUE_SESSION:
            facility_id = health_service.queue_day_facility_id(item.item_id)
            staff = self._queue_staff(facility_id, staff)
            if facility_id is not None:
                link = notifications_service.Link(RESOURCE_TYPES[item.item_type], str(facility_id))
        return _unique([*staff, *self._operators]), link

    def _agency_officers(self, agency_id: uuid.UUID) -> list[uuid.UUID]:
        if agency_id not in self._officers:
            self._officers[agency_id] = auth_service.active_staff_ids(
                role=Role.OFFICER, agency_id=agency_id
            )
        return self._officers[agency_id]

    def _queue_staff(
        self, facility_id: uuid.UUID | None, agency_officers: list[uuid.UUID]
    ) -> list[uuid.UUID]:
        if self._facility_of_staff is None:
            self._facility_of_staff = health_service.staff_facilities()
        links = self._facility_of_staff
        office = [user_id for user_id in agency_officers if user_id not in links]
        runs_it = [user_id for user_id, facility in links.items() if facility == facility_id]
        if runs_it:
            runs_it = auth_service.active_staff_ids(role=Role.OFFICER, among=runs_it)
        return [*runs_it, *office]


def _unique(ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))


# --- the list of escalations ---------------------------------------------------------------------

ESCALATION_SORTABLE = {
    "escalated_at": Escalation.escalated_at,
    "deadline": Escalation.deadline,
}
CSV_COLUMNS = (
    "id",
    "item_type",
    "item_id",
    "reference",
    "title",
    "step",
    "agency_id",
    "deadline",
    "escalated_at",
    "notified_count",
    "link",
)


def escalations_query(
    *,
    agency_id: uuid.UUID | None = None,
    item_type: str | None = None,
    item_id: uuid.UUID | None = None,
    sort: str = "-escalated_at",
) -> sa.Select[Any]:
    """Escalations, newest first by default; `agency_id`: one agency's only (the caller's scope,
    ops.service.agency_scope)."""
    query = apply_sort(sa.select(Escalation), sort, ESCALATION_SORTABLE, tiebreaker=Escalation.id)
    if agency_id is not None:
        query = query.where(Escalation.agency_id == agency_id)
    if item_type is not None:
        query = query.where(Escalation.item_type == item_type)
    if item_id is not None:
        query = query.where(Escalation.item_id == item_id)
    return query


def csv_rows(query: sa.Select[Any]) -> Iterable[tuple[Any, ...]]:
    """The rows of an escalations download, in `CSV_COLUMNS` order."""
    for escalation in db.session.scalars(query):
        yield tuple(getattr(escalation, column) for column in CSV_COLUMNS)
