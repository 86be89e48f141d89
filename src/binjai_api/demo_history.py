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
from binjai_api.health.models import Facility, HealthService, QueueBooking, QueueDay, QueueSession
from binjai_api.licensing import permits as licensing_permits
from binjai_api.licensing.models import (
    Permit,
    PermitApplication,
    PermitApplicationEvent,
    PermitType,
)
from binjai_api.licensing.workflow import OFFICER_STEPS, Step
from binjai_api.licensing.workflow import Action as ApplicationAction
from binjai_api.licensing.workflow import Status as ApplicationStatus
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
APPLICATIONS = 64
RECENT_APPLICATIONS = 6
QUEUE_SESSIONS = 8  # weekly sessions of demo poli given a history
QUEUE_DAYS = 56  # past session days, about 8 bookings each
# Permit types without a levy: their demo history needs no bill (licensing/billing.py).
DEMO_PERMIT_TYPES = ("SIP", "PENELITIAN")
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


# --- permit applications -------------------------------------------------------------------------


def _form_data(permit_type: PermitType, serial: int, submitted: datetime) -> dict[str, Any]:
    """Made-up answers to the type's form, marked demo."""
    day = local_date(submitted)
    if permit_type.code == "SIP":
        return {
            "profesi": ("dokter", "dokter_gigi", "bidan", "perawat")[serial % 4],
            "nomor_str": f"DEMO-STR-{serial + 1:05d}",
            "str_berlaku_sampai": (day + timedelta(days=900)).isoformat(),
            "nama_tempat_praktik": f"{DEMO_TEXT} Praktik Mandiri {serial + 1}",
            "alamat_praktik": f"{DEMO_TEXT} Jl. Contoh No. {serial + 1}, Binjai",
        }
    return {
        "judul": f"{DEMO_TEXT} Penelitian contoh nomor {serial + 1}",
        "institusi": f"{DEMO_TEXT} Universitas Contoh",
        "lokasi": "Kota Binjai",
        "tanggal_mulai": (day + timedelta(days=20)).isoformat(),
        "tanggal_selesai": (day + timedelta(days=80)).isoformat(),
    }


def _step_days(permit_type: PermitType, step: Step) -> int:
    return int(permit_type.step_deadlines.get(step, 1))


def _officer_step(
    clock: _Clock, permit_type: PermitType, late: bool, step: Step, start: datetime
) -> datetime:
    """When an officer step started at `start` ended: within its working days, or well past
    them for a late application."""
    hours = _step_days(permit_type, step) * 24.0
    return clock.after(start, clock.rng.uniform(2, hours * (2.2 if late else 0.8)))


