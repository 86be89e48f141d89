"""The committed spec, read by a tool nobody here wrote: openapi-python-client generates a typed
client without a single warning, and a resident's day runs through that client against the app.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from flask import Flask

from binjai_api.complaints import service as complaints_service
from binjai_api.extensions import db
from binjai_api.health import service as health_service
from tests import factories
from tests.health.conftest import MONDAY, create_facility, wib
from tests.patching import patch_service

pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "openapi" / "python-client-config.yaml"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "binjai_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, str]]:
    """The client package generated from the committed spec, and what the generator printed."""
    out = tmp_path_factory.mktemp("client") / PACKAGE
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            *("--path", str(SPEC), "--config", str(CONFIG)),
            *("--output-path", str(out), "--meta", "none"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module(PACKAGE), run.stdout + run.stderr
    finally:
        sys.path.remove(str(out.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_the_generator_reads_the_spec_without_a_warning(generated: tuple[ModuleType, str]) -> None:
    _package, output = generated
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output


def _api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _models() -> Any:
    return importlib.import_module(f"{PACKAGE}.models")


def test_a_residents_day_through_the_generated_client(
    app: Flask,
    rollback_db: None,
    monkeypatch: pytest.MonkeyPatch,
    generated: tuple[ModuleType, str],
) -> None:
    package, _output = generated
    models = _models()
    patch_service(monkeypatch, health_service, "current_time", lambda: wib(MONDAY, 7, 30))
    with app.app_context():
        complaints_service.seed_categories()
        db.session.commit()
    place = create_facility(app)
    resident = factories.make_account(app, "citizen")
    transport = httpx.WSGITransport(app=app)
    anonymous = package.Client(base_url="http://testserver", httpx_args={"transport": transport})

    # Log in.
    login = _api("auth.log_in").sync_detailed(
        client=anonymous, body=models.Login(username=resident.username, password=resident.password)
    )
    assert login.status_code == 200, login.content
    assert isinstance(login.parsed, models.TokenPair)
    me = package.AuthenticatedClient(
        base_url="http://testserver",
        token=login.parsed.access_token,
        httpx_args={"transport": transport},
    )

    # The complaint categories.
    categories = _api("complaints.list_complaint_categories").sync_detailed(client=anonymous)
    assert categories.status_code == 200, categories.content
    assert categories.parsed and isinstance(categories.parsed[0], models.ComplaintCategory)
    category = categories.parsed[0]

    # Submit a complaint with an Idempotency-Key; the retry replays the same report.
    body = models.ComplaintCreate(
        type_=models.ComplaintType.COMPLAINT,
        category_id=category.id,
        title="Lampu jalan mati di Jl. Sudirman",
        description="Sudah tiga malam lampu jalan di depan masjid tidak menyala.",
        kelurahan_code="12.75.01.1001",
        lat=3.6001,
        lon=98.4853,
    )
    key = uuid.uuid4().hex
    create = _api("complaints.create_complaint")
    submitted = create.sync_detailed(client=me, body=body, idempotency_key=key)
    assert submitted.status_code == 201, submitted.content
    assert isinstance(submitted.parsed, models.Complaint)
    assert submitted.parsed.status == models.ComplaintStatus.SUBMITTED
    replayed = create.sync_detailed(client=me, body=body, idempotency_key=key)
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.parsed.id == submitted.parsed.id

    # My complaints.
    mine = _api("complaints.list_my_complaints").sync_detailed(client=me)
    assert mine.status_code == 200, mine.content
    assert [item.id for item in mine.parsed] == [submitted.parsed.id]
    assert isinstance(mine.parsed[0], models.ComplaintListItem)

    # Facilities near a point.
    near = _api("health.list_facilities").sync_detailed(
        client=anonymous, lat=3.60, lon=98.49, radius_m=2000
    )
    assert near.status_code == 200, near.content
    assert place.facility_id in {str(f.id) for f in near.parsed}

    # Book a queue number.
    booking = _api("health.create_queue_booking").sync_detailed(
        client=me,
        body=models.BookingCreate(
            facility_id=uuid.UUID(place.facility_id),
            service_id=uuid.UUID(place.umum_id),
            date=MONDAY,
        ),
        idempotency_key=uuid.uuid4().hex,
    )
    assert booking.status_code == 201, booking.content
    assert booking.parsed.queue_number == 1

    # My bookings: the list that the first generated client could not read (issue 16).
    bookings = _api("health.list_my_queue_bookings").sync_detailed(client=me)
    assert bookings.status_code == 200, bookings.content
    assert [b.id for b in bookings.parsed] == [booking.parsed.id]
    assert bookings.parsed[0].status == models.BookingStatusEnum.BOOKED

    # Notifications: the booking and the complaint were both announced.
    inbox = _api("notifications.list_my_notifications").sync_detailed(client=me)
    assert inbox.status_code == 200, inbox.content
    kinds = {notification.kind for notification in inbox.parsed}
    assert models.NotificationKind.QUEUE_BOOKED in kinds

    # An error answers a typed problem.
    missing = _api("complaints.get_complaint").sync_detailed(complaint_id=uuid.uuid4(), client=me)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem) and missing.parsed.code == "not_found"
