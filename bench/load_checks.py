"""The checks that the cluster load test (bench/cluster_load.py) runs after the load.

Each check reads what the clients saw (their attempts and the ids the API gave them) and what the
database holds, and returns a `Check` with a pass or fail and the figures behind it. They are
plain functions over a SQLAlchemy connection, so tests/platform/test_load_checks.py can break each
property on purpose in a real database and see the check fail.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SUCCESS = range(200, 300)


def _id(value: object) -> str:
    """One spelling of a UUID: the API's and PostgreSQL's dashed form (SQLite stores 32 hex
    digits). Other values (a NIK, a token) are returned as they are."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a load client. `status` is None when no answer came back (connection
    refused or reset, or the client's timeout)."""

    endpoint: str
    instance: int
    status: int | None
    started_s: float  # since the start of the run
    elapsed_ms: float
    retry_after: str | None = None


@dataclass(frozen=True)
class Window:
    """A span of the run, in seconds since its start."""

    label: str
    start_s: float
    end_s: float

    def holds(self, attempt: Attempt) -> bool:
        """The attempt was under way at some moment of the window: one sent just before a fault
        and answered during it belongs to the fault."""
        ended_s = attempt.started_s + attempt.elapsed_ms / 1000
        return attempt.started_s <= self.end_s and ended_s >= self.start_s


# -- what the clients saw ---------------------------------------------------------------------


def no_server_errors(
    name: str, attempts: Iterable[Attempt], *, database_outages: Collection[Window] = ()
) -> Check:
    """No 5xx at all, except 503 with `Retry-After` while PostgreSQL was down (a documented,
    bounded answer); a 503 without `Retry-After`, or a 500, fails anywhere."""
    seen = 0
    excused = 0
    errors: Counter[str] = Counter()
    for attempt in attempts:
        seen += 1
        if attempt.status is None or attempt.status < 500:
            continue
        in_outage = any(window.holds(attempt) for window in database_outages)
        if attempt.status == 503 and attempt.retry_after and in_outage:
            excused += 1
            continue
        errors[f"{attempt.status} {attempt.endpoint}"] += 1
    detail = f"{seen} answers, {sum(errors.values())} server errors"
    if excused:
        detail += f" ({excused} answers 503 with Retry-After during the PostgreSQL restart excused)"
    if errors:
        detail += ": " + ", ".join(f"{what} x{n}" for what, n in errors.most_common(5))
    return Check(name, not errors, detail)


def rate_limit_held(
    name: str, statuses: list[int], *, allowed_low: int, allowed_high: int
) -> Check:
    """Of a burst of attempts spread over the instances, between `allowed_low` and
    `allowed_high` were let through (not 429), and every other one got 429."""
    allowed = sum(1 for status in statuses if status != 429)
    limited = len(statuses) - allowed
    unexpected = [s for s in statuses if s not in (401, 429)]
    passed = allowed_low <= allowed <= allowed_high and not unexpected
    bound = str(allowed_low) if allowed_low == allowed_high else f"{allowed_low} to {allowed_high}"
    detail = (
        f"{len(statuses)} attempts: {allowed} let through (expected {bound}), {limited} got 429"
    )
    if unexpected:
        detail += f", unexpected answers {sorted(set(unexpected))}"
    return Check(name, passed, detail)


@dataclass(frozen=True)
class LogoutProbe:
    """Statuses seen by instance B for an account logged out on instance A."""

    before_logout: int  # B's answer to the access token before the logout (200 expected)
    logout: int  # A's answer to the logout (204 expected)
    access_after: int  # B's answer to the same access token right after (401 expected)
    refresh_after: int  # B's answer to the session's refresh token right after (401 expected)


def logout_honoured(name: str, probe: LogoutProbe) -> Check:
    passed = (
        probe.before_logout == 200
        and probe.logout in SUCCESS
        and probe.access_after == 401
        and probe.refresh_after == 401
    )
    detail = (
        f"before: {probe.before_logout}, logout on instance 1: {probe.logout}, then on instance 2:"
        f" access token {probe.access_after}, refresh token {probe.refresh_after}"
    )
    return Check(name, passed, detail)