def _application_rows(
    clock: _Clock, now: datetime, permit_types: Sequence[PermitType], resident_id: uuid.UUID
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Permit]]:
    """Applications submitted over the months, taken through verification, technical review
    and decision to issuance (most within their service level, some late), a few refused."""
    rng = clock.rng
    applications: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    issued: list[Permit] = []
    for serial in range(APPLICATIONS):
        application_id = demo_id("application", serial)
        # The first few are recent quick ones (no technical review), so that the current
        # month shows issued permits too once a few working days of it have passed.
        recent = serial < RECENT_APPLICATIONS
        quick = [t for t in permit_types if t.technical_agency_id is None]
        permit_type = quick[0] if recent and quick else permit_types[serial % len(permit_types)]
        technical = permit_type.technical_agency_id
        back = rng.randrange(4, 10) if recent else rng.randrange(12, DAYS)
        day = clock.working_day_at_or_after(local_date(now) - timedelta(days=back))
        drafted = clock.office_moment(day)
        submitted = clock.after(drafted, rng.uniform(1, 8 if recent else 48))
        sla_days = sum(
            _step_days(permit_type, step)
            for step in OFFICER_STEPS
            if step != Step.TECHNICAL_REVIEW or technical is not None
        )
        sla_due = clock.due(submitted, sla_days)
        late = rng.random() < 0.25 and not recent
        refused = rng.random() < 0.1 and not recent
        # (action, from, to, actor kind, agency, at, note)
        history: list[tuple[str, str | None, str, str, uuid.UUID | None, datetime, str | None]]
        history = [
            (
                ApplicationAction.SUBMIT,
                ApplicationStatus.DRAFT,
                ApplicationStatus.SUBMITTED,
                "applicant",
                None,
                submitted,
                None,
            )
        ]

        at = _officer_step(clock, permit_type, late, Step.VERIFICATION, submitted)
        if technical is not None:
            history.append(
                (
                    ApplicationAction.VERIFY,
                    ApplicationStatus.SUBMITTED,
                    ApplicationStatus.TECHNICAL_REVIEW,
                    "issuing_agency",
                    permit_type.issuing_agency_id,
                    at,
                    None,
                )
            )
            at = _officer_step(clock, permit_type, late, Step.TECHNICAL_REVIEW, at)
            history.append(
                (
                    ApplicationAction.RECORD_REVIEW,
                    ApplicationStatus.TECHNICAL_REVIEW,
                    ApplicationStatus.AWAITING_DECISION,
                    "technical_agency",
                    technical,
                    at,
                    f"{DEMO_TEXT} Hasil pemeriksaan teknis: memenuhi syarat.",
                )
            )
        else:
            history.append(
                (
                    ApplicationAction.VERIFY,
                    ApplicationStatus.SUBMITTED,
                    ApplicationStatus.AWAITING_DECISION,
                    "issuing_agency",
                    permit_type.issuing_agency_id,
                    at,
                    None,
                )
            )
        at = _officer_step(clock, permit_type, late, Step.DECISION, at)
        if refused:
            history.append(
                (
                    ApplicationAction.REJECT,
                    ApplicationStatus.AWAITING_DECISION,
                    ApplicationStatus.REJECTED,
                    "issuing_agency",
                    permit_type.issuing_agency_id,
                    at,
                    f"{DEMO_TEXT} Persyaratan tidak terpenuhi.",
                )
            )
        else:
            history.append(
                (
                    ApplicationAction.APPROVE,
                    ApplicationStatus.AWAITING_DECISION,
                    ApplicationStatus.APPROVED,
                    "issuing_agency",
                    permit_type.issuing_agency_id,
                    at,
                    None,
                )
            )
            at = _officer_step(clock, permit_type, late, Step.ISSUANCE, at)
            history.append(
                (
                    ApplicationAction.ISSUE,
                    ApplicationStatus.APPROVED,
                    ApplicationStatus.ISSUED,
                    "issuing_agency",
                    permit_type.issuing_agency_id,
                    at,
                    None,
                )
            )
        if history[-1][5] >= now:
            continue  # would end in the future: left out
        decided = history[-1][5]
        status = history[-1][2]
        valid_from = local_date(decided)
        permit_number = f"DEMO/{permit_type.code}/{serial + 1:05d}/{valid_from.year}"
        details: dict[str, dict[str, Any]] = {
            ApplicationAction.RECORD_REVIEW: {"review_result": "recommended"},
            ApplicationAction.ISSUE: {"permit_number": permit_number},
        }
        applications.append(
            {
                "id": application_id,
                "number": f"DEMO-IZN-{local_date(submitted).year}-{serial + 1:05d}",
                "permit_type_id": permit_type.id,
                "applicant_id": resident_id,
                "replaces_permit_id": None,
                "status": status,
                "form_data": _form_data(permit_type, serial, submitted),
                "submitted_at": submitted,
                "decided_at": decided,
                "step_due_at": None,
                "action_due_at": None,
                "sla_due_at": sla_due,
                "paused_at": None,
                "technical_review_result": "recommended" if technical is not None else None,
                "status_reason": history[-1][6] if refused else None,
                "created_at": drafted,
                "updated_at": decided,
            }
        )
        for step, (action, source, target, kind, agency_id, moment, remark) in enumerate(history):
            events.append(
                {
                    "id": demo_id(f"application_event:{serial}", step),
                    "application_id": application_id,
                    "action": str(action),
                    "from_status": str(source) if source else None,
                    "to_status": str(target),
                    "actor_id": None if kind != "applicant" else resident_id,
                    "actor_kind": kind,
                    "actor_agency_id": agency_id,
                    "note": remark,
                    "details": details.get(action, {}),
                    "created_at": moment,
                }
            )
        if status == ApplicationStatus.ISSUED:
            permit = Permit(
                id=demo_id("permit", serial),
                application_id=application_id,
                permit_type_id=permit_type.id,
                holder_id=resident_id,
                permit_number=permit_number,
                issued_at=decided,
                valid_from=valid_from,
                valid_until=valid_from + timedelta(days=30 * permit_type.validity_months - 1),
                status="active",
                created_at=decided,
                updated_at=decided,
            )
            permit.permit_type = permit_type
            permit.verification_code = licensing_permits.code_of(permit)
            issued.append(permit)
    return applications, events, issued


# --- queue bookings ------------------------------------------------------------------------------


