"""Area alerts: following areas, the pushes and inbox entries for public reports filed or
resolved there, the daily cap and digest, mute rules, privacy, and the worker's job."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import cli
from binjai_api.area_alerts.models import AreaAlertEvent
from binjai_api.extensions import db
from binjai_api.notifications.models import Delivery, Notification
from tests.area_alerts.conftest import (
    KECAMATAN,
    KELURAHAN,
    OTHER_KELURAHAN,
    AlertClock,
    area_kinds,
    inbox,
)
from tests.complaints.conftest import Person, make_person
from tests.complaints.helpers import act, submit
from tests.notifications.helpers import count, register_device
from tests.platform.test_errors import assert_problem

SUBSCRIPTIONS = "/api/v1/me/area-subscriptions"
Run = Callable[[], Any]


def follow(client: FlaskClient, who: Person, area_type: str, code: str, **extra: Any) -> Any:
    return client.post(
        SUBSCRIPTIONS,
        headers=who.headers,
        json={"area_type": area_type, "area_code": code, **extra},
    )


def test_a_resident_follows_lists_and_unfollows_areas(
    client: FlaskClient, categories: dict[str, str], resident: Person, other_resident: Person
) -> None:
    created = follow(client, resident, "kelurahan", KELURAHAN, category_codes=["waste", "drainage"])
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["area_code"] == KELURAHAN and body["category_codes"] == ["drainage", "waste"]
    assert follow(client, resident, "kecamatan", KECAMATAN).status_code == 201
    listed = client.get(SUBSCRIPTIONS, headers=resident.headers).get_json()
    assert [s["area_type"] for s in listed] == ["kelurahan", "kecamatan"]
    assert client.get(SUBSCRIPTIONS, headers=other_resident.headers).get_json() == []

    assert_problem(follow(client, resident, "kelurahan", KELURAHAN), 409, "already_following")
    assert_problem(follow(client, resident, "kelurahan", "12.75.09.1999"), 422, "validation_error")
    assert_problem(follow(client, resident, "kecamatan", "12.75.09"), 422, "validation_error")
    assert_problem(
        follow(client, resident, "kelurahan", OTHER_KELURAHAN, category_codes=["nope"]),
        422,
        "validation_error",
    )
    assert_problem(follow(client, resident, "kelurahan", "Binjai"), 422, "validation_error")
    theirs = f"{SUBSCRIPTIONS}/{body['id']}"
    assert_problem(client.delete(theirs, headers=other_resident.headers), 404, "not_found")
    assert client.delete(theirs, headers=resident.headers).status_code == 204
    assert len(client.get(SUBSCRIPTIONS, headers=resident.headers).get_json()) == 1


def test_following_is_idempotent_and_only_for_residents(
    client: FlaskClient, categories: dict[str, str], resident: Person, operator: Person
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"area_type": "kelurahan", "area_code": KELURAHAN}
    first = client.post(SUBSCRIPTIONS, headers={**resident.headers, **key}, json=body)
    again = client.post(SUBSCRIPTIONS, headers={**resident.headers, **key}, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert_problem(follow(client, operator, "kelurahan", KELURAHAN), 403, "forbidden")


def test_a_limit_on_areas_per_resident(
    client: FlaskClient, categories: dict[str, str], resident: Person, monkeypatch: Any
) -> None:
    from binjai_api.area_alerts import service

    monkeypatch.setattr(service, "MAX_AREAS_PER_RESIDENT", 1)
    assert follow(client, resident, "kelurahan", KELURAHAN).status_code == 201
    assert_problem(follow(client, resident, "kecamatan", KECAMATAN), 409, "too_many_areas")


def test_followers_hear_of_a_public_report_filed_in_their_area(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
) -> None:
    by_kecamatan = make_person(app, client)
    waste_only = make_person(app, client)
    elsewhere = make_person(app, client)
    follow(client, resident, "kelurahan", KELURAHAN)
    follow(client, by_kecamatan, "kecamatan", KECAMATAN)
    follow(client, waste_only, "kelurahan", KELURAHAN, category_codes=["waste"])
    follow(client, elsewhere, "kelurahan", OTHER_KELURAHAN)
    follow(client, other_resident, "kelurahan", KELURAHAN)  # the reporter follows it too

    filed = submit(client, other_resident.headers, categories["road_damage"])
    # Nothing in the request itself: the worker fans it out.
    assert area_kinds(app, resident.id) == []
    report = run_alerts()
    assert report.events == 1 and report.pushed == 2
    entry = next(n for n in inbox(app, resident.id) if n["kind"] == "area_report_filed")
    assert entry["resource_type"] == "complaints" and entry["resource_id"] == filed["id"]
    assert entry["params"]["tracking_number"] == filed["tracking_number"]
    assert entry["params"]["category@en"] == "Damaged road / pothole"
    assert area_kinds(app, by_kecamatan.id) == ["area_report_filed"]
    assert area_kinds(app, waste_only.id) == []  # another category
    assert area_kinds(app, elsewhere.id) == []
    assert area_kinds(app, other_resident.id) == []  # never of one's own report
    assert run_alerts().events == 0  # told once


def test_the_notification_reads_in_each_language(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
) -> None:
    from binjai_api.notifications import kinds

    follow(client, resident, "kelurahan", KELURAHAN)
    submit(client, other_resident.headers, categories["road_damage"], title="Lubang di Jl. Gatot")
    run_alerts()
    params = inbox(app, resident.id)[-1]["params"]
    with app.app_context():
        title_id, body_id = kinds.render("area_report_filed", params, "id")
        title_en, body_en = kinds.render("area_report_filed", params, "en")
    assert title_en.startswith("New report in ") and "Damaged road" in body_en
    assert "Jalan rusak" in body_id and "Lubang di Jl. Gatot" in body_id
    assert title_id != title_en


def test_confidential_reports_tell_nobody_and_anonymous_ones_only_the_public_view(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
) -> None:
    follow(client, resident, "kelurahan", KELURAHAN)
    submit(client, other_resident.headers, categories["waste"], privacy="confidential")
    run_alerts()
    assert area_kinds(app, resident.id) == []
    anonymous = submit(client, other_resident.headers, categories["waste"], privacy="anonymous")
    run_alerts()
    [entry] = [n for n in inbox(app, resident.id) if n["kind"].startswith("area_")]
    assert entry["resource_id"] == anonymous["id"]
    assert set(entry["params"]) == {
        "area",
        "tracking_number",
        "title",
        "category",
        "category@id",
        "category@en",
    }
    public = client.get(f"/api/v1/public/complaints/{anonymous['id']}").get_json()
    assert entry["params"]["title"] == public["title"]
    assert entry["params"]["tracking_number"] == public["tracking_number"]


def test_followers_hear_when_a_report_there_is_resolved(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    operator: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
) -> None:
    filed = submit(client, other_resident.headers, categories["waste"])
    follow(client, resident, "kecamatan", KECAMATAN)
    assert act(client, operator.headers, filed["id"], "dispatch").status_code == 200
    run_alerts()
    before = area_kinds(app, resident.id)
    resolved = act(client, operator.headers, filed["id"], "resolve", note="Sudah diangkut")
    assert resolved.status_code == 200, resolved.get_json()
    run_alerts()
    assert area_kinds(app, resident.id) == [*before, "area_report_resolved"]


def test_beyond_the_daily_cap_the_rest_waits_for_one_digest(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "AREA_ALERTS_DAILY_LIMIT", 2)
    follow(client, resident, "kelurahan", KELURAHAN)
    filed = [
        submit(client, other_resident.headers, categories["waste"], title=f"Sampah {n}")
        for n in range(5)
    ]
    report = run_alerts()
    assert report.pushed == 2 and report.held == 3 and report.digests == 0
    assert area_kinds(app, resident.id) == ["area_report_filed", "area_report_filed"]
    alert_clock.now += timedelta(hours=2)  # the same local day: still no digest
    assert run_alerts().digests == 0

    alert_clock.now += timedelta(days=1)  # the next morning
    assert run_alerts().digests == 1
    digest = inbox(app, resident.id)[-1]
    assert digest["kind"] == "area_digest" and digest["resource_type"] is None
    assert digest["params"]["filed"] == "3" and digest["params"]["resolved"] == "0"
    assert digest["params"]["day@id"] == "2 Desember 2026"
    assert digest["params"]["day@en"] == "2 December 2026"
    for held in filed[2:]:
        assert held["tracking_number"] in digest["params"]["reports"]
    assert run_alerts().digests == 0  # one digest, once
    # A new day, a new allowance.
    submit(client, other_resident.headers, categories["waste"])
    run_alerts()
    assert area_kinds(app, resident.id)[-1] == "area_report_filed"


def test_a_muted_kind_lands_in_the_inbox_without_a_push(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
) -> None:
    register_device(app, resident.id, "area-alert-test-device-token-0001")
    follow(client, resident, "kelurahan", KELURAHAN)
    submit(client, other_resident.headers, categories["waste"])
    run_alerts()
    pushes = sa.select(Notification.id).where(Notification.kind == "area_report_filed")
    assert count(app, Delivery, Delivery.notification_id.in_(pushes)) == 1
    muted = client.put(
        "/api/v1/me/notification-preferences",
        headers=resident.headers,
        json={"muted_kinds": ["area_report_filed"], "topics": []},
    )
    assert muted.status_code == 200, muted.get_json()
    submit(client, other_resident.headers, categories["waste"])
    run_alerts()
    assert area_kinds(app, resident.id) == ["area_report_filed", "area_report_filed"]
    assert count(app, Delivery, Delivery.notification_id.in_(pushes)) == 1


def test_a_fan_out_repeated_after_a_crash_tells_nobody_twice(
    app: Flask,
    client: FlaskClient,
    categories: dict[str, str],
    resident: Person,
    other_resident: Person,
    alert_clock: AlertClock,
    run_alerts: Run,
) -> None:
    follow(client, resident, "kelurahan", KELURAHAN)
    submit(client, other_resident.headers, categories["waste"])
    run_alerts()
    with app.app_context():  # as if the worker died after telling, before marking the event
        db.session.execute(sa.update(AreaAlertEvent).values(fanned_out_at=None))
        db.session.commit()
    assert run_alerts().events == 1
    assert area_kinds(app, resident.id) == ["area_report_filed"]


def test_the_outbox_worker_runs_the_area_alert_job(app: Flask) -> None:
    with app.app_context():
        names = [job.name for job in cli._worker_jobs()]
    assert "area-alerts" in names
