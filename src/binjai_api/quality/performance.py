"""The public performance page: per month, for the whole city, per agency and per kecamatan.

What SP4N-LAPOR! and Jakarta publish, from the domains' statistics functions only: reports
received and the share followed up within the deadline, the median time to resolve, "is it
fixed?" answers, permits issued within their service level, queue waiting times and the IKM with
its grade. Aggregates only: no report, no person. Cached like the command center's figures
(ops/cache.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from binjai_api.agencies import service as agencies_service
from binjai_api.complaints import statistics as complaints_stats
from binjai_api.db import utcnow
from binjai_api.errors import field_errors
from binjai_api.extensions import db
from binjai_api.health import statistics as health_stats
from binjai_api.i18n import gettext
from binjai_api.licensing import statistics as licensing_stats
from binjai_api.ops import service as ops_service
from binjai_api.ops.cache import cache_key, cached_json
from binjai_api.quality import fix_checks, ikm
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar.service import LOCAL_TIMEZONE, local_date


def current_month() -> str:
    return local_date(utcnow()).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The instants [start, end) of a local (WIB) month "YYYY-MM"."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)

    def instant(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)

    return instant(first), instant(following)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(spans: Any, unit_seconds: int) -> float | None:
    median = ops_service.duration_percentiles(spans)["median"]
    return round(median / unit_seconds, 1) if median is not None else None


def _complaints(
    start: datetime,
    end: datetime,
    now: datetime,
    agency_id: uuid.UUID | None,
    kecamatan: str | None,
) -> dict[str, Any]:
    window: dict[str, Any] = {
        "start": start,
        "end": end,
        "agency_id": agency_id,
        "kecamatan_code": kecamatan,
    }
    follow = complaints_stats.follow_ups(now=now, **window)
    figures: dict[str, Any] = {
        "received": follow.received,
        "followed_up_judged": follow.judged,
        "followed_up_on_time": follow.on_time,
        "followed_up_on_time_share": _share(follow.on_time, follow.judged),
        "median_hours_to_resolve": _median(complaints_stats.resolve_spans(**window), 3600),
        "fix_checks": None,
    }
    if kecamatan is None:
        checks = fix_checks.counts(start=start, end=end, agency_id=agency_id)
        figures["fix_checks"] = {
            "asked": checks.asked,
            "fixed": checks.fixed,
            "not_fixed": checks.not_fixed,
            "unanswered": checks.unanswered,
        }
    return figures


def _figures(
    month: str,
    now: datetime,
    agency_id: uuid.UUID | None,
    kecamatan: str | None,
    language: str,
    satisfaction: ikm.Tally,
) -> dict[str, Any]:
    start, end = month_bounds(month)
    window: dict[str, Any] = {"start": start, "end": end, "agency_id": agency_id}
    issued = licensing_stats.issuances(**window)
    queue = health_stats.closings(**window)
    return {
        "complaints": _complaints(start, end, now, agency_id, kecamatan),
        "permits": {
            "issued": issued.issued,
            "with_sla": issued.with_deadline,
            "within_sla": issued.on_time,
            "within_sla_share": _share(issued.on_time, issued.with_deadline),
        },
        "queues": {
            "served": queue.with_deadline,
            "median_minutes_waiting": _median(health_stats.time_to_call_spans(**window), 60),
        },
        "ikm": ikm.figures(satisfaction, language),
    }


def _has_activity(figures: dict[str, Any]) -> bool:
    return bool(
        figures["complaints"]["received"]
        or figures["permits"]["issued"]
        or figures["queues"]["served"]
        or figures["ikm"]["answers"]
    )


def _agency_ref(agency: Any, language: str) -> dict[str, Any]:
    name = agency.name_en if language == "en" and agency.name_en else agency.name
    return {"id": str(agency.id), "code": agency.code, "name": name}


def compute(
    *, month: str, agency_id: uuid.UUID | None, kecamatan: str | None, language: str
) -> dict[str, Any]:
    """The page's figures, uncached: the scope's summary, then each agency with any activity in
    the month, then each kecamatan's reports."""
    now = utcnow()
    agency = agencies_service.find_agency(agency_id) if agency_id else None
    area = regions_service.find_kecamatan(kecamatan) if kecamatan else None
    if agency_id is not None and agency is None:
        raise field_errors({"agency_id": [gettext("No agency with this id.")]}, location="query")
    if kecamatan is not None and area is None:
        raise field_errors(
            {"kecamatan": [gettext("No kecamatan with this code.")]}, location="query"
        )
    city, per_agency = ikm.agency_tallies(period=month)
    agencies = []
    if agency_id is None:
        for candidate in db.session.scalars(agencies_service.agencies_query()):
            satisfaction = per_agency.get(candidate.id, ikm.Tally())
            figures = _figures(month, now, candidate.id, kecamatan, language, satisfaction)
            if _has_activity(figures):
                agencies.append({"agency": _agency_ref(candidate, language), **figures})
    # The city's IKM minus the agencies shown must not reveal an agency below the threshold;
    # answers about agencies not listed (inactive, or deleted since) count as withheld.
    listed = {uuid.UUID(row["agency"]["id"]) for row in agencies}
    unlisted = [
        {"answers": tally.answers, "suppressed": True}
        for key, tally in per_agency.items()
        if key not in listed and tally.answers
    ]
    if agency_id is None:
        ikm.protect_by_difference([row["ikm"] for row in agencies] + unlisted)
    start, end = month_bounds(month)
    areas = [
        {
            "kecamatan": {"code": row.code, "name": row.name},
            "complaints": _complaints(start, end, now, agency_id, row.code),
        }
        for row in regions_service.list_kecamatan()
        if kecamatan is None or row.code == kecamatan
    ]
    return {
        "month": month,
        "agency": _agency_ref(agency, language) if agency else None,
        "kecamatan": {"code": area.code, "name": area.name} if area else None,
        "summary": _figures(
            month,
            now,
            agency_id,
            kecamatan,
            language,
            per_agency.get(agency_id, ikm.Tally()) if agency_id else city,
        ),
        "agencies": agencies,
        "kecamatan_figures": areas,
        "computed_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def public_performance(
    *, month: str, agency_id: uuid.UUID | None, kecamatan: str | None, language: str
) -> dict[str, Any]:
    """The page's figures, shared for OPS_CACHE_SECONDS per parameters and language."""
    params = {"month": month, "agency_id": agency_id, "kecamatan": kecamatan, "lang": language}
    return dict(
        cached_json(
            cache_key("public-performance", params),
            lambda: compute(
                month=month, agency_id=agency_id, kecamatan=kecamatan, language=language
            ),
        )
    )
