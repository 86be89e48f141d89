"""The cluster load test's checks (bench/load_checks.py) are real: each passes on a correct state
and fails when its property is broken on purpose, in a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import itertools
import sys
import uuid
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, current_app

from binjai_api.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintPhoto,
)
from binjai_api.extensions import db
from binjai_api.health.models import Facility, HealthService, QueueBooking, QueueDay, QueueSession
from binjai_api.licensing.models import (
    PermitApplication,
    PermitApplicationEvent,
    PermitDocument,
    PermitType,
)
from binjai_api.notifications.models import Broadcast, Delivery, Device, Notification
from tests import factories

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import load_checks
from load_checks import Accepted, Attempt, LogoutProbe, Window

_serial = itertools.count(1)
ONCE_KINDS = ("complaint_status_changed",)


@pytest.fixture
def ctx(app: Flask, rollback_db: None) -> Iterator[None]:
    """An app context whose writes are rolled back at the end of the test."""
    with app.app_context():
        yield


def conn() -> sa.Connection:
    """The test's connection, with everything added so far flushed into it."""
    db.session.flush()
    return db.session.connection()


def as_read(value: uuid.UUID | str) -> str:
    """An id as the API gives it to a client (dashed); the checks accept the form either
    database stores (SQLite keeps 32 hex digits), which the tests on both backends prove."""
    return str(uuid.UUID(str(value)))


def user(app: Flask) -> uuid.UUID:
    return uuid.UUID(factories.make_account(app).id)


def serial() -> int:
    return next(_serial)


# -- health queue -----------------------------------------------------------------------------


def queue_day(*, quota: int) -> QueueDay:
    facility = Facility(
        name="Puskesmas Uji", type="puskesmas", address="Jl. Uji", lat=3.6, lon=98.48
    )
    db.session.add(facility)
    db.session.flush()
    service = HealthService(facility_id=facility.id, code=f"UMUM{serial()}", name="Poli Umum")
    db.session.add(service)
    db.session.flush()
    session = QueueSession(
        service_id=service.id,
        weekday=0,
        starts_at=time(8),
        ends_at=time(12),
        online_quota=quota,
        walk_in_quota=5,
        minutes_per_patient=10,
    )
    db.session.add(session)
    db.session.flush()
    day = QueueDay(
        session_id=session.id, service_id=service.id, facility_id=facility.id, day=date(2027, 1, 4)
    )
    db.session.add(day)
    db.session.flush()
    return day


def book(day: QueueDay, *, source: str = "online", status: str = "booked") -> QueueBooking:
    """A booking as the service writes it: the next number, and the counters moved with it."""
    day.last_number += 1
    if source == "online" and status != "cancelled":
        day.online_booked += 1
    if source == "walk_in":
        day.walk_ins += 1
    booking = QueueBooking(
        queue_day_id=day.id,
        facility_id=day.facility_id,
        service_id=day.service_id,
        day=day.day,
        queue_number=day.last_number,
        booking_code=f"B{serial():08d}",
        source=source,
        patient_name="Siti Aminah",
        patient_nik=factories.valid_nik(),
        status=status,
    )
    db.session.add(booking)
    return booking


def test_no_overbooked_session_passes_on_full_sessions_with_cancellations_and_walk_ins(
    ctx: None,
) -> None:
    day = queue_day(quota=2)
    book(day)
    book(day, status="cancelled")  # gave its place back
    book(day)
    book(day, source="walk_in")  # walk-ins have their own quota
    check = load_checks.no_overbooked_session("queue", conn())
    assert check.passed, check.detail
    assert "4 bookings, 1 sessions full: 0 over quota, 0 counters off" in check.detail


def test_no_overbooked_session_fails_on_a_booking_beyond_the_online_quota(ctx: None) -> None:
    day = queue_day(quota=2)
    for _ in range(3):  # counters kept in step: only the quota is broken
        book(day)
    check = load_checks.no_overbooked_session("queue", conn())
    assert not check.passed
    assert "1 over quota, 0 counters off" in check.detail


def test_no_overbooked_session_fails_when_the_online_counter_is_off(ctx: None) -> None:
    day = queue_day(quota=5)
    book(day)
    book(day)
    day.online_booked = 1  # a booking the counter missed (a lost update)
    check = load_checks.no_overbooked_session("queue", conn())
    assert not check.passed
    assert "0 over quota, 1 counters off" in check.detail


