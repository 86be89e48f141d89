"""A small city with known answers: complaints, permit applications and queue bookings written
straight into the tables with fixed timestamps around the end of 2026, where 24 December (cuti
bersama), 25 December (Christmas) and 1 January are days off.

The period under test is 21-31 December 2026 (local dates); "now" is Monday 4 January 2027,
10:00 WIB. Every figure the overview should give is worked out by hand in test_overview.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import service as complaints_service
from binjai_api.complaints.models import Complaint, ComplaintCategory, ComplaintEvent
from binjai_api.extensions import db
from binjai_api.health.models import (
    Facility,
    HealthService,
    QueueBooking,
    QueueDay,
    QueueSession,
)
from binjai_api.licensing.models import PermitApplication, PermitApplicationEvent, PermitType
from binjai_api.ops import service as ops_service
from binjai_api.ops.models import Escalation
from binjai_api.regions.models import Kecamatan
from binjai_api.workcalendar.service import LOCAL_TIMEZONE, add_working_days
from tests import factories

NOW_LOCAL = ("2027-01-04", 10)
PERIOD = {"from": "2026-12-21", "to": "2026-12-31"}
OVERVIEW = "/api/v1/ops/overview"
OVERDUE = "/api/v1/ops/overdue"
HEATMAP = "/api/v1/ops/complaints-heatmap.geojson"


def wib(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """An instant given in Binjai local time, as UTC."""
    local = datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00")
    return local.replace(tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


def end_of(day: str) -> datetime:
    """23:59:59 WIB of a date, as UTC."""
    return datetime.fromisoformat(f"{day}T16:59:59+00:00")


NOW = wib(*NOW_LOCAL)


@dataclass
class City:
    """Ids of what the fixture wrote, by the names the tests use."""

    agencies: dict[str, uuid.UUID] = field(default_factory=dict)
    kelurahan: dict[str, str] = field(default_factory=dict)  # K1, K2 -> code
    kecamatan: dict[str, str] = field(default_factory=dict)  # K1, K2 -> kecamatan code
    complaints: dict[str, uuid.UUID] = field(default_factory=dict)
    applications: dict[str, uuid.UUID] = field(default_factory=dict)
    queue_day: uuid.UUID | None = None
    category_id: uuid.UUID | None = None


_serial = itertools.count(1)


def add_complaint(
    city: City,
    name: str,
    *,
    agency: str,
    created: datetime,
    status: str,
    area: str | None,
    lat: float | None,
    lon: float | None,
    due_at: datetime | None,
    events: list[tuple[str, str, str, datetime, datetime | None]],
    privacy: str = "public",
) -> None:
    """`events`: (action, from_status, to_status, at, deadline running at the time)."""
    complaint = Complaint(
        tracking_number=f"BJI-T-{next(_serial):06d}",
        type="complaint",
        category_id=city.category_id,
        agency_id=city.agencies[agency],
        title=f"Laporan {name}",
        description="Uji statistik",
        lat=lat,
        lon=lon,
        kelurahan_code=city.kelurahan[area] if area else None,
        kecamatan_code=city.kecamatan[area] if area else None,
        privacy=privacy,
        status=status,
        due_at=due_at,
        created_at=created,
        updated_at=created,
    )
    db.session.add(complaint)
    db.session.flush()
    db.session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            action="submit",
            from_status=None,
            to_status="submitted",
            created_at=created,
        )
    )
    for action, source, target, at, deadline in events:
        db.session.add(
            ComplaintEvent(
                complaint_id=complaint.id,
                action=action,
                from_status=source,
                to_status=target,
                due_at=deadline,
                created_at=at,
            )
        )
    city.complaints[name] = complaint.id


def _complaints(city: City) -> None:
    c1_verify_due = add_working_days(wib("2026-12-23"), 3)
    # Wed 23 + 3 working days skips Thu 24 (cuti bersama), Fri 25 (Christmas) and the weekend.
    assert c1_verify_due == end_of("2026-12-30")
    c1_follow_up_due = add_working_days(wib("2026-12-30", 15), 5)
    add_complaint(
        city,
        "C1",
        agency="PUPR",
        created=wib("2026-12-23"),
        status="resolved",
        area="K1",
        lat=3.60,
        lon=98.48,
        due_at=None,
        events=[
            # On time only because the holidays stretch the deadline to the 30th.
            ("dispatch", "submitted", "dispatched", wib("2026-12-30", 15), c1_verify_due),
            ("resolve", "dispatched", "resolved", wib("2026-12-31"), c1_follow_up_due),
        ],
    )
    c2_verify_due = add_working_days(wib("2026-12-23", 11), 3)
    add_complaint(
        city,
        "C2",
        agency="PUPR",
        created=wib("2026-12-23", 11),
        status="dispatched",
        area="K1",
        lat=3.61,
        lon=98.49,
        due_at=add_working_days(wib("2026-12-31", 9), 5),  # 8 January: not overdue yet
        events=[("dispatch", "submitted", "dispatched", wib("2026-12-31", 9), c2_verify_due)],
    )
    c3_due = add_working_days(wib("2026-12-21", 9), 3)
    assert c3_due == end_of("2026-12-28")  # Tue 22, Wed 23, then Mon 28
    add_complaint(
        city,
        "C3",
        agency="PERKIM",
        created=wib("2026-12-21", 9),
        status="submitted",
        area="K2",
        lat=None,
        lon=None,
        due_at=c3_due,
        events=[],
        privacy="confidential",
    )
    add_complaint(
        city,
        "C4",
        agency="PUPR",
        created=wib("2026-12-22", 8),
        status="rejected",
        area=None,
        lat=3.62,
        lon=98.50,
        due_at=None,
        events=[
            (
                "reject",
                "submitted",
                "rejected",
                wib("2026-12-22", 12),
                add_working_days(wib("2026-12-22", 8), 3),
            )
        ],
    )
    c5_follow_up_due = add_working_days(wib("2026-12-11"), 5)
    assert c5_follow_up_due == end_of("2026-12-18")
    add_complaint(
        city,
        "C5",
        agency="PUPR",
        created=wib("2026-12-10"),
        status="resolved",
        area="K1",
        lat=3.60,
        lon=98.48,
        due_at=None,
        events=[
            (
                "dispatch",
                "submitted",
                "dispatched",
                wib("2026-12-11"),
                add_working_days(wib("2026-12-10"), 3),
            ),
            ("resolve", "dispatched", "resolved", wib("2026-12-22"), c5_follow_up_due),  # late
        ],
    )
    c6_verify_due = add_working_days(wib("2026-12-24"), 3)
    assert c6_verify_due == end_of("2026-12-30")  # reported on a holiday: Mon 28 .. Wed 30
    add_complaint(
        city,
        "C6",
        agency="PERKIM",
        created=wib("2026-12-24"),
        status="dispatched",
        area="K2",
        lat=3.58,
        lon=98.47,
        due_at=add_working_days(wib("2026-12-28"), 2),  # 30 December: overdue now
        events=[("dispatch", "submitted", "dispatched", wib("2026-12-28"), c6_verify_due)],
    )
    add_complaint(
        city,
        "C7",
        agency="PUPR",
        created=wib("2026-12-31", 20),  # the last evening of the period
        status="submitted",
        area="K2",
        lat=3.59,
        lon=98.46,
        due_at=add_working_days(wib("2026-12-31", 20), 3),
        events=[],
    )
    add_complaint(
        city,
        "C8",
        agency="PUPR",
        created=wib("2027-01-01", 1),  # just after the period
        status="submitted",
        area="K1",
        lat=3.60,
        lon=98.48,
        due_at=add_working_days(wib("2027-01-01", 1), 3),
        events=[],
    )


def add_application(
    city: City,
    name: str,
    *,
    permit_type: PermitType,
    applicant_id: str,
    status: str,
    submitted: datetime | None,
    sla_due_at: datetime | None,
    action_due_at: datetime | None,
    events: list[tuple[str, str, str, datetime]],
) -> None:
    application = PermitApplication(
        number=f"T/{next(_serial):06d}",
        permit_type_id=permit_type.id,
        applicant_id=uuid.UUID(applicant_id),
        status=status,
        submitted_at=submitted,
        sla_due_at=sla_due_at,
        action_due_at=action_due_at,
    )
    db.session.add(application)
    db.session.flush()
    for action, source, target, at in events:
        db.session.add(
            PermitApplicationEvent(
                application_id=application.id,
                action=action,
                from_status=source,
                to_status=target,
                actor_kind="test",
                created_at=at,
            )
        )
    city.applications[name] = application.id


def _applications(city: City, applicant_id: str) -> None:
    with_technical = PermitType(
        code=f"T{uuid.uuid4().hex[:8]}",
        name="Izin dengan kajian teknis",
        name_en="Permit with technical review",
        issuing_agency_id=city.agencies["DPMPTSP"],
        technical_agency_id=city.agencies["DINKES"],
        validity_months=12,
    )
    plain = PermitType(
        code=f"T{uuid.uuid4().hex[:8]}",
        name="Izin sederhana",
        name_en="Simple permit",
        issuing_agency_id=city.agencies["DPMPTSP"],
        validity_months=12,
    )
    db.session.add_all([with_technical, plain])
    db.session.flush()
    a1_sla = add_working_days(wib("2026-12-22", 9), 5)
    assert a1_sla == end_of("2026-12-31")  # 23, 28, 29, 30, 31: the holidays skipped
    add_application(
        city,
        "A1",
        permit_type=with_technical,
        applicant_id=applicant_id,
        status="issued",
        submitted=wib("2026-12-22", 9),
        sla_due_at=a1_sla,
        action_due_at=None,
        events=[
            ("submit", "draft", "submitted", wib("2026-12-22", 9)),
            ("verify", "submitted", "technical_review", wib("2026-12-23", 10)),
            ("record_review", "technical_review", "awaiting_decision", wib("2026-12-28", 10)),
            ("approve", "awaiting_decision", "approved", wib("2026-12-29", 10)),
            ("issue", "approved", "issued", wib("2026-12-30", 14)),
        ],
    )
    add_application(
        city,
        "A2",
        permit_type=plain,
        applicant_id=applicant_id,
        status="correction_requested",
        submitted=wib("2026-12-21", 9),
        sla_due_at=None,
        action_due_at=wib("2026-12-28", 12),  # the applicant's corrections: overdue now
        events=[
            ("submit", "draft", "submitted", wib("2026-12-21", 9)),
            ("request_correction", "submitted", "correction_requested", wib("2026-12-21", 15)),
        ],
    )
    add_application(
        city,
        "A3",
        permit_type=plain,
        applicant_id=applicant_id,
        status="rejected",
        submitted=wib("2026-12-10", 9),
        sla_due_at=end_of("2026-12-17"),
        action_due_at=None,
        events=[
            ("submit", "draft", "submitted", wib("2026-12-10", 9)),
            ("verify", "submitted", "awaiting_decision", wib("2026-12-11", 9)),
            ("reject", "awaiting_decision", "rejected", wib("2026-12-29")),  # late
        ],
    )
    add_application(
        city,
        "A4",
        permit_type=with_technical,
        applicant_id=applicant_id,
        status="technical_review",
        submitted=wib("2026-12-28", 9),
        sla_due_at=add_working_days(wib("2026-12-28", 9), 5),
        action_due_at=wib("2026-12-31", 12),  # the technical agency's step: overdue now
        events=[
            ("submit", "draft", "submitted", wib("2026-12-28", 9)),
            ("verify", "submitted", "technical_review", wib("2026-12-29", 9)),
        ],
    )
    add_application(
        city,
        "A5",
        permit_type=plain,
        applicant_id=applicant_id,
        status="withdrawn",
        submitted=wib("2026-12-23", 10),
        sla_due_at=add_working_days(wib("2026-12-23", 10), 3),
        action_due_at=None,
        events=[
            ("submit", "draft", "submitted", wib("2026-12-23", 10)),
            ("withdraw", "submitted", "withdrawn", wib("2026-12-24", 10)),
        ],
    )
    add_application(
        city,
        "A6",
        permit_type=plain,
        applicant_id=applicant_id,
        status="draft",
        submitted=None,
        sla_due_at=None,
        action_due_at=None,
        events=[],
    )


def _booking(day: QueueDay, number: int, **fields: Any) -> QueueBooking:
    return QueueBooking(
        queue_day_id=day.id,
        facility_id=day.facility_id,
        service_id=day.service_id,
        day=day.day,
        queue_number=number,
        booking_code=f"T{next(_serial):07d}",
        patient_name="Pasien Uji",
        **fields,
    )


def _bookings(city: City) -> None:
    facility = Facility(
        name="Puskesmas Uji", type="puskesmas", address="Jl. Uji", lat=3.6, lon=98.48
    )
    db.session.add(facility)
    db.session.flush()
    poli = HealthService(facility_id=facility.id, code="umum", name="Poli Umum")
    db.session.add(poli)
    db.session.flush()
    session = QueueSession(
        service_id=poli.id,
        weekday=1,  # Tuesday
        starts_at=time(8),
        ends_at=time(12),
        online_quota=20,
        walk_in_quota=20,
        minutes_per_patient=10,
    )
    db.session.add(session)
    db.session.flush()
    before = QueueDay(
        session_id=session.id,
        service_id=poli.id,
        facility_id=facility.id,
        day=wib("2026-12-15").date(),
        status="open",
    )
    day = QueueDay(
        session_id=session.id,
        service_id=poli.id,
        facility_id=facility.id,
        day=wib("2026-12-29").date(),
        status="open",
    )
    db.session.add_all([before, day])
    db.session.flush()
    city.queue_day = day.id
    db.session.add_all(
        [
            _booking(  # B1: served before the session ended
                day,
                1,
                source="online",
                status="served",
                created_at=wib("2026-12-27"),
                checked_in_at=wib("2026-12-29", 8),
                called_at=wib("2026-12-29", 8, 30),
                finished_at=wib("2026-12-29", 8, 45),
            ),
            _booking(  # B2: a walk-in, served after the session's end
                day,
                2,
                source="walk_in",
                status="served",
                created_at=wib("2026-12-29", 9),
                checked_in_at=wib("2026-12-29", 9),
                called_at=wib("2026-12-29", 10),
                finished_at=wib("2026-12-29", 12, 30),
            ),
            _booking(  # B3: never came
                day,
                3,
                source="online",
                status="no_show",
                created_at=wib("2026-12-26"),
                finished_at=wib("2026-12-29", 12, 5),
            ),
            _booking(  # B4: cancelled by the patient the day before
                day,
                4,
                source="online",
                status="cancelled",
                created_at=wib("2026-12-26"),
                cancelled_at=wib("2026-12-28"),
            ),
            _booking(  # B5: called without checking in, never marked: the session is overdue
                day,
                5,
                source="online",
                status="called",
                created_at=wib("2026-12-26"),
                called_at=wib("2026-12-29", 11),
            ),
            _booking(  # B6: before the period
                before,
                1,
                source="walk_in",
                status="served",
                created_at=wib("2026-12-15", 8),
                checked_in_at=wib("2026-12-15", 8),
                called_at=wib("2026-12-15", 8, 10),
                finished_at=wib("2026-12-15", 8, 20),
            ),
        ]
    )


@pytest.fixture
def city(app: Flask, rollback_db: None) -> City:
    applicant = factories.make_account(app, "citizen")
    with app.app_context():
        complaints_service.seed_categories()
        result = City()
        for code in ("PUPR", "PERKIM", "DINKES", "DPMPTSP"):
            result.agencies[code] = uuid.UUID(factories.agency_id(app, code))
        result.category_id = db.session.scalar(sa.select(ComplaintCategory.id).limit(1))
        kecamatan = db.session.scalars(sa.select(Kecamatan).order_by(Kecamatan.code)).all()
        for name, area in (("K1", kecamatan[0]), ("K2", kecamatan[1])):
            result.kelurahan[name] = area.kelurahan[0].code
            result.kecamatan[name] = area.code
        _complaints(result)
        _applications(result, applicant.id)
        _bookings(result)
        db.session.commit()
        return result


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The command center's clock, stopped at NOW."""
    monkeypatch.setattr(ops_service, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def escalate(app: Flask) -> Callable[..., None]:
    """Record an escalation the way the escalation job would."""

    def record(item_type: str, item_id: uuid.UUID, deadline: datetime, at: datetime) -> None:
        with app.app_context():
            db.session.add(
                Escalation(
                    item_type=item_type,
                    item_id=item_id,
                    deadline=deadline,
                    step="test",
                    reference="test",
                    title="test",
                    link="/api/v1/test",
                    escalated_at=at,
                )
            )
            db.session.commit()

    return record


@pytest.fixture
def staff(app: Flask, client: FlaskClient) -> Callable[..., dict[str, str]]:
    def headers(role: str, agency_code: str | None = None) -> dict[str, str]:
        account = factories.make_account(app, role, agency_code=agency_code)
        return factories.login_headers(client, account)

    return headers