def kept_serving(name: str, attempts: Iterable[Attempt], window: Window, instance: int) -> Check:
    """While `window` lasted, `instance` answered, and answered without server errors."""
    during = [a for a in attempts if a.instance == instance and window.holds(a)]
    answered = [a for a in during if a.status is not None]
    ok = [a for a in answered if a.status in SUCCESS]
    errors = [a for a in answered if a.status is not None and a.status >= 500]
    passed = bool(ok) and not errors and len(answered) == len(during)
    detail = (
        f"instance {instance + 1} during {window.end_s - window.start_s:.0f} s: {len(ok)} "
        f"successes, {len(errors)} server errors, {len(during) - len(answered)} unanswered"
    )
    return Check(name, passed, detail)


def database_outage_answers(
    name: str, attempts: Iterable[Attempt], window: Window, *, max_elapsed_ms: float
) -> Check:
    """While PostgreSQL was down: only 2xx/4xx or 503 with Retry-After, each within the bound."""
    attempts = list(attempts)
    unanswered = [a for a in attempts if window.holds(a) and a.status is None]
    during = [a for a in attempts if window.holds(a) and a.status is not None]
    bad = [
        a
        for a in during
        if a.status is not None and a.status >= 500 and not (a.status == 503 and a.retry_after)
    ]
    slow = [a for a in during if a.elapsed_ms > max_elapsed_ms]
    unavailable = sum(1 for a in during if a.status == 503 and a.retry_after)
    slowest = max((a.elapsed_ms for a in [*during, *unanswered]), default=0.0)
    # The instances stay up while the database is down: every request must get an answer.
    passed = unavailable > 0 and not bad and not slow and not unanswered
    detail = (
        f"{len(during)} answers while down: {unavailable} answers 503 with Retry-After, "
        f"{len(bad)} other 5xx, {len(unanswered)} unanswered; slowest {slowest:.0f} ms "
        f"(bound {max_elapsed_ms:.0f} ms)"
    )
    return Check(name, passed, detail)


def recovered(name: str, attempts: Iterable[Attempt], after_s: float, within_s: float) -> Check:
    """After `after_s` the service answered successfully again, within `within_s`, by itself."""
    later = sorted((a for a in attempts if a.started_s >= after_s), key=lambda a: a.started_s)
    first_ok = next((a for a in later if a.status in SUCCESS), None)
    if first_ok is None:
        return Check(name, False, "no successful answer after the repair")
    took = first_ok.started_s - after_s
    tail = [a for a in later if a.started_s >= first_ok.started_s + 5]
    tail_errors = sum(1 for a in tail if a.status is None or a.status >= 500)
    passed = took <= within_s and tail_errors == 0
    detail = (
        f"first success {took:.1f} s after the repair (bound {within_s:.0f} s); "
        f"{tail_errors} server errors or unanswered requests from 5 s after it"
    )
    return Check(name, passed, detail)


