"""FHIR search: the parameters each resource type takes, their checks (a wrong or unknown one is
a 400 OperationOutcome, as a strict server answers), and the searchset Bundle with its paging
links and total."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from binjai_api.errors import Problem
from binjai_api.fhir import identifiers as ids
from binjai_api.i18n import gettext

DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_PAGE = 10_000
MAX_VALUE_LENGTH = 200
MAX_NEAR_KM = 50.0
DEFAULT_NEAR_KM = 5.0
# Parameters every search takes; FHIR's result parameters beyond these are not supported.
COMMON = ("_count", "_page", "_format")
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def invalid(detail: str) -> Problem:
    """A search the server cannot run as asked: 400, an OperationOutcome `invalid`."""
    return Problem(400, "invalid_search", detail)


@dataclass(frozen=True)
class Search:
    """The checked parameters of one search (`values[name]`: the raw values of a parameter,
    possibly with a modifier `name:contains`)."""

    values: Mapping[str, list[str]]
    count: int
    page: int

    def one(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None


def parse(args: MultiDict[str, str], allowed: Sequence[str]) -> Search:
    """Check the query against the parameters a resource type supports."""
    values: dict[str, list[str]] = {}
    for key in args:
        name, _, modifier = key.partition(":")
        if name not in allowed and name not in COMMON:
            raise invalid(
                gettext(
                    "Unknown search parameter %(name)s; supported: %(supported)s.",
                    name=name,
                    supported=", ".join([*allowed, *COMMON]),
                )
            )
        if modifier and (name != "name" or modifier not in ("contains", "exact")):
            raise invalid(
                gettext("The modifier :%(modifier)s is not supported.", modifier=modifier)
            )
        entries = args.getlist(key)
        if name in COMMON and len(entries) > 1:
            raise invalid(gettext("%(name)s may be given once.", name=name))
        for entry in entries:
            if len(entry) > MAX_VALUE_LENGTH or not entry.strip():
                raise invalid(
                    gettext(
                        "%(name)s needs a value of at most %(max)s characters.",
                        name=name,
                        max=MAX_VALUE_LENGTH,
                    )
                )
        values[key] = entries
    fmt = values.get("_format", [None])[0]
    if fmt is not None and fmt not in ("json", "application/fhir+json", "application/json"):
        raise Problem(
            406, "not_acceptable", gettext("Only JSON (application/fhir+json) is served.")
        )
    return Search(
        values=values,
        count=_bounded_int(values, "_count", DEFAULT_COUNT, MAX_COUNT),
        page=_bounded_int(values, "_page", 1, MAX_PAGE),
    )


def _bounded_int(values: Mapping[str, list[str]], name: str, default: int, maximum: int) -> int:
    raw = values.get(name, [None])[0]
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise invalid(
            gettext("%(name)s must be a whole number from 1 to %(max)s.", name=name, max=maximum)
        )
    return int(raw)


# --- parameter types ---------------------------------------------------------------------------


def string_matcher(search: Search, name: str = "name") -> Callable[[str], bool] | None:
    """FHIR string search: case-insensitive starts-with; `:contains` anywhere, `:exact` equal.
    Several values of one parameter must all match (AND); commas within one are OR."""
    tests: list[Callable[[str], bool]] = []
    for key, entries in search.values.items():
        base, _, modifier = key.partition(":")
        if base != name:
            continue
        for entry in entries:
            options = [v.strip() for v in entry.split(",") if v.strip()]
            tests.append(_string_test(options, modifier))
    if not tests:
        return None
    return lambda text: all(test(text) for test in tests)


def _string_test(options: list[str], modifier: str) -> Callable[[str], bool]:
    if modifier == "exact":
        return lambda text: text in options
    lowered = [o.casefold() for o in options]
    if modifier == "contains":
        return lambda text: any(o in text.casefold() for o in lowered)
    return lambda text: any(text.casefold().startswith(o) for o in lowered)


def tokens(search: Search, name: str) -> list[tuple[str | None, str]] | None:
    """`[system|]code` values, commas being OR; None when the parameter is absent."""
    entry = search.one(name)
    if entry is None:
        return None
    found: list[tuple[str | None, str]] = []
    for part in entry.split(","):
        system, bar, code = part.partition("|")
        found.append((system or None, code) if bar else (None, system))
    return found


def reference_id(search: Search, name: str, resource_type: str) -> str | None:
    """The id in `<resource_type>/<id>`, a bare `<id>` or its absolute URL; None when absent."""
    entry = search.one(name)
    if entry is None:
        return None
    value = entry.rsplit(f"{resource_type}/", 1)[-1] if "/" in entry else entry
    if "/" in value or not FHIR_ID.match(value):
        raise invalid(gettext("%(name)s must reference a %(type)s.", name=name, type=resource_type))
    return value


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_m: int


def near(search: Search) -> Near | None:
    """`near=latitude|longitude|distance|units` (units `km`, the default, or `m`)."""
    entry = search.one("near")
    if entry is None:
        return None
    parts = entry.split("|")
    problem = invalid(
        gettext(
            "near must be latitude|longitude|distance|units, e.g. 3.6|98.49|2|km, within "
            "%(max)s km.",
            max=int(MAX_NEAR_KM),
        )
    )
    if len(parts) > 4:
        raise problem
    try:
        lat, lon = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else DEFAULT_NEAR_KM
    except (ValueError, IndexError):
        raise problem from None
    units = parts[3] if len(parts) > 3 and parts[3] else "km"
    if units not in ("km", "m"):
        raise problem
    km = distance / 1000 if units == "m" else distance
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < km <= MAX_NEAR_KM):
        raise problem
    return Near(lat, lon, max(round(km * 1000), 1))


def date_bounds(search: Search, name: str) -> tuple[date | None, date | None]:
    """Dates of `name=[prefix]YYYY-MM-DD[...]` values (eq, ge, gt, le, lt), as inclusive bounds."""
    lower: date | None = None
    upper: date | None = None
    for entry in search.values.get(name, []):
        prefix = entry[:2] if entry[:2] in DATE_PREFIXES else "eq"
        raw = entry[2:] if entry[:2] in DATE_PREFIXES else entry
        try:
            day = (
                datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
                if "T" in raw
                else date.fromisoformat(raw)
            )
        except ValueError:
            raise invalid(
                gettext("%(name)s must be a date such as ge2026-12-01.", name=name)
            ) from None
        if prefix == "gt":
            prefix, day = "ge", day + timedelta(days=1)
        if prefix == "lt":
            prefix, day = "le", day - timedelta(days=1)
        if prefix in ("eq", "ge"):
            lower = max(lower, day) if lower else day
        if prefix in ("eq", "le"):
            upper = min(upper, day) if upper else day
    return lower, upper


# --- the Bundle --------------------------------------------------------------------------------


def searchset(
    resource_type: str, matches: Sequence[dict[str, Any]], search: Search
) -> dict[str, Any]:
    """One page of matches as a Bundle `searchset`, with `total` and self/first/previous/next/
    last links (absolute, from PUBLIC_BASE_URL)."""
    total = len(matches)
    last_page = max((total + search.count - 1) // search.count, 1)
    start = (search.page - 1) * search.count
    page = matches[start : start + search.count]

    def link(relation: str, page_number: int) -> dict[str, str]:
        query = [
            (key, value)
            for key, entries in search.values.items()
            if key not in ("_page", "_count")
            for value in entries
        ]
        query += [("_count", str(search.count)), ("_page", str(page_number))]
        return {
            "relation": relation,
            "url": f"{ids.resource_url(resource_type)}?{urlencode(query)}",
        }

    links = [link("self", search.page), link("first", 1)]
    if search.page > 1:
        links.append(link("previous", min(search.page - 1, last_page)))
    if search.page < last_page:
        links.append(link("next", search.page + 1))
    links.append(link("last", last_page))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if page:
        bundle["entry"] = [
            {
                "fullUrl": ids.resource_url(f"{resource['resourceType']}/{resource['id']}"),
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in page
        ]
    return bundle
