"""Demo SKM answers, so that the IKM and the public performance page mean something right after
`make run`: this month and the two before, for several services of several agencies (one with
fewer than 5 answers, to show the privacy threshold). Loaded once: a second seed adds nothing.

The invitations behind them belong to the demo resident and are marked answered; the answers, as
always, name no one.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.quality.models import SurveyAnswer, SurveyInvitation
from binjai_api.quality.scoring import ELEMENTS
from binjai_api.quality.service import INVITATION_VALID_DAYS, period_of

DEMO_NAMESPACE = uuid.UUID("0b9a3c55-7d1e-4c4e-9a61-5f2f1e7c9d20")
MONTHS = 3


@dataclass(frozen=True)
class DemoService:
    kind: str
    key: str
    agency_code: str
    name: str
    name_en: str
    answers_per_month: int
    # How residents lean: the chance of a 4 and of a 2 (else 3), per element in order.
    good: tuple[float, ...]
    poor: tuple[float, ...]


_EVEN = (0.3,) * len(ELEMENTS)

SERVICES = (
    DemoService(
        "complaint",
        "road_damage",
        "PUPR",
        "Jalan rusak / berlubang",
        "Damaged road / pothole",
        9,
        _EVEN,
        (0.1, 0.1, 0.35, 0.0, 0.15, 0.1, 0.05, 0.3, 0.2),
    ),
    DemoService(
        "complaint",
        "waste",
        "DLH",
        "Sampah",
        "Waste collection",
        7,
        (0.55,) * len(ELEMENTS),
        (0.05,) * len(ELEMENTS),
    ),
    DemoService(
        "complaint",
        "street_light",
        "PERKIM",
        "Lampu penerangan jalan umum",
        "Street lights",
        6,
        (0.1,) * len(ELEMENTS),
        (0.45,) * len(ELEMENTS),
    ),
    DemoService(
        "permit",
        "SIP",
        "DPMPTSP",
        "Surat Izin Praktik Tenaga Kesehatan",
        "Practice permit for health workers",
        8,
        (0.5, 0.4, 0.3, 0.9, 0.5, 0.5, 0.6, 0.3, 0.4),
        (0.05,) * len(ELEMENTS),
    ),
    DemoService(
        "permit",
        "PBG",
        "DPMPTSP",
        "Persetujuan Bangunan Gedung",
        "Building approval (PBG)",
        5,
        _EVEN,
        (0.3, 0.35, 0.5, 0.2, 0.2, 0.1, 0.1, 0.3, 0.2),
    ),
    # Fewer than 5 a month: the page and the report show its counts only.
    DemoService(
        "complaint",
        "traffic",
        "DISHUB",
        "Lalu lintas dan rambu",
        "Traffic and signs",
        3,
        _EVEN,
        _EVEN,
    ),
)


def _score(rng: random.Random, good: float, poor: float) -> int:
    draw = rng.random()
    if draw < good:
        return 4
    if draw < good + poor:
        return 2
    return 3


def seed_demo_answers(*, resident_id: uuid.UUID | None) -> int:
    """Demo invitations (answered) and their anonymous answers; 0 if loaded before or there is
    no demo resident."""
    if resident_id is None:
        return 0
    first = uuid.uuid5(DEMO_NAMESPACE, "0")
    if db.session.scalar(
        sa.select(SurveyInvitation.id).where(SurveyInvitation.service_id == first)
    ):
        return 0
    now = utcnow()
    added = 0
    rng = random.Random(14_2017)  # the same demo every time
    for months_back in range(MONTHS):
        ended_at = now - timedelta(days=30 * months_back)
        period = period_of(ended_at)
        for service in SERVICES:
            agency = agencies_service.find_agency_by_code(service.agency_code)
            for _ in range(service.answers_per_month):
                service_id = uuid.uuid5(DEMO_NAMESPACE, str(added))
                db.session.add(
                    SurveyInvitation(
                        user_id=resident_id,
                        service_kind=service.kind,
                        service_id=service_id,
                        agency_id=agency.id if agency else None,
                        service_key=service.key,
                        service_name=service.name,
                        service_name_en=service.name_en,
                        reference=f"DEMO-{added + 1:04d}",
                        period=period,
                        created_at=ended_at,
                        expires_at=ended_at + timedelta(days=INVITATION_VALID_DAYS),
                        answered=True,
                    )
                )
                scores = {
                    f"u{element.number}": _score(rng, good, poor)
                    for element, good, poor in zip(
                        ELEMENTS, service.good, service.poor, strict=True
                    )
                }
                db.session.add(
                    SurveyAnswer(
                        agency_id=agency.id if agency else None,
                        service_kind=service.kind,
                        service_key=service.key,
                        service_name=service.name,
                        service_name_en=service.name_en,
                        period=period,
                        suggestion=None,
                        **scores,
                    )
                )
                added += 1
    db.session.commit()
    return added