def test_no_overbooked_session_fails_when_a_number_is_beyond_the_last_handed_out(
    ctx: None,
) -> None:
    day = queue_day(quota=5)
    book(day)
    book(day)
    day.last_number = 1  # the counter went back: number 2 would be handed out again
    check = load_checks.no_overbooked_session("queue", conn())
    assert not check.passed
    assert "1 counters off" in check.detail


def test_a_queue_number_given_twice_is_refused_by_the_schema_itself(ctx: None) -> None:
    """The check's "queue number given twice" can never fire: the unique constraint on
    (queue_day_id, queue_number) refuses the row first."""
    day = queue_day(quota=5)
    first = book(day)
    db.session.flush()
    second = book(day)
    second.queue_number = first.queue_number
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


# -- submissions stored exactly once ----------------------------------------------------------


def complaint(reporter: uuid.UUID | None, *, with_event: bool = True) -> Complaint:
    agency = uuid.UUID(factories.agency_id(current_app, "PUPR"))
    category = db.session.scalar(sa.select(ComplaintCategory).limit(1))
    if category is None:
        category = ComplaintCategory(
            code=f"uji-{serial()}", name="Jalan rusak", name_en="Damaged road", agency_id=agency
        )
        db.session.add(category)
        db.session.flush()
    row = Complaint(
        tracking_number=f"BJI-L-{serial():06d}",
        type="complaint",
        category_id=category.id,
        agency_id=agency,
        title="Jalan berlubang",
        description="Lubang besar.",
        privacy="public",
        reporter_id=reporter,
    )
    db.session.add(row)
    db.session.flush()
    if with_event:
        db.session.add(
            ComplaintEvent(
                complaint_id=row.id, action="submit", from_status=None, to_status="submitted"
            )
        )
    return row


def test_stored_ids_reads_only_the_load_users_rows(app: Flask, ctx: None) -> None:
    load_user, someone_else = user(app), user(app)
    mine = complaint(load_user)
    complaint(someone_else)
    assert load_checks.stored_ids(conn(), "complaints", [as_read(load_user)]) == [as_read(mine.id)]


@pytest.mark.parametrize("kind", sorted(load_checks.SUBMISSION_QUERIES))
def test_every_submission_query_runs_on_the_schema(ctx: None, kind: str) -> None:
    assert load_checks.stored_ids(conn(), kind, [as_read(uuid.uuid4())]) == []


def test_stored_exactly_once_passes_when_every_accepted_complaint_is_stored(
    app: Flask, ctx: None
) -> None:
    reporter = user(app)
    accepted = Accepted(frozenset(as_read(complaint(reporter).id) for _ in range(3)))
    stored = load_checks.stored_ids(conn(), "complaints", [as_read(reporter)])
    check = load_checks.stored_exactly_once("complaints", accepted, stored)
    assert check.passed, check.detail
    assert check.detail.startswith("3 accepted, 3 stored: 0 lost, 0 not acknowledged")


def test_stored_exactly_once_fails_on_a_complaint_no_client_was_told_about(
    app: Flask, ctx: None
) -> None:
    reporter = user(app)
    accepted = Accepted(frozenset(as_read(complaint(reporter).id) for _ in range(2)))
    complaint(reporter)  # a retry stored a second time
    check = load_checks.stored_exactly_once(
        "complaints", accepted, load_checks.stored_ids(conn(), "complaints", [as_read(reporter)])
    )
    assert not check.passed
    assert "2 accepted, 3 stored: 0 lost, 1 not acknowledged to a client" in check.detail


def test_stored_exactly_once_excuses_an_extra_row_an_unanswered_request_accounts_for(
    app: Flask, ctx: None
) -> None:
    reporter = user(app)
    ids = frozenset(as_read(complaint(reporter).id) for _ in range(2))
    complaint(reporter)  # the client gave up waiting, but the server had stored it
    stored = load_checks.stored_ids(conn(), "complaints", [as_read(reporter)])
    assert load_checks.stored_exactly_once("complaints", Accepted(ids, unanswered=1), stored).passed
    two_extra = [*stored, as_read(complaint(reporter).id)]
    check = load_checks.stored_exactly_once("complaints", Accepted(ids, unanswered=1), two_extra)
    assert not check.passed
    assert "2 not acknowledged to a client (1 requests unanswered)" in check.detail