# -- what the database holds ------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """Submissions of one kind: the ids the API answered with, and how many requests never got a
    definite answer (the client gave up; they may or may not have been stored)."""

    ids: frozenset[str]
    unanswered: int = 0


# The rows of each kind of submission, with the account that owns each: (id, owner id).
SUBMISSION_QUERIES: Mapping[str, str] = {
    # Accounts are owned by the NIK they were registered with: a second account for one
    # registration would show as a row no client was told about.
    "accounts": "SELECT id, nik FROM users",
    "devices": "SELECT id, user_id FROM devices",
    "complaints": "SELECT id, reporter_id FROM complaints",
    "complaint photos": "SELECT id, uploaded_by_id FROM complaint_photos",
    "queue bookings": "SELECT id, account_id FROM health_queue_bookings",
    "permit applications": "SELECT id, applicant_id FROM permit_applications",
    "permit documents": (
        "SELECT d.id, a.applicant_id FROM permit_documents d "
        "JOIN permit_applications a ON a.id = d.application_id"
    ),
}


def stored_ids(conn: sa.Connection, kind: str, owner_ids: Collection[str]) -> list[str]:
    """Ids of the rows of `kind` owned by the load users."""
    owners = {_id(o) for o in owner_ids}
    rows = conn.execute(sa.text(SUBMISSION_QUERIES[kind]))
    return [_id(row[0]) for row in rows if _id(row[1]) in owners]


def stored_exactly_once(name: str, accepted: Accepted, stored: list[str]) -> Check:
    """Every accepted submission is in the database once: none lost, none stored twice. A row
    the clients were never told about is a duplicate (a retry stored again), unless a request
    went unanswered and could account for it."""
    stored_set = {_id(i) for i in stored}
    accepted_ids = {_id(i) for i in accepted.ids}
    repeated = len(stored) - len(stored_set)
    missing = accepted_ids - stored_set
    extra = stored_set - accepted_ids
    passed = not missing and not repeated and len(extra) <= accepted.unanswered
    detail = (
        f"{len(accepted_ids)} accepted, {len(stored_set)} stored: {len(missing)} lost, "
        f"{len(extra)} not acknowledged to a client ({accepted.unanswered} requests unanswered)"
    )
    return Check(name, passed, detail)


def submitted_once(name: str, conn: sa.Connection, application_ids: Collection[str]) -> Check:
    """Each application the clients submitted has left the draft status and has exactly one
    submission in its timeline."""
    ids = {_id(i) for i in application_ids}
    rows = conn.execute(
        sa.text(
            "SELECT a.id, a.status, "
            "(SELECT count(*) FROM permit_application_events e "
            " WHERE e.application_id = a.id AND e.action = 'submit') "
            "FROM permit_applications a"
        )
    ).all()
    state = {_id(r[0]): (r[1], int(r[2])) for r in rows if _id(r[0]) in ids}
    missing = ids - state.keys()
    drafts = [i for i, (status, _) in state.items() if status == "draft"]
    not_once = [i for i, (_, submissions) in state.items() if submissions != 1]
    passed = not missing and not drafts and not not_once
    detail = (
        f"{len(ids)} submitted: {len(missing)} missing, {len(drafts)} still drafts, "
        f"{len(not_once)} without exactly one submission event"
    )
    return Check(name, passed, detail)


def no_overbooked_session(name: str, conn: sa.Connection) -> Check:
    """No session holds more online bookings than its quota, every counter matches its
    bookings, and no queue number is handed out twice on a day."""
    days = conn.execute(
        sa.text(
            "SELECT d.id, d.online_booked, d.last_number, s.online_quota, "
            " (SELECT count(*) FROM health_queue_bookings b WHERE b.queue_day_id = d.id "
            "  AND b.source = 'online' AND b.status <> 'cancelled'), "
            " (SELECT count(*) FROM health_queue_bookings b WHERE b.queue_day_id = d.id), "
            " (SELECT count(DISTINCT b.queue_number) FROM health_queue_bookings b "
            "  WHERE b.queue_day_id = d.id), "
            " (SELECT coalesce(max(b.queue_number), 0) FROM health_queue_bookings b "
            "  WHERE b.queue_day_id = d.id) "
            "FROM health_queue_days d JOIN health_queue_sessions s ON s.id = d.session_id"
        )
    ).all()
    over = counter_off = numbers_repeated = full = 0
    bookings = 0
    for _, booked, last_number, quota, online, total, distinct, highest in days:
        bookings += total
        over += online > quota
        full += online == quota
        counter_off += booked != online or highest > last_number
        numbers_repeated += distinct != total
    passed = not over and not counter_off and not numbers_repeated
    detail = (
        f"{len(days)} sessions, {bookings} bookings, {full} sessions full: {over} over quota, "
        f"{counter_off} counters off, {numbers_repeated} with a queue number given twice"
    )
    return Check(name, passed, detail)


def notifications_delivered_once(
    name: str,
    conn: sa.Connection,
    fcm_received: Mapping[tuple[str, str], int],
    *,
    at_least_once: Collection[str] = (),
) -> Check:
    """Every push in the outbox was sent, and FCM received each (notification, device) exactly
    once; `at_least_once` lists the deliveries of a worker killed mid-batch, which FCM may have
    received before the worker could record it (delivered at least once, at most twice: the app
    de-duplicates on `notification_id`). A push FCM received that is not in the outbox fails."""
    rows = conn.execute(
        sa.text(
            "SELECT d.id, d.notification_id, v.token, d.status FROM notification_deliveries d "
            "LEFT JOIN devices v ON v.id = d.device_id"
        )
    ).all()
    excused = {_id(i) for i in at_least_once}
    received_by_key = {(_id(n), t): count for (n, t), count in fcm_received.items()}
    statuses: Counter[str] = Counter()
    never = twice_excused = wrong = 0
    expected: Counter[tuple[str, str]] = Counter()
    for delivery_id, notification_id, token, status in rows:
        statuses[status] += 1
        key = (_id(notification_id), str(token))
        expected[key] += 1
        received = received_by_key.get(key, 0)
        if received == 0:
            never += 1
        elif received == 2 and _id(delivery_id) in excused:
            twice_excused += 1
        elif received != 1:
            wrong += 1
    queued_twice = sum(1 for n in expected.values() if n > 1)
    unknown = sum(n for key, n in received_by_key.items() if key not in expected)
    unsent = sum(n for status, n in statuses.items() if status != "sent")
    passed = not never and not wrong and not unknown and not unsent and not queued_twice
    detail = (
        f"{len(rows)} pushes ({', '.join(f'{s} {n}' for s, n in sorted(statuses.items()))}): "
        f"{never} never received, {wrong} received more than once, {unknown} received but not in "
        f"the outbox, {queued_twice} queued twice for one device"
    )
    if excused:
        detail += f"; {twice_excused} of the killed worker's {len(excused)} received twice"
    return Check(name, passed, detail)


def inbox_not_duplicated(name: str, conn: sa.Connection, once_kinds: Collection[str]) -> Check:
    """Each broadcast is in each recipient's inbox once, and has as many inbox entries as it
    counts recipients; a notification of a kind in `once_kinds` (sent once per resource) is in
    the inbox once per recipient and resource."""
    broadcast_repeats = conn.execute(
        sa.text(
            "SELECT count(*) FROM (SELECT broadcast_id, user_id FROM notifications "
            "WHERE broadcast_id IS NOT NULL GROUP BY broadcast_id, user_id "
            "HAVING count(*) > 1) AS repeated"
        )
    ).scalar_one()
    miscounted = conn.execute(
        sa.text(
            "SELECT count(*) FROM broadcasts b WHERE b.recipients_count <> "
            "(SELECT count(*) FROM notifications n WHERE n.broadcast_id = b.id)"
        )
    ).scalar_one()
    kinds = sorted(once_kinds)
    event_repeats = 0
    if kinds:
        event_repeats = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT user_id, kind, resource_id FROM notifications "
                "WHERE broadcast_id IS NULL AND kind IN :kinds "
                "GROUP BY user_id, kind, resource_id HAVING count(*) > 1) AS repeated"
            ).bindparams(sa.bindparam("kinds", expanding=True)),
            {"kinds": kinds},
        ).scalar_one()
    inbox = conn.execute(sa.text("SELECT count(*) FROM notifications")).scalar_one()
    passed = not broadcast_repeats and not miscounted and not event_repeats
    detail = (
        f"{inbox} inbox entries: {broadcast_repeats} broadcast entries repeated, {miscounted} "
        f"broadcasts whose entries differ from their recipient count, {event_repeats} "
        f"notifications repeated"
    )
    return Check(name, passed, detail)


def nothing_half_written(name: str, conn: sa.Connection, upload_dir: Path) -> Check:
    """Every complaint has its submission in its timeline, every application past draft its
    submission event, every stored photo and document its file: what a killed process leaves
    behind is a whole transaction or nothing (an orphan file without a row is harmless)."""
    counts = {
        "complaints without a timeline": (
            "SELECT count(*) FROM complaints c WHERE NOT EXISTS "
            "(SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id)"
        ),
        "applications past draft without a submission": (
            "SELECT count(*) FROM permit_applications a WHERE a.status <> 'draft' AND NOT EXISTS "
            "(SELECT 1 FROM permit_application_events e WHERE e.application_id = a.id "
            " AND e.action = 'submit')"
        ),
    }
    found = {label: int(conn.execute(sa.text(sql)).scalar_one()) for label, sql in counts.items()}
    keys = conn.execute(
        sa.text(
            "SELECT storage_key FROM complaint_photos "
            "UNION ALL SELECT storage_key FROM permit_documents"
        )
    ).scalars()
    found["files missing for stored photos and documents"] = sum(
        1 for key in keys if not (upload_dir / key[:2] / key).is_file()
    )
    passed = not any(found.values())
    detail = ", ".join(f"{n} {label}" for label, n in found.items())
    return Check(name, passed, detail)
