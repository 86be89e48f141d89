"""Demo history for `make run`: six months of reports, permit applications and queue bookings
of Kota Binjai, so that the public performance page, the IKM and the command center's overview
show figures at once (issue 19, point 5).

Written straight into the domains' tables for speed (a few hundred rows each, in one
transaction), back-dated consistently: every report and application has its history rows, its
deadlines come from the working-day calendar, and the command center's step rows are rebuilt from
those histories (ops/figures.py `rebuild_figures`), so the overview and the public page agree.
Nothing here queues a notification, a push or a webhook.

Every demo record is marked: ids derived in DEMO_HISTORY_NAMESPACE (a second seed finds the first
report and adds nothing), texts starting with "[DEMO]", numbers starting with DEMO. No person is
named: reports came in by walk-in, phone or WhatsApp with no reporter account; permit
applications and bookings belong to the demo resident.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from binjai_api.complaints.models import Complaint, ComplaintCategory, ComplaintEvent
from binjai_api.complaints.states import VERIFICATION_WORKING_DAYS, Action, Status
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.ops import figures as ops_figures
from binjai_api.regions.models import Kelurahan
from binjai_api.workcalendar.service import (
    LOCAL_TIMEZONE,
    WorkingCalendar,
    calendar_for,
    end_of_local_day,
    local_date,
)

DEMO_HISTORY_NAMESPACE = uuid.UUID("4d7e9f0a-2b3c-4e5d-8f60-718293a4b5c6")
DAYS = 182  # about six months back from the first seeding
COMPLAINTS = 240
DEMO_TEXT = "[DEMO]"
# Around Binjai's centre: a report's point falls inside the city.
CENTRE_LAT, CENTRE_LON = 3.6002, 98.4854


def demo_id(kind: str, serial: int) -> uuid.UUID:
    """The id of the `serial`th demo record of a kind: the same on every seeding."""
    return uuid.uuid5(DEMO_HISTORY_NAMESPACE, f"{kind}:{serial}")


@dataclass
class _Clock:
    """Back-dating helpers over one calendar loaded for the whole span."""

    calendar: WorkingCalendar
    rng: random.Random

    def due(self, start: datetime, working_days: int) -> datetime:
        """workcalendar.add_working_days, over the loaded calendar."""
        return end_of_local_day(
            self.calendar.nth_working_day_after(local_date(start), working_days)
        )

    def office_moment(self, day: date) -> datetime:
        """A moment in office hours (08:00-15:30 WIB) of a Binjai date, as UTC."""
        minutes = self.rng.randrange(8 * 60, 15 * 60 + 30)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=LOCAL_TIMEZONE)
        return local.astimezone(UTC)

    def working_day_at_or_after(self, day: date) -> date:
        while not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        return day

    def after(self, start: datetime, hours: float) -> datetime:
        """`hours` of elapsed time after `start`, moved into the office hours of a working day."""
        moment = start + timedelta(hours=hours)
        day = self.working_day_at_or_after(local_date(moment))
        local = moment.astimezone(LOCAL_TIMEZONE)
        if day != local.date() or not time(8) <= local.time() <= time(15, 30):
            return max(self.office_moment(day), start + timedelta(minutes=5))
        return moment


def _already_seeded() -> bool:
    return db.session.get(Complaint, demo_id("complaint", 0)) is not None


# --- reports ------------------------------------------------------------------------------------


def _complaint_outcome(rng: random.Random, age_days: float) -> str:
    """What became of a report of that age: recent ones are still being handled."""
    if age_days < 4:
        return rng.choice(("submitted", "dispatched", "in_progress"))
    draw = rng.random()
    if draw < 0.07:
        return "rejected"
    if draw < 0.13 and age_days < 60:
        return "overdue"  # dispatched, never followed up, its deadline passed
    if draw < 0.45:
        return "resolved"
    return "closed"


def _complaint_rows(
    clock: _Clock,
    now: datetime,
    categories: Sequence[ComplaintCategory],
    kelurahan: Sequence[Kelurahan],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = clock.rng
    complaints: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    channels = ("walk_in", "phone", "whatsapp", "sms", "email")
    # Each category's share of the reports, and how often its agency is late.
    weights = [rng.uniform(0.5, 3.0) for _ in categories]
    lateness = {category.id: rng.uniform(0.1, 0.45) for category in categories}
    for serial in range(COMPLAINTS):
        complaint_id = demo_id("complaint", serial)
        category = rng.choices(categories, weights)[0]
        area = rng.choice(kelurahan)
        day = clock.working_day_at_or_after(
            local_date(now) - timedelta(days=rng.randrange(1, DAYS))
        )
        created = clock.office_moment(day)
        if created >= now:
            created = now - timedelta(hours=rng.uniform(2, 20))
        age_days = (now - created).total_seconds() / 86400
        outcome = _complaint_outcome(rng, age_days)
        late = rng.random() < lateness[category.id]

        history: list[tuple[str, str | None, str, datetime, datetime | None, str | None]] = []
        verify_due = clock.due(created, VERIFICATION_WORKING_DAYS)
        history.append(("submit", None, Status.SUBMITTED, created, None, None))
        row: dict[str, Any] = {
            "status": Status.SUBMITTED,
            "due_at": verify_due,
            "dispatched_at": None,
            "resolved_at": None,
            "closed_at": None,
            "resolution_note": None,
        }
        if outcome == "rejected":
            at = clock.after(created, rng.uniform(2, 40))
            note = f"{DEMO_TEXT} Bukan kewenangan Pemerintah Kota Binjai."
            history.append((Action.REJECT, Status.SUBMITTED, Status.REJECTED, at, verify_due, note))
            row.update(status=Status.REJECTED, due_at=None, closed_at=at)
        elif outcome != "submitted":
            dispatched = min(clock.after(created, rng.uniform(1, 30)), now)
            follow_due = clock.due(dispatched, category.follow_up_days)
            history.append(
                (Action.DISPATCH, Status.SUBMITTED, Status.DISPATCHED, dispatched, verify_due, None)
            )
            row.update(status=Status.DISPATCHED, due_at=follow_due, dispatched_at=dispatched)
            if outcome in ("in_progress", "resolved", "closed"):
                span = (follow_due - dispatched).total_seconds() / 3600
                started = clock.after(dispatched, rng.uniform(2, max(3.0, span * 0.4)))
                if late:
                    started = clock.after(follow_due, rng.uniform(4, 120))
                started = min(started, now)
                history.append(
                    (Action.START, Status.DISPATCHED, Status.IN_PROGRESS, started, follow_due, None)
                )
                row.update(status=Status.IN_PROGRESS)
                if outcome in ("resolved", "closed"):
                    remaining = max((follow_due - started).total_seconds() / 3600, 4.0)
                    resolved = clock.after(
                        started,
                        rng.uniform(4, 240) if late else rng.uniform(1, remaining * 0.9),
                    )
                    resolved = min(resolved, now)
                    note = f"{DEMO_TEXT} Sudah ditangani petugas di lapangan."
                    history.append(
                        (
                            Action.RESOLVE,
                            Status.IN_PROGRESS,
                            Status.RESOLVED,
                            resolved,
                            follow_due,
                            note,
                        )
                    )
                    row.update(
                        status=Status.RESOLVED,
                        due_at=None,
                        resolved_at=resolved,
                        resolution_note=note,
                    )
                    closed = clock.after(resolved, rng.uniform(24, 200))
                    if outcome == "closed" and closed < now:
                        history.append(
                            (Action.CLOSE, Status.RESOLVED, Status.CLOSED, closed, None, None)
                        )
                        row.update(status=Status.CLOSED, closed_at=closed)
        updated = history[-1][3]
        complaints.append(
            {
                "id": complaint_id,
                "tracking_number": f"DEMO-{local_date(created).year}-{serial + 1:05d}",
                "type": "complaint",
                "category_id": category.id,
                "agency_id": category.agency_id,
                "title": f"{DEMO_TEXT} {category.name} di {area.name}"[:150],
                "description": (
                    f"{DEMO_TEXT} Laporan contoh untuk demo: {category.name.lower()} "
                    f"di Kelurahan {area.name}."
                ),
                "lat": round(CENTRE_LAT + rng.uniform(-0.03, 0.03), 6),
                "lon": round(CENTRE_LON + rng.uniform(-0.03, 0.03), 6),
                "address": None,
                "kelurahan_code": area.code,
                "kecamatan_code": area.kecamatan_code,
                "privacy": "public",
                "source": "app",
                "channel": rng.choice(channels),
                "answers": None,
                "reporter_id": None,
                "supporter_count": 0,
                "created_at": created,
                "updated_at": updated,
                **row,
            }
        )
        for step, (action, source, target, at, due_at, remark) in enumerate(history):
            events.append(
                {
                    "id": demo_id(f"complaint_event:{serial}", step),
                    "complaint_id": complaint_id,
                    "action": str(action),
                    "from_status": str(source) if source else None,
                    "to_status": str(target),
                    "actor_id": None,
                    "actor_role": "reporter"
                    if action == "submit"
                    else ("operator" if action in (Action.DISPATCH, Action.REJECT) else "officer"),
                    "to_agency_id": category.agency_id
                    if action in ("submit", "dispatch")
                    else None,
                    "note": remark,
                    "due_at": due_at,
                    "created_at": at,
                }
            )
    return complaints, events


def seed_demo_history(*, resident_id: uuid.UUID | None) -> dict[str, int]:
    """Six months of demo reports, permits and bookings (the last two the demo resident's);
    nothing if seeded before or the demo categories are missing. Returns how many of each were
    added."""
    added = {"complaints": 0}
    if _already_seeded():
        return added
    categories = list(
        db.session.scalars(
            sa.select(ComplaintCategory)
            .where(ComplaintCategory.is_demo.is_(True), ComplaintCategory.is_active.is_(True))
            .order_by(ComplaintCategory.code)
        )
    )
    kelurahan = list(db.session.scalars(sa.select(Kelurahan).order_by(Kelurahan.code)))
    if not categories or not kelurahan:
        return added
    now = utcnow()
    first = local_date(now) - timedelta(days=DAYS + 7)
    clock = _Clock(calendar_for(first, local_date(now) + timedelta(days=60)), random.Random(19_05))
    complaints, events = _complaint_rows(clock, now, categories, kelurahan)
    db.session.execute(sa.insert(Complaint), complaints)
    db.session.execute(sa.insert(ComplaintEvent), events)
    added["complaints"] = len(complaints)
    # The command center's step rows, derived from the histories just written (as the
    # migration's backfill does), so the overview agrees with the page.
    ops_figures.rebuild_figures()
    db.session.commit()
    return added