def test_stored_exactly_once_fails_on_a_lost_complaint(app: Flask, ctx: None) -> None:
    reporter = user(app)
    kept = complaint(reporter)
    lost = complaint(reporter)
    accepted = Accepted(frozenset({as_read(kept.id), as_read(lost.id)}))
    db.session.execute(sa.delete(ComplaintEvent).where(ComplaintEvent.complaint_id == lost.id))
    db.session.execute(sa.delete(Complaint).where(Complaint.id == lost.id))
    check = load_checks.stored_exactly_once(
        "complaints", accepted, load_checks.stored_ids(conn(), "complaints", [as_read(reporter)])
    )
    assert not check.passed
    assert "2 accepted, 1 stored: 1 lost" in check.detail


def test_stored_exactly_once_fails_on_an_id_stored_twice() -> None:
    check = load_checks.stored_exactly_once("documents", Accepted(frozenset({"a"})), ["a", "a"])
    assert not check.passed


# -- the push outbox --------------------------------------------------------------------------


def push(owner: uuid.UUID, *, status: str = "sent") -> tuple[Delivery, tuple[str, str]]:
    device = Device(token=f"token-{uuid.uuid4().hex}", user_id=owner, platform="android")
    notification = Notification(user_id=owner, kind="complaint_status_changed", params={})
    db.session.add_all([device, notification])
    db.session.flush()
    delivery = Delivery(notification_id=notification.id, device_id=device.id, status=status)
    db.session.add(delivery)
    db.session.flush()
    return delivery, (as_read(notification.id), device.token)


def test_notifications_delivered_once_passes_when_fcm_got_each_push_once(
    app: Flask, ctx: None
) -> None:
    owner = user(app)
    keys = [push(owner)[1] for _ in range(3)]
    check = load_checks.notifications_delivered_once("pushes", conn(), dict.fromkeys(keys, 1))
    assert check.passed, check.detail
    assert check.detail.startswith("3 pushes (sent 3): 0 never received, 0 received more")


def test_notifications_delivered_once_fails_on_a_push_received_twice(app: Flask, ctx: None) -> None:
    owner = user(app)
    _, once = push(owner)
    _, twice = push(owner)
    check = load_checks.notifications_delivered_once("pushes", conn(), {once: 1, twice: 2})
    assert not check.passed
    assert "0 never received, 1 received more than once" in check.detail


def test_notifications_delivered_once_excuses_twice_only_for_the_killed_workers_deliveries(
    app: Flask, ctx: None
) -> None:
    owner = user(app)
    killed, twice = push(owner)
    check = load_checks.notifications_delivered_once(
        "pushes", conn(), {twice: 2}, at_least_once=[as_read(killed.id)]
    )
    assert check.passed, check.detail
    assert "1 of the killed worker's 1 received twice" in check.detail
    thrice = load_checks.notifications_delivered_once(
        "pushes", conn(), {twice: 3}, at_least_once=[as_read(killed.id)]
    )
    assert not thrice.passed
    assert "1 received more than once" in thrice.detail


def test_notifications_delivered_once_fails_on_a_push_never_received(app: Flask, ctx: None) -> None:
    owner = user(app)
    _, received = push(owner)
    push(owner)  # marked sent, but FCM never got it
    check = load_checks.notifications_delivered_once("pushes", conn(), {received: 1})
    assert not check.passed
    assert "1 never received" in check.detail


def test_notifications_delivered_once_fails_on_a_delivery_left_pending(
    app: Flask, ctx: None
) -> None:
    owner = user(app)
    _, sent = push(owner)
    _, pending = push(owner, status="pending")
    # FCM even got it: the worker died before recording the send, and nothing retried it.
    check = load_checks.notifications_delivered_once("pushes", conn(), {sent: 1, pending: 1})
    assert not check.passed
    assert "(pending 1, sent 1): 0 never received, 0 received more than once" in check.detail


def test_notifications_delivered_once_fails_on_a_push_not_in_the_outbox(
    app: Flask, ctx: None
) -> None:
    owner = user(app)
    _, sent = push(owner)
    stray = (as_read(uuid.uuid4()), "token-of-nobody")
    check = load_checks.notifications_delivered_once("pushes", conn(), {sent: 1, stray: 1})
    assert not check.passed
    assert "1 received but not in the outbox" in check.detail


