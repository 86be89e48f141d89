"""The IKM (Indeks Kepuasan Masyarakat) from the SKM answers: per agency, per service and for
the whole scope, over a month or a year.

Every figure is an aggregate. A group of fewer than PRIVACY_THRESHOLD answers shows its counts
only: no element averages, no index, no grade.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.extensions import db
from binjai_api.quality.models import SurveyAnswer, SurveyInvitation
from binjai_api.quality.scoring import (
    ELEMENTS,
    PRIVACY_THRESHOLD,
    grade,
    ikm,
    minimum_sample,
    rounded,
)

_SCORES = tuple(getattr(SurveyAnswer, f"u{element.number}") for element in ELEMENTS)


@dataclass
class Tally:
    """Answers and score sums of one group, and the population it was drawn from (the services
    that ended for residents in the period, i.e. the invitations sent)."""

    answers: int = 0
    sums: list[int] = field(default_factory=lambda: [0] * len(ELEMENTS))
    population: int = 0

    def add(self, other: Tally) -> None:
        self.answers += other.answers
        self.population += other.population
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]


def figures(tally: Tally, language: str = "id") -> dict[str, Any]:
    """The published figures of a group: NRR per element, IKM and grade, sample against the
    Krejcie-Morgan minimum; the breakdown withheld below the privacy threshold."""
    needed = minimum_sample(tally.population)
    result: dict[str, Any] = {
        "answers": tally.answers,
        "population": tally.population,
        "minimum_sample": needed,
        "sample_sufficient": tally.population > 0 and tally.answers >= needed,
        "suppressed": tally.answers < PRIVACY_THRESHOLD,
        "elements": None,
        "ikm": None,
        "grade": None,
    }
    if result["suppressed"]:
        return result
    nrr = {
        element.code: total / tally.answers
        for element, total in zip(ELEMENTS, tally.sums, strict=True)
    }
    value = ikm(nrr)
    band = grade(value)
    result.update(
        elements=[
            {
                "code": element.code,
                "number": element.number,
                "name": element.name.get(language),
                "nrr": rounded(nrr[element.code], 3),
            }
            for element in ELEMENTS
        ],
        ikm=rounded(value),
        grade={"letter": band.letter, "label": band.label.get(language)},
    )
    return result


def _withhold(group: dict[str, Any]) -> None:
    group.update(suppressed=True, elements=None, ikm=None, grade=None)


def protect_by_difference(children: Sequence[dict[str, Any]]) -> bool:
    """Secondary suppression: a parent's figures minus those of its shown children must not
    reveal a group of fewer than PRIVACY_THRESHOLD answers. When the withheld children hold 1 to
    4 answers between them, the smallest shown children are withheld too until they hold at
    least PRIVACY_THRESHOLD (or none is shown). Returns whether it withheld any."""
    withheld = sum(child["answers"] for child in children if child["suppressed"])
    shown = sorted(
        (child for child in children if not child["suppressed"]), key=lambda c: c["answers"]
    )
    changed = False
    while 0 < withheld < PRIVACY_THRESHOLD and shown:
        child = shown.pop(0)
        _withhold(child)
        withheld += child["answers"]
        changed = True
    return changed


def protect_report(rows: Sequence[dict[str, Any]]) -> None:
    """No group below the threshold can be found by subtraction anywhere in a report: an
    agency minus its shown services, the total minus the shown agencies, the total minus every
    shown service. An agency withheld this way withholds its services too. Repeated until
    nothing more is withheld."""
    changed = True
    while changed:
        changed = False
        for row in rows:
            changed |= protect_by_difference(row["services"])
        if protect_by_difference(rows):
            changed = True
        for row in rows:
            if row["suppressed"]:
                for service in row["services"]:
                    if not service["suppressed"]:
                        _withhold(service)
                        changed = True
        changed |= protect_by_difference([s for row in rows for s in row["services"]])


def _months(period: str) -> tuple[str, str]:
    """A period "YYYY" or "YYYY-MM" as its first and last month."""
    if len(period) == 4:
        return f"{period}-01", f"{period}-12"
    return period, period


def _in_period(column: Any, period: str) -> sa.ColumnElement[bool]:
    first, last = _months(period)
    return sa.and_(column >= first, column <= last)


@dataclass(frozen=True)
class ServiceKey:
    agency_id: uuid.UUID | None
    service_kind: str
    service_key: str


def tallies(
    *, period: str, agency_id: uuid.UUID | None = None, service_kind: str | None = None
) -> dict[ServiceKey, tuple[Tally, str, str]]:
    """Per service (agency, kind, key): its tally and its names (Indonesian, English), summed
    in the database."""
    answers = sa.select(
        SurveyAnswer.agency_id,
        SurveyAnswer.service_kind,
        SurveyAnswer.service_key,
        sa.func.max(SurveyAnswer.service_name),
        sa.func.max(SurveyAnswer.service_name_en),
        sa.func.count(),
        *(sa.func.sum(score) for score in _SCORES),
    ).where(_in_period(SurveyAnswer.period, period))
    invitations = sa.select(
        SurveyInvitation.agency_id,
        SurveyInvitation.service_kind,
        SurveyInvitation.service_key,
        sa.func.max(SurveyInvitation.service_name),
        sa.func.max(SurveyInvitation.service_name_en),
        sa.func.count(),
    ).where(_in_period(SurveyInvitation.period, period))
    if agency_id is not None:
        answers = answers.where(SurveyAnswer.agency_id == agency_id)
        invitations = invitations.where(SurveyInvitation.agency_id == agency_id)
    if service_kind is not None:
        answers = answers.where(SurveyAnswer.service_kind == service_kind)
        invitations = invitations.where(SurveyInvitation.service_kind == service_kind)
    groups: dict[ServiceKey, tuple[Tally, str, str]] = {}
    group_by = ("agency_id", "service_kind", "service_key")
    for row in db.session.execute(
        invitations.group_by(*(getattr(SurveyInvitation, name) for name in group_by))
    ):
        key = ServiceKey(row[0], row[1], row[2])
        groups[key] = (Tally(population=int(row[5])), row[3], row[4])
    for row in db.session.execute(
        answers.group_by(*(getattr(SurveyAnswer, name) for name in group_by))
    ):
        key = ServiceKey(row[0], row[1], row[2])
        tally, name, name_en = groups.get(key, (Tally(), row[3], row[4]))
        tally.answers = int(row[5])
        tally.sums = [int(total or 0) for total in list(row)[6:]]
        groups[key] = (tally, name, name_en)
    return groups


def report(
    *,
    period: str,
    agency_id: uuid.UUID | None = None,
    service_kind: str | None = None,
    language: str = "id",
) -> dict[str, Any]:
    """The IKM of the scope (every agency, or one) for the period, then per agency and per
    service, agencies by code and services by kind and name."""
    groups = tallies(period=period, agency_id=agency_id, service_kind=service_kind)
    agencies = {
        agency.id: agency
        for agency in db.session.scalars(agencies_service.agencies_query(include_inactive=True))
    }
    total = Tally()
    per_agency: dict[uuid.UUID | None, tuple[Tally, list[dict[str, Any]]]] = {}
    ordered = sorted(groups.items(), key=lambda item: (item[0].service_kind, item[1][1]))
    for key, (tally, name, name_en) in ordered:
        total.add(tally)
        agency_tally, services = per_agency.setdefault(key.agency_id, (Tally(), []))
        agency_tally.add(tally)
        services.append(
            {
                "service_kind": key.service_kind,
                "service_key": key.service_key,
                "service_name": name_en if language == "en" else name,
                **figures(tally, language),
            }
        )

    def agency_ref(agency_key: uuid.UUID | None) -> dict[str, Any] | None:
        agency = agencies.get(agency_key) if agency_key else None
        if agency is None:
            return None
        return {
            "id": agency.id,
            "code": agency.code,
            "name": agency.name_en if language == "en" and agency.name_en else agency.name,
        }

    rows = [
        {"agency": agency_ref(key), **figures(tally, language), "services": services}
        for key, (tally, services) in per_agency.items()
    ]
    protect_report(rows)
    rows.sort(key=lambda row: row["agency"]["code"] if row["agency"] else "~")
    return {"period": period, "total": figures(total, language), "agencies": rows}


def agency_tallies(*, period: str) -> tuple[Tally, dict[uuid.UUID | None, Tally]]:
    """The whole city's tally for a period and each agency's, from one pass over the period's
    answers (the public page asks for every agency at once)."""
    total = Tally()
    per_agency: dict[uuid.UUID | None, Tally] = {}
    for key, (tally, _name, _name_en) in tallies(period=period).items():
        total.add(tally)
        per_agency.setdefault(key.agency_id, Tally()).add(tally)
    return total, per_agency


CSV_COLUMNS: tuple[str, ...] = (
    "period",
    "level",
    "agency_code",
    "service_kind",
    "service_key",
    "service_name",
    "answers",
    "population",
    "minimum_sample",
    "suppressed",
    *(f"nrr_u{element.number}" for element in ELEMENTS),
    "ikm",
    "grade",
)


def _csv_row(
    period: str,
    level: str,
    agency: dict[str, Any] | None,
    service: dict[str, Any] | None,
    data: dict[str, Any],
) -> list[Any]:
    nrr: Sequence[Any] = (
        [element["nrr"] for element in data["elements"]]
        if data["elements"]
        else [None] * len(ELEMENTS)
    )
    return [
        period,
        level,
        agency["code"] if agency else None,
        service["service_kind"] if service else None,
        service["service_key"] if service else None,
        service["service_name"] if service else None,
        data["answers"],
        data["population"],
        data["minimum_sample"],
        data["suppressed"],
        *nrr,
        data["ikm"],
        data["grade"]["letter"] if data["grade"] else None,
    ]


def csv_rows(result: dict[str, Any]) -> Iterator[list[Any]]:
    """The report as rows: the total, then each agency followed by its services."""
    period = result["period"]
    yield _csv_row(period, "total", None, None, result["total"])
    for row in result["agencies"]:
        yield _csv_row(period, "agency", row["agency"], None, row)
        for service in row["services"]:
            yield _csv_row(period, "service", row["agency"], service, service)


def rows_of(result: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every group of a report, for checks that walk them all."""
    yield result["total"]
    for row in result["agencies"]:
        yield row
        yield from row["services"]
