"""The command center's reads: the overview, the overdue list and the complaints wall map.

Every figure comes from the domains' statistics modules (set-based queries); this module scopes
them to the caller's agency, merges the domains, computes the duration percentiles and caches
the heavy results (ops/cache.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints import statistics as complaints_stats
from binjai_api.complaints.states import STATUSES as COMPLAINT_STATUSES
from binjai_api.complaints.states import Channel
from binjai_api.db import utcnow
from binjai_api.deadlines import ItemType, OverdueItem, WaitingOn
from binjai_api.errors import forbidden
from binjai_api.extensions import db
from binjai_api.geo import METERS_PER_DEGREE_LAT, meters_per_degree_lon
from binjai_api.health import statistics as health_stats
from binjai_api.i18n import lazy_gettext
from binjai_api.licensing import statistics as licensing_stats
from binjai_api.ops import figures as step_facts
from binjai_api.ops.cache import cache_key, cached_json
from binjai_api.ops.figures import interpolated_percentile
from binjai_api.ops.models import Escalation
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar.service import LOCAL_TIMEZONE

# Grid cells are squares on the ground at Binjai's latitude (the city spans 0.1°: the error of
# one width for all rows is far below a metre per cell).
BINJAI_LATITUDE = 3.6
PERCENTILES = (0.5, 0.9)


# --- scope and period -----------------------------------------------------------------------------


def agency_scope(principal: Principal, agency_id: uuid.UUID | None) -> uuid.UUID | None:
    """The agency whose figures the caller sees (None: every agency). Officers see their own
    agency only: asking for another is refused."""
    if principal.role in (Role.OPERATOR, Role.ADMIN):
        return agency_id
    if principal.role == Role.OFFICER and principal.agency_id is not None:
        if agency_id is not None and agency_id != principal.agency_id:
            raise forbidden(lazy_gettext("Officers see their own agency's figures only."))
        return principal.agency_id
    raise forbidden(lazy_gettext("Your account is not allowed to do this."))


@dataclass(frozen=True)
class Period:
    """Local dates `first_day`..`last_day` (inclusive), i.e. the instants [start, end)."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)

    @property
    def end(self) -> datetime:
        next_day = self.last_day + timedelta(days=1)
        return datetime.combine(next_day, time(0), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


# --- durations ------------------------------------------------------------------------------------


def duration_percentiles(spans: sa.Select[*tuple[Any, ...]]) -> dict[str, float | None]:
    """Median and 90th percentile in seconds of `spans` (rows of started, ended). PostgreSQL
    computes them in SQL; SQLite has no percentile function, so the seconds are sorted here."""
    if db.engine.dialect.name == "postgresql":
        rows = spans.subquery()
        seconds = sa.cast(sa.extract("epoch", rows.c.ended - rows.c.started), sa.Float)
        query = sa.select(*(sa.func.percentile_cont(p).within_group(seconds) for p in PERCENTILES))
        found: Sequence[Any] = tuple(db.session.execute(query).one())
    else:
        values = sorted(
            (ended - started).total_seconds() for started, ended in db.session.execute(spans)
        )
        found = tuple(interpolated_percentile(values, p) for p in PERCENTILES)
    median, p90 = (round(float(v), 1) if v is not None else None for v in found)
    return {"median": median, "p90": p90}


# --- overview -------------------------------------------------------------------------------------


def _within_deadline(closings: Any) -> dict[str, Any]:
    share = closings.on_time / closings.with_deadline if closings.with_deadline else None
    return {
        "with_deadline": closings.with_deadline,
        "on_time": closings.on_time,
        "share": round(share, 4) if share is not None else None,
    }


def _domain_figures(
    stats: Any, durations: dict[str, Any], period: Period, agency_id: uuid.UUID | None
) -> dict[str, Any]:
    """A domain's figures computed from its histories (the queues' always; the reports' and
    applications' when checked against the step rows)."""
    window = {"start": period.start, "end": period.end, "agency_id": agency_id}
    by_status = stats.status_counts(**window)
    closings = stats.closings(**window)
    return {
        "by_status": by_status,
        "opened": sum(by_status.values()),
        "closed": closings.closed,
        "closed_within_deadline": _within_deadline(closings),
        "durations": {
            name: duration_percentiles(spans(**window)) for name, spans in durations.items()
        },
    }


def _figures_from_steps(
    by_status: dict[str, int],
    steps: dict[tuple[str, str], step_facts.StepFigures],
    domain: str,
    durations: dict[str, str],
) -> dict[str, Any]:
    """A domain's figures with its closings and durations read from the step rows
    (ops/figures.py), the same numbers as _domain_figures."""
    empty = step_facts.StepFigures(0, 0, 0, 0, None, None)
    closing = steps.get((domain, step_facts.CLOSING), empty)
    return {
        "by_status": by_status,
        "opened": sum(by_status.values()),
        "closed": closing.items,
        "closed_within_deadline": _within_deadline(closing),
        "durations": {
            name: {
                "median": steps.get((domain, step), empty).median,
                "p90": steps.get((domain, step), empty).p90,
            }
            for name, step in durations.items()
        },
    }


def _agency_refs() -> dict[uuid.UUID, dict[str, Any]]:
    return {
        agency.id: {"id": agency.id, "code": agency.code, "name": agency.name}
        for agency in db.session.scalars(agencies_service.agencies_query(include_inactive=True))
    }


def overdue_items(
    *, now: datetime, agency_id: uuid.UUID | None = None, item_type: str | None = None
) -> list[OverdueItem]:
    """Every overdue item of the three domains, most overdue first (the domains' own rule of
    what is late; the escalation job reads the same)."""
    sources = {
        ItemType.COMPLAINT: complaints_stats.overdue_items,
        ItemType.PERMIT_APPLICATION: licensing_stats.overdue_items,
        ItemType.QUEUE_SESSION: health_stats.overdue_items,
    }
    items = [
        item
        for kind, source in sources.items()
        if item_type is None or item_type == kind
        for item in source(now=now, agency_id=agency_id)
    ]
    items.sort(key=lambda item: (item.due_at, str(item.item_id)))
    return items


def _overdue_by_agency(
    counts: dict[uuid.UUID | None, int], agencies: dict[uuid.UUID, dict[str, Any]]
) -> list[dict[str, Any]]:
    ranked = sorted(
        counts.items(),
        key=lambda entry: (-entry[1], agencies[entry[0]]["code"] if entry[0] in agencies else ""),
    )
    return [
        {"agency": agencies.get(agency_id) if agency_id else None, "overdue": count}
        for agency_id, count in ranked
    ]


def _with_every(counts: dict[str, int], every: Iterable[str]) -> dict[str, int]:
    """`counts` with every value listed (zeros included)."""
    totals = dict.fromkeys(every, 0)
    for key, count in counts.items():
        totals[key] = totals.get(key, 0) + count
    return totals


def _merged_areas(
    opened: dict[tuple[str | None, str | None], int],
    open_now: Iterable[complaints_stats.OpenCounts],
) -> list[complaints_stats.AreaCounts]:
    """Per kelurahan: reports opened in the period (the day rows) beside those open and
    overdue now, as counts_by_area gives them."""
    live: dict[tuple[str | None, str | None], list[int]] = {}
    for row in open_now:
        counts = live.setdefault((row.kecamatan_code, row.kelurahan_code), [0, 0])
        counts[0] += row.open
        counts[1] += row.overdue
    return [
        complaints_stats.AreaCounts(area[0], area[1], opened.get(area, 0), *live.get(area, [0, 0]))
        for area in {**opened, **live}
    ]


def _complaints_by_area(rows: Iterable[complaints_stats.AreaCounts]) -> list[dict[str, Any]]:
    """Every kecamatan with its kelurahan (zeros included), plus an unknown bucket for reports
    without a kelurahan (or kecamatan)."""
    counts = {(row.kecamatan_code, row.kelurahan_code): row for row in rows}

    def figures(rows: Iterable[Any]) -> dict[str, int]:
        rows = list(rows)
        return {
            "opened": sum(r.opened for r in rows),
            "open": sum(r.open for r in rows),
            "overdue": sum(r.overdue for r in rows),
        }

    known_kelurahan: set[str] = set()
    areas = []
    for kecamatan in regions_service.list_kecamatan():
        kelurahan = []
        for village in kecamatan.kelurahan:
            known_kelurahan.add(village.code)
            row = counts.get((kecamatan.code, village.code))
            kelurahan.append(
                {"code": village.code, "name": village.name, **figures([row] if row else [])}
            )
        unknown = counts.get((kecamatan.code, None))
        if unknown is not None:
            kelurahan.append({"code": None, "name": None, **figures([unknown])})
        mine = [row for (kec, _kel), row in counts.items() if kec == kecamatan.code]
        areas.append(
            {
                "code": kecamatan.code,
                "name": kecamatan.name,
                **figures(mine),
                "kelurahan": kelurahan,
            }
        )
    known_kecamatan = {area["code"] for area in areas}
    elsewhere = [row for (kec, _kel), row in counts.items() if kec not in known_kecamatan]
    if elsewhere:
        areas.append(
            {
                "code": None,
                "name": None,
                **figures(elsewhere),
                "kelurahan": [{"code": None, "name": None, **figures(elsewhere)}],
            }
        )
    return areas


def compute_overview(
    *, period: Period, agency_id: uuid.UUID | None, now: datetime, from_scratch: bool = False
) -> dict[str, Any]:
    """Every figure of the overview, uncached (`from_scratch`: the closings and durations from
    the histories instead of the step rows, the reference the tests hold them to)."""
    agencies = _agency_refs()
    window: dict[str, Any] = {"start": period.start, "end": period.end, "agency_id": agency_id}
    if not from_scratch:
        steps = step_facts.step_figures(**window)
        opened = step_facts.opened_reports(period.first_day, period.last_day, agency_id)
        complaints = _figures_from_steps(
            _with_every(opened.by_status, (str(code) for code in COMPLAINT_STATUSES)),
            steps,
            step_facts.COMPLAINT,
            {"time_to_verify": step_facts.VERIFICATION, "time_to_resolve": step_facts.RESOLUTION},
        )
        complaints["by_channel"] = _with_every(opened.by_channel, (str(c) for c in Channel))
        # Open and overdue now, per area and the overdue per agency: one pass over the open.
        open_now = complaints_stats.open_counts(now=now, agency_id=agency_id)
        areas = _merged_areas(opened.by_area, open_now)
        complaints_overdue: dict[uuid.UUID | None, int] = {}
        for row in open_now:
            if row.overdue:
                complaints_overdue[row.agency_id] = (
                    complaints_overdue.get(row.agency_id, 0) + row.overdue
                )
        applications = _figures_from_steps(
            _with_every(opened.applications_by_status, licensing_stats.COUNTED_STATUSES),
            steps,
            step_facts.APPLICATION,
            {"time_to_verify": step_facts.VERIFICATION, "time_to_issue": step_facts.ISSUANCE},
        )
    else:
        complaints = _domain_figures(
            complaints_stats,
            {
                "time_to_verify": complaints_stats.time_to_verify_spans,
                "time_to_resolve": complaints_stats.time_to_resolve_spans,
            },
            period,
            agency_id,
        )
        applications = _domain_figures(
            licensing_stats,
            {
                "time_to_verify": licensing_stats.time_to_verify_spans,
                "time_to_issue": licensing_stats.time_to_issue_spans,
            },
            period,
            agency_id,
        )
        # How reports reached the city: the app, Open311, or staff filing for residents.
        complaints["by_channel"] = complaints_stats.channel_counts(**window)
        areas = complaints_stats.counts_by_area(**window, now=now)
        complaints_overdue = complaints_stats.overdue_counts(now=now, agency_id=agency_id)
    domains = {
        "complaints": complaints,
        "permit_applications": applications,
        "queue_bookings": _domain_figures(
            health_stats, {"time_to_call": health_stats.time_to_call_spans}, period, agency_id
        ),
    }
    # Counted in the database by the same rules as the overdue list, which builds every item.
    overdue = {
        "complaints": complaints_overdue,  # with the open reports' other figures above
        "permit_applications": licensing_stats.overdue_counts(now=now, agency_id=agency_id),
        "queue_bookings": health_stats.overdue_counts(now=now, agency_id=agency_id),
    }
    for name, figures in domains.items():
        figures["overdue_by_agency"] = _overdue_by_agency(overdue[name], agencies)
    return {
        "generated_at": now,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "agency": agencies.get(agency_id) if agency_id else None,
        **domains,
        "complaints_by_area": _complaints_by_area(areas),
    }


def overview(
    *, period: Period, agency_id: uuid.UUID | None, dump: Any, now: datetime | None = None
) -> Any:
    """The overview as `dump` renders it, reused for OPS_CACHE_SECONDS per period and scope."""
    key = cache_key(
        "overview",
        {"from": period.first_day, "to": period.last_day, "agency_id": agency_id},
    )
    moment = now or utcnow()
    return cached_json(
        key, lambda: dump(compute_overview(period=period, agency_id=agency_id, now=moment))
    )


# --- the overdue list -----------------------------------------------------------------------------


def overdue_list(
    *,
    agency_id: uuid.UUID | None,
    item_type: str | None = None,
    waiting_on: str | None = None,
    now: datetime | None = None,
) -> tuple[list[OverdueItem], datetime]:
    """Overdue items across domains in the caller's scope, most overdue first."""
    moment = now or utcnow()
    items = overdue_items(now=moment, agency_id=agency_id, item_type=item_type)
    if waiting_on is not None:
        items = [item for item in items if item.waiting_on == WaitingOn(waiting_on)]
    return items, moment


def overdue_rows(items: Sequence[OverdueItem], now: datetime) -> list[dict[str, Any]]:
    """Items as the API shows them: with their agency, lateness and latest escalation (two
    queries, whatever the number of items)."""
    escalated: dict[tuple[str, uuid.UUID, datetime], datetime] = {}
    if items:
        query = (
            sa.select(
                Escalation.item_type,
                Escalation.item_id,
                Escalation.deadline,
                sa.func.max(Escalation.escalated_at),
            )
            .where(Escalation.item_id.in_({item.item_id for item in items}))
            .group_by(Escalation.item_type, Escalation.item_id, Escalation.deadline)
        )
        for kind, item_id, deadline, at in db.session.execute(query):
            escalated[(kind, item_id, _as_utc(deadline))] = _as_utc(at)
    agencies = _agency_refs() if items else {}
    return [
        {
            "item_type": item.item_type,
            "item_id": item.item_id,
            "reference": item.reference,
            "title": item.title,
            "agency": agencies.get(item.agency_id) if item.agency_id else None,
            "step": item.step,
            "waiting_on": item.waiting_on,
            "due_at": item.due_at,
            "overdue_seconds": item.lateness_seconds(now),
            "link": item.link,
            "escalated_at": escalated.get((item.item_type, item.item_id, _as_utc(item.due_at))),
        }
        for item in items
    ]


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive UTC from plain columns (Escalation.deadline is one).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the complaints wall map ----------------------------------------------------------------------


def grid_steps(cell_m: int) -> tuple[float, float]:
    """A square cell of `cell_m` metres, in degrees of latitude and longitude."""
    return cell_m / METERS_PER_DEGREE_LAT, cell_m / meters_per_degree_lon(BINJAI_LATITUDE)


def _round(value: float | None, digits: int = 6) -> float | None:
    return round(value, digits) if value is not None else None


def compute_heatmap(
    *,
    filters: complaints_stats.HeatmapFilters,
    by: str,
    cell_m: int,
    now: datetime,
) -> dict[str, Any]:
    """The wall map as an RFC 7946 FeatureCollection, uncached."""
    features: list[dict[str, Any]] = []
    if by == "grid":
        step_lat, step_lon = grid_steps(cell_m)
        cells = complaints_stats.heatmap_grid(
            filters=filters, now=now, step_lat=step_lat, step_lon=step_lon
        )
        for cell in sorted(cells, key=lambda c: c.key):
            row, column = cell.key
            south, west = row * step_lat, column * step_lon
            north, east = south + step_lat, west + step_lon
            ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
            features.append(
                {
                    "type": "Feature",
                    "id": f"{row}:{column}",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[_round(x), _round(y)] for x, y in ring]],
                    },
                    "properties": {
                        "cell": f"{row}:{column}",
                        "center_lat": _round(south + step_lat / 2),
                        "center_lon": _round(west + step_lon / 2),
                        "count": cell.count,
                        "open": cell.open,
                        "overdue": cell.overdue,
                    },
                }
            )
    else:
        names = {
            village.code: (village.name, kecamatan.code, kecamatan.name)
            for kecamatan in regions_service.list_kecamatan()
            for village in kecamatan.kelurahan
        }
        cells = complaints_stats.heatmap_by_kelurahan(filters=filters, now=now)
        for cell in sorted(cells, key=lambda c: (c.key[0] is None, c.key[0] or "")):
            code, kecamatan_code = cell.key
            name, known_kecamatan, kecamatan_name = names.get(code, (None, kecamatan_code, None))
            located = cell.mean_lat is not None and cell.mean_lon is not None
            features.append(
                {
                    "type": "Feature",
                    "id": code,
                    "geometry": (
                        {
                            "type": "Point",
                            "coordinates": [_round(cell.mean_lon), _round(cell.mean_lat)],
                        }
                        if located
                        else None
                    ),
                    "properties": {
                        "kelurahan_code": code,
                        "kelurahan_name": name,
                        "kecamatan_code": known_kecamatan,
                        "kecamatan_name": kecamatan_name,
                        "count": cell.count,
                        "open": cell.open,
                        "overdue": cell.overdue,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def heatmap(
    *,
    period: Period,
    agency_id: uuid.UUID | None,
    by: str,
    cell_m: int,
    status: str | None = None,
    category_id: uuid.UUID | None = None,
    type: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The wall map, reused for OPS_CACHE_SECONDS per parameters and scope."""
    filters = complaints_stats.HeatmapFilters(
        start=period.start,
        end=period.end,
        agency_id=agency_id,
        status=status,
        category_id=category_id,
        type=type,
    )
    params = {**asdict(filters), "by": by, "cell_m": cell_m if by == "grid" else None}
    moment = now or utcnow()
    return dict(
        cached_json(
            cache_key("heatmap", params),
            lambda: compute_heatmap(filters=filters, by=by, cell_m=cell_m, now=moment),
        )
    )


# --- CSV downloads (the rows of OVERVIEW_CSV_COLUMNS, OVERDUE_CSV_COLUMNS, HEATMAP_CSV_COLUMNS) ---


def overview_csv_rows(overview: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The overview flattened for a spreadsheet: one figure per row."""
    for domain in ("complaints", "permit_applications", "queue_bookings"):
        figures = overview[domain]
        for status, count in figures["by_status"].items():
            yield domain, "by_status", status, count
        for channel, count in figures.get("by_channel", {}).items():
            yield domain, "by_channel", channel, count
        yield domain, "opened", "", figures["opened"]
        yield domain, "closed", "", figures["closed"]
        for key, value in figures["closed_within_deadline"].items():
            yield domain, "closed_within_deadline", key, value
        for name, duration in figures["durations"].items():
            yield domain, name, "median", duration["median"]
            yield domain, name, "p90", duration["p90"]
        for row in figures["overdue_by_agency"]:
            agency = row["agency"]["code"] if row["agency"] else ""
            yield domain, "overdue_by_agency", agency, row["overdue"]
    for kecamatan in overview["complaints_by_area"]:
        for area in (kecamatan, *kecamatan["kelurahan"]):
            for figure in ("opened", "open", "overdue"):
                yield "complaints_by_area", figure, area["code"] or "unknown", area[figure]


def overdue_csv_rows(items: Sequence[OverdueItem], now: datetime) -> Iterator[tuple[Any, ...]]:
    """The whole overdue list for a spreadsheet, one item per row."""
    for row in overdue_rows(items, now):
        agency = row["agency"]
        yield (
            row["item_type"],
            row["item_id"],
            row["reference"],
            row["title"],
            agency["code"] if agency else None,
            agency["name"] if agency else None,
            row["step"],
            row["waiting_on"],
            row["due_at"],
            row["overdue_seconds"],
            row["link"],
            row["escalated_at"],
        )


def heatmap_csv_rows(collection: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The wall map for a spreadsheet: one cell or kelurahan per row, with its centre."""
    for feature in collection["features"]:
        props = feature["properties"]
        if "cell" in props:
            lat, lon = props["center_lat"], props["center_lon"]
        elif feature["geometry"] is not None:
            lon, lat = feature["geometry"]["coordinates"]
        else:
            lat = lon = None
        yield (
            feature["id"],
            props.get("kelurahan_code"),
            props.get("kelurahan_name"),
            props.get("kecamatan_code"),
            props.get("kecamatan_name"),
            lat,
            lon,
            props["count"],
            props["open"],
            props["overdue"],
        )