# -- the inbox --------------------------------------------------------------------------------


def broadcast(recipients: list[uuid.UUID], *, recipients_count: int | None = None) -> Broadcast:
    row = Broadcast(
        title_id="Pengumuman",
        body_id="Isi pengumuman",
        audience="all",
        status="recorded",
        recipients_count=len(recipients) if recipients_count is None else recipients_count,
    )
    db.session.add(row)
    db.session.flush()
    for recipient in recipients:
        db.session.add(
            Notification(user_id=recipient, kind="broadcast", params={}, broadcast_id=row.id)
        )
    return row


def event_notification(owner: uuid.UUID, resource_id: str, kind: str = ONCE_KINDS[0]) -> None:
    db.session.add(
        Notification(
            user_id=owner,
            kind=kind,
            params={},
            resource_type="complaint",
            resource_id=resource_id,
        )
    )


def test_inbox_not_duplicated_passes_on_whole_broadcasts_and_one_entry_per_event(
    app: Flask, ctx: None
) -> None:
    first, second = user(app), user(app)
    broadcast([first, second])
    event_notification(first, "complaint-1")
    event_notification(first, "complaint-2")
    event_notification(second, "complaint-1")
    check = load_checks.inbox_not_duplicated("inbox", conn(), ONCE_KINDS)
    assert check.passed, check.detail
    assert check.detail == (
        "5 inbox entries: 0 broadcast entries repeated, 0 broadcasts whose entries differ from "
        "their recipient count, 0 notifications repeated"
    )


def test_inbox_not_duplicated_fails_on_a_broadcast_whose_entries_differ_from_its_count(
    app: Flask, ctx: None
) -> None:
    broadcast([user(app), user(app), user(app)], recipients_count=2)
    check = load_checks.inbox_not_duplicated("inbox", conn(), ONCE_KINDS)
    assert not check.passed
    assert "1 broadcasts whose entries differ from their recipient count" in check.detail


def test_inbox_not_duplicated_fails_on_an_event_notification_repeated(
    app: Flask, ctx: None
) -> None:
    owner = user(app)
    event_notification(owner, "complaint-1")
    event_notification(owner, "complaint-1")  # the same change reported twice
    check = load_checks.inbox_not_duplicated("inbox", conn(), ONCE_KINDS)
    assert not check.passed
    assert "1 notifications repeated" in check.detail
    # A kind that may legitimately repeat (not in `once_kinds`) is not held against it.
    assert load_checks.inbox_not_duplicated("inbox", conn(), ()).passed


def test_a_second_inbox_entry_for_one_broadcast_and_user_is_refused_by_the_schema(
    app: Flask, ctx: None
) -> None:
    """The check's "broadcast entries repeated" can never fire: the unique constraint on
    (broadcast_id, user_id) refuses the row first."""
    owner = user(app)
    row = broadcast([owner], recipients_count=2)
    db.session.flush()
    db.session.add(Notification(user_id=owner, kind="broadcast", params={}, broadcast_id=row.id))
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


# -- nothing half written ---------------------------------------------------------------------


def stored_file(upload_dir: Path) -> str:
    key = uuid.uuid4().hex
    (upload_dir / key[:2]).mkdir(parents=True, exist_ok=True)
    (upload_dir / key[:2] / key).write_bytes(b"\x89PNG")
    return key


def photo(of: Complaint, key: str) -> None:
    db.session.add(
        ComplaintPhoto(
            complaint_id=of.id,
            storage_key=key,
            media_type="image/png",
            size_bytes=4,
            sha256="0" * 64,
            uploaded_by_id=of.reporter_id,
        )
    )