def _queue_rows(clock: _Clock, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Past session days of a few demo poli: patients checked in before the session, called in
    turn after realistic waits and served; some did not come (no-show), a few cancelled."""
    rng = clock.rng
    sessions = db.session.execute(
        sa.select(QueueSession, HealthService.facility_id)
        .join(HealthService, HealthService.id == QueueSession.service_id)
        .join(Facility, Facility.id == HealthService.facility_id)
        .where(Facility.is_demo.is_(True), HealthService.is_active.is_(True))
        .order_by(Facility.name, HealthService.code, QueueSession.weekday)
    ).all()
    if not sessions:
        return [], []
    chosen = rng.sample(sessions, min(QUEUE_SESSIONS, len(sessions)))
    today = local_date(now)
    taken = {
        (session_id, day)
        for session_id, day in db.session.execute(
            sa.select(QueueDay.session_id, QueueDay.day).where(
                QueueDay.day >= today - timedelta(days=DAYS), QueueDay.day < today
            )
        )
    }
    candidates = [
        (session, facility_id, day)
        for session, facility_id in chosen
        for back in range(1, DAYS)
        if (day := today - timedelta(days=back)).weekday() == session.weekday
        and not clock.calendar.is_day_off(day)
        and (session.id, day) not in taken
    ]
    days: list[dict[str, Any]] = []
    bookings: list[dict[str, Any]] = []
    for serial, (session, facility_id, day) in enumerate(
        sorted(
            rng.sample(candidates, min(QUEUE_DAYS, len(candidates))),
            key=lambda c: (c[2], str(c[0].id)),
        )
    ):
        day_id = demo_id("queue_day", serial)
        opens = datetime.combine(day, session.starts_at, tzinfo=LOCAL_TIMEZONE).astimezone(UTC)
        desk_free = opens
        counts = {"online": 0, "walk_in": 0, "served": 0, "seconds": 0}
        calling: int | None = None
        for number in range(1, rng.randrange(5, 13)):
            source = "online" if rng.random() < 0.6 else "walk_in"
            counts[source] += 1
            booked = (
                opens - timedelta(days=rng.randrange(1, 6), hours=rng.uniform(0, 8))
                if source == "online"
                else opens + timedelta(minutes=rng.uniform(-40, 60))
            )
            row: dict[str, Any] = {
                "id": demo_id(f"queue_booking:{serial}", number),
                "queue_day_id": day_id,
                "facility_id": facility_id,
                "service_id": session.service_id,
                "day": day,
                "queue_number": number,
                "booking_code": f"DEMO{len(bookings) + 1:06d}",
                "source": source,
                "account_id": None,
                "patient_name": f"{DEMO_TEXT} Pasien {len(bookings) + 1}",
                "patient_nik": None,
                "status": "served",
                "checked_in_at": None,
                "called_at": None,
                "finished_at": None,
                "cancelled_at": None,
                "three_ahead_notified": False,
                "created_at": booked,
            }
            draw = rng.random()
            if source == "online" and draw < 0.07:
                cancelled = booked + timedelta(hours=rng.uniform(1, 20))
                row.update(status="cancelled", cancelled_at=min(cancelled, opens))
            elif source == "online" and draw < 0.17:
                # Called in turn, never came: marked a no-show a few minutes later.
                called = max(desk_free, opens)
                row.update(
                    status="no_show",
                    called_at=called,
                    finished_at=called + timedelta(minutes=rng.uniform(3, 8)),
                )
                desk_free = row["finished_at"]
                calling = number
            else:
                arrived = (
                    booked
                    if source == "walk_in"
                    else opens + timedelta(minutes=rng.uniform(-45, 40))
                )
                called = max(desk_free, arrived + timedelta(minutes=rng.uniform(2, 12)))
                finished = called + timedelta(
                    minutes=session.minutes_per_patient * rng.uniform(0.6, 1.8)
                )
                row.update(checked_in_at=arrived, called_at=called, finished_at=finished)
                desk_free = finished
                counts["served"] += 1
                counts["seconds"] += int((finished - called).total_seconds())
                calling = number
            row["updated_at"] = row["finished_at"] or row["cancelled_at"]
            bookings.append(row)
        last = bookings[-1]["queue_number"]
        days.append(
            {
                "id": day_id,
                "session_id": session.id,
                "service_id": session.service_id,
                "facility_id": facility_id,
                "day": day,
                "status": "open",
                "last_number": last,
                "online_booked": counts["online"],
                "walk_ins": counts["walk_in"],
                "now_calling": calling,
                "served_count": counts["served"],
                "service_seconds": counts["seconds"],
                "cancel_reason": None,
                "created_at": opens - timedelta(days=5),
                "updated_at": desk_free,
            }
        )
    return days, bookings


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
    permit_types = list(
        db.session.scalars(
            sa.select(PermitType)
            .where(PermitType.code.in_(DEMO_PERMIT_TYPES), PermitType.is_active.is_(True))
            .order_by(PermitType.code)
        )
    )
    if resident_id is not None and permit_types:
        applications, application_events, issued = _application_rows(
            clock, now, permit_types, resident_id
        )
        db.session.execute(sa.insert(PermitApplication), applications)
        db.session.execute(sa.insert(PermitApplicationEvent), application_events)
        db.session.add_all(issued)
        db.session.flush()
        added["permit_applications"] = len(applications)
    queue_days, bookings = _queue_rows(clock, now)
    if queue_days:
        db.session.execute(sa.insert(QueueDay), queue_days)
        db.session.execute(sa.insert(QueueBooking), bookings)
    added["queue_bookings"] = len(bookings)
    # The command center's step rows, derived from the histories just written (as the
    # migration's backfill does), so the overview agrees with the page.
    ops_figures.rebuild_figures()
    db.session.commit()
    return added