def application(applicant: uuid.UUID, *, status: str, submitted: bool) -> PermitApplication:
    permit_type = PermitType(
        code=f"L{serial():06d}",
        name="Izin uji",
        name_en="Test permit",
        issuing_agency_id=uuid.UUID(factories.agency_id(current_app, "DPMPTSP")),
        validity_months=12,
    )
    db.session.add(permit_type)
    db.session.flush()
    row = PermitApplication(
        number=f"IZN-L-{serial():06d}",
        permit_type_id=permit_type.id,
        applicant_id=applicant,
        status=status,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add(
        PermitApplicationEvent(
            application_id=row.id,
            action="create",
            from_status=None,
            to_status="draft",
            actor_kind="applicant",
        )
    )
    if submitted:
        submit_event(row)
    return row


def submit_event(row: PermitApplication) -> None:
    db.session.add(
        PermitApplicationEvent(
            application_id=row.id,
            action="submit",
            from_status="draft",
            to_status="submitted",
            actor_kind="applicant",
        )
    )


def document(of: PermitApplication, key: str) -> None:
    db.session.add(
        PermitDocument(
            application_id=of.id,
            requirement_code="ktp",
            version=1,
            storage_key=key,
            sha256="0" * 64,
            media_type="application/pdf",
            size_bytes=4,
        )
    )


def test_nothing_half_written_passes_when_every_row_has_its_events_and_files(
    app: Flask, ctx: None, tmp_path: Path
) -> None:
    owner = user(app)
    photo(complaint(owner), stored_file(tmp_path))
    document(application(owner, status="submitted", submitted=True), stored_file(tmp_path))
    application(owner, status="draft", submitted=False)
    stored_file(tmp_path)  # an orphan file without a row is harmless
    check = load_checks.nothing_half_written("whole", conn(), tmp_path)
    assert check.passed, check.detail
    assert check.detail == (
        "0 complaints without a timeline, 0 applications past draft without a submission, "
        "0 files missing for stored photos and documents"
    )


def test_nothing_half_written_fails_on_a_complaint_without_events(
    app: Flask, ctx: None, tmp_path: Path
) -> None:
    complaint(user(app), with_event=False)
    check = load_checks.nothing_half_written("whole", conn(), tmp_path)
    assert not check.passed
    assert "1 complaints without a timeline" in check.detail


def test_nothing_half_written_fails_on_an_application_past_draft_without_its_submission(
    app: Flask, ctx: None, tmp_path: Path
) -> None:
    application(user(app), status="submitted", submitted=False)
    check = load_checks.nothing_half_written("whole", conn(), tmp_path)
    assert not check.passed
    assert "1 applications past draft without a submission" in check.detail


def test_nothing_half_written_fails_on_a_photo_whose_file_is_missing(
    app: Flask, ctx: None, tmp_path: Path
) -> None:
    photo(complaint(user(app)), uuid.uuid4().hex)  # the row committed, the file never written
    check = load_checks.nothing_half_written("whole", conn(), tmp_path)
    assert not check.passed
    assert "1 files missing for stored photos and documents" in check.detail


def test_nothing_half_written_fails_on_a_document_whose_file_is_missing(
    app: Flask, ctx: None, tmp_path: Path
) -> None:
    owner = user(app)
    document(application(owner, status="submitted", submitted=True), uuid.uuid4().hex)
    check = load_checks.nothing_half_written("whole", conn(), tmp_path)
    assert not check.passed
    assert "1 files missing for stored photos and documents" in check.detail


# -- permit applications submitted once -------------------------------------------------------


def test_submitted_once_passes_when_each_application_left_draft_with_one_submission(
    app: Flask, ctx: None
) -> None:
    owner = user(app)
    ids = [as_read(application(owner, status="submitted", submitted=True).id) for _ in range(2)]
    check = load_checks.submitted_once("submitted", conn(), ids)
    assert check.passed, check.detail
    assert check.detail == (
        "2 submitted: 0 missing, 0 still drafts, 0 without exactly one submission event"
    )


def test_submitted_once_fails_on_an_application_still_a_draft(app: Flask, ctx: None) -> None:
    row = application(user(app), status="draft", submitted=False)
    check = load_checks.submitted_once("submitted", conn(), [as_read(row.id)])
    assert not check.passed
    assert "1 still drafts, 1 without exactly one submission event" in check.detail


def test_submitted_once_fails_on_an_application_submitted_twice(app: Flask, ctx: None) -> None:
    row = application(user(app), status="submitted", submitted=True)
    submit_event(row)  # a retried submit applied a second time
    check = load_checks.submitted_once("submitted", conn(), [as_read(row.id)])
    assert not check.passed
    assert "0 still drafts, 1 without exactly one submission event" in check.detail


def test_submitted_once_fails_on_an_application_missing(app: Flask, ctx: None) -> None:
    row = application(user(app), status="submitted", submitted=True)
    check = load_checks.submitted_once(
        "submitted", conn(), [as_read(row.id), as_read(uuid.uuid4())]
    )
    assert not check.passed
    assert "2 submitted: 1 missing" in check.detail


# -- what the clients saw ---------------------------------------------------------------------


def attempt(
    status: int | None,
    at: float = 1.0,
    *,
    instance: int = 0,
    elapsed_ms: float = 20.0,
    retry_after: str | None = None,
    endpoint: str = "POST /api/v1/complaints",
) -> Attempt:
    return Attempt(endpoint, instance, status, at, elapsed_ms, retry_after)


OUTAGE = Window("PostgreSQL down", 10.0, 20.0)


def test_a_request_sent_before_the_outage_and_answered_during_it_belongs_to_the_outage() -> None:
    """The connection a request holds dies with PostgreSQL: its 503 is the outage's, although
    the request started a moment before the window; one answered before the window is not."""
    in_flight = attempt(503, 9.5, elapsed_ms=800, retry_after="5")
    answered_before = attempt(503, 9.0, elapsed_ms=500, retry_after="5")
    assert OUTAGE.holds(in_flight)
    assert not OUTAGE.holds(answered_before)
    check = load_checks.no_server_errors("errors", [in_flight], database_outages=[OUTAGE])
    assert check.passed, check.detail
    check = load_checks.no_server_errors("errors", [answered_before], database_outages=[OUTAGE])
    assert not check.passed
    assert "503 POST /api/v1/complaints x1" in check.detail


def test_no_server_errors_passes_on_2xx_4xx_and_503_with_retry_after_during_the_outage() -> None:
    attempts = [attempt(201), attempt(404), attempt(None), attempt(503, 12, retry_after="2")]
    check = load_checks.no_server_errors("errors", attempts, database_outages=[OUTAGE])
    assert check.passed, check.detail
    assert check.detail == (
        "4 answers, 0 server errors (1 answers 503 with Retry-After during the PostgreSQL "
        "restart excused)"
    )


def test_no_server_errors_fails_on_a_500() -> None:
    check = load_checks.no_server_errors("errors", [attempt(201), attempt(500)])
    assert not check.passed
    assert "1 server errors: 500 POST /api/v1/complaints x1" in check.detail


def test_no_server_errors_fails_on_a_503_without_retry_after_even_during_the_outage() -> None:
    check = load_checks.no_server_errors("errors", [attempt(503, 12)], database_outages=[OUTAGE])
    assert not check.passed
    assert "503 POST /api/v1/complaints x1" in check.detail


def test_no_server_errors_fails_on_a_503_with_retry_after_outside_the_outage() -> None:
    check = load_checks.no_server_errors(
        "errors", [attempt(503, 25, retry_after="2")], database_outages=[OUTAGE]
    )
    assert not check.passed
    assert "1 server errors" in check.detail


def test_rate_limit_held_passes_when_exactly_the_limit_got_through() -> None:
    check = load_checks.rate_limit_held(
        "login limit", [401] * 10 + [429] * 10, allowed_low=10, allowed_high=10
    )
    assert check.passed, check.detail
    assert check.detail == "20 attempts: 10 let through (expected 10), 10 got 429"


def test_rate_limit_held_fails_when_twice_the_limit_got_through() -> None:
    """Each instance counting on its own: two instances let the limit through twice."""
    check = load_checks.rate_limit_held(
        "login limit", [401] * 20 + [429] * 10, allowed_low=10, allowed_high=12
    )
    assert not check.passed
    assert "20 let through (expected 10 to 12)" in check.detail


def test_rate_limit_held_fails_on_an_unexpected_answer() -> None:
    check = load_checks.rate_limit_held(
        "login limit", [401] * 9 + [500] + [429] * 10, allowed_low=10, allowed_high=10
    )
    assert not check.passed
    assert "unexpected answers [500]" in check.detail


def test_logout_honoured_passes_when_the_other_instance_refuses_both_tokens() -> None:
    check = load_checks.logout_honoured("logout", LogoutProbe(200, 204, 401, 401))
    assert check.passed, check.detail
    assert check.detail.endswith("access token 401, refresh token 401")


@pytest.mark.parametrize(
    ("probe", "telling"),
    [
        (LogoutProbe(200, 204, 200, 401), "access token 200"),
        (LogoutProbe(200, 204, 401, 200), "refresh token 200"),
        (LogoutProbe(200, 500, 401, 401), "logout on instance 1: 500"),
        (LogoutProbe(401, 204, 401, 401), "before: 401"),
    ],
)
def test_logout_honoured_fails_when_the_logout_is_not_honoured(
    probe: LogoutProbe, telling: str
) -> None:
    check = load_checks.logout_honoured("logout", probe)
    assert not check.passed
    assert telling in check.detail


def test_database_outage_answers_passes_on_fast_503s_with_retry_after() -> None:
    attempts = [
        attempt(503, 11, retry_after="2", elapsed_ms=300),
        attempt(200, 12, endpoint="GET /api/v1/health/facilities"),
        attempt(500, 30),  # after the window: not this check's business
    ]
    check = load_checks.database_outage_answers("outage", attempts, OUTAGE, max_elapsed_ms=1000)
    assert check.passed, check.detail
    assert check.detail == (
        "2 answers while down: 1 answers 503 with Retry-After, 0 other 5xx, 0 unanswered; "
        "slowest 300 ms (bound 1000 ms)"
    )


@pytest.mark.parametrize(
    ("during", "telling"),
    [
        ([attempt(503, 11, retry_after="2"), attempt(500, 12)], "1 other 5xx"),
        ([attempt(503, 11, retry_after="2"), attempt(503, 12)], "1 other 5xx"),
        ([attempt(503, 11, retry_after="2", elapsed_ms=4000)], "slowest 4000 ms"),
        ([attempt(200, 11)], "0 answers 503 with Retry-After"),
    ],
    ids=["a 500", "a 503 without Retry-After", "too slow", "the outage never showed"],
)
def test_database_outage_answers_fails_on_a_wrong_or_slow_answer(
    during: list[Attempt], telling: str
) -> None:
    check = load_checks.database_outage_answers("outage", during, OUTAGE, max_elapsed_ms=1000)
    assert not check.passed
    assert telling in check.detail


def test_recovered_passes_on_a_success_within_the_bound_and_no_errors_after() -> None:
    attempts = [attempt(503, 21, retry_after="1"), attempt(201, 23), attempt(201, 40)]
    check = load_checks.recovered("recovered", attempts, after_s=20, within_s=5)
    assert check.passed, check.detail
    assert check.detail == (
        "first success 3.0 s after the repair (bound 5 s); "
        "0 server errors or unanswered requests from 5 s after it"
    )


@pytest.mark.parametrize(
    ("attempts", "telling"),
    [
        ([attempt(503, 21), attempt(None, 25)], "no successful answer after the repair"),
        ([attempt(503, 21), attempt(201, 35)], "first success 15.0 s after the repair"),
        ([attempt(201, 21), attempt(500, 40)], "1 server errors or unanswered requests"),
        ([attempt(201, 21), attempt(None, 40)], "1 server errors or unanswered requests"),
    ],
    ids=["never", "too late", "errors again", "unanswered again"],
)
def test_recovered_fails_when_the_service_did_not_come_back(
    attempts: list[Attempt], telling: str
) -> None:
    check = load_checks.recovered("recovered", attempts, after_s=20, within_s=5)
    assert not check.passed
    assert telling in check.detail


KILL = Window("instance 1 killed", 10.0, 20.0)


def test_kept_serving_passes_when_the_survivor_answered_throughout() -> None:
    attempts = [
        attempt(201, 12, instance=1),
        attempt(404, 15, instance=1),
        attempt(None, 12, instance=0),  # the killed instance: not this check's business
    ]
    check = load_checks.kept_serving("survivor", attempts, KILL, instance=1)
    assert check.passed, check.detail
    assert check.detail == "instance 2 during 10 s: 1 successes, 0 server errors, 0 unanswered"


@pytest.mark.parametrize(
    ("attempts", "telling"),
    [
        ([attempt(201, 12, instance=1), attempt(502, 13, instance=1)], "1 server errors"),
        ([attempt(201, 12, instance=1), attempt(None, 13, instance=1)], "1 unanswered"),
        ([attempt(201, 12, instance=0)], "0 successes"),
    ],
    ids=["a server error", "an unanswered request", "no success at all"],
)
def test_kept_serving_fails_when_the_survivor_did_not_serve(
    attempts: list[Attempt], telling: str
) -> None:
    check = load_checks.kept_serving("survivor", attempts, KILL, instance=1)
    assert not check.passed
    assert telling in check.detail
