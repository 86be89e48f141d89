"""One cheap serialisation pass for the hot lists (public feed, facility search).

marshmallow dumps a field through several layers of generic calls (accessor, missing checks,
validation of the output type), about 8 µs a field: a page of 20 reports with their photos is
600 fields, more than the rest of the request. `FastDump` makes a schema's `dump` a plan compiled
once per schema instance: for each field, one converter of the value it holds (text, number,
UUID, RFC 3339 time, nested objects, lists). Any field the plan does not know exactly (methods,
functions, computed or custom fields, dump defaults, dotted attributes) is dumped by marshmallow
itself, and a schema with dump hooks is dumped by marshmallow entirely: the output is the same
as `ma.Schema.dump`'s, which tests/platform/test_fastdump.py checks.

The schema still documents the response in the spec; only its `dump` is faster. A service that
reads plain rows may also write its items in their JSON form in the same pass (`Dumped`): the
schema then passes them through as they are, and the service's tests check them against
marshmallow's dump of the same objects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import marshmallow as ma

from binjai_api.schemas import UTCDateTime

_MISSING = ma.missing
Dumper = Callable[[Any], dict[str, Any]]
_PLAN_ATTRIBUTE = "_binjai_fast_plan"


def _text(value: Any) -> Any:
    return value if type(value) is str else str(value)


def rfc3339_utc(value: datetime) -> str:
    """A timestamp as `UTCDateTime` writes it (a naive one is taken as UTC): ISO 8601 to the
    microsecond with `Z`, which `isoformat` writes a fraction of strftime's cost."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value.year < 1000:  # strftime's %Y does not pad these; isoformat would
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def _date(value: date) -> str:
    return value.isoformat()


def _bool(value: Any) -> Any:
    return value if type(value) is bool else _FALLBACK


_FALLBACK = object()  # a converter's answer for "let marshmallow do this one"


def _converter(field: ma.fields.Field) -> Callable[[Any], Any] | None:
    """The exact converter of a field's (not None) value, or None when marshmallow must dump it."""
    kind = type(field)
    if kind is ma.fields.String:
        return _text
    if kind is ma.fields.UUID:
        return _text  # marshmallow writes a UUID, or a string as given, with str()
    if kind is ma.fields.Integer and not field.as_string:  # type: ignore[attr-defined]
        return int
    if kind is ma.fields.Float and not field.as_string:  # type: ignore[attr-defined]
        return float
    if kind is ma.fields.Boolean:
        return _bool
    if kind is UTCDateTime:
        return rfc3339_utc
    if kind is ma.fields.Date and field.format in (None, "iso"):  # type: ignore[attr-defined]
        return _date
    if kind is ma.fields.Time and field.format not in (None, "iso"):  # type: ignore[attr-defined]
        time_format = field.format  # type: ignore[attr-defined]
        return lambda value: value.strftime(time_format)
    if kind is ma.fields.Nested:
        nested = field.schema  # type: ignore[attr-defined]
        dump = compiled_dumper(nested)
        if dump is None:
            return None
        if field.many or nested.many:  # type: ignore[attr-defined]
            return lambda values: [dump(v) for v in values]
        return dump
    if kind is ma.fields.List:
        inner = _converter(field.inner)  # type: ignore[attr-defined]
        if inner is None or inner is _bool:
            return None
        return lambda values: [None if v is None else inner(v) for v in values]
    return None


def compiled_dumper(schema: ma.Schema) -> Dumper | None:
    """A function dumping one object as `schema.dump` would, or None when the schema has dump
    hooks (then only marshmallow can)."""
    cached = schema.__dict__.get(_PLAN_ATTRIBUTE)
    if cached is not None:
        return cached or None
    if schema._hooks.get("pre_dump") or schema._hooks.get("post_dump"):
        schema.__dict__[_PLAN_ATTRIBUTE] = False
        return None
    plan: list[tuple[str, str, Callable[[Any], Any] | None, ma.fields.Field]] = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute or name
        exact = field.dump_default is _MISSING and "." not in attribute
        converter = _converter(field) if exact else None
        plan.append((field.data_key or name, attribute, converter, field))

    def dump(obj: Any) -> dict[str, Any]:
        is_dict = isinstance(obj, dict)
        out: dict[str, Any] = {}
        for key, attribute, converter, field in plan:
            if converter is None:
                value = field.serialize(attribute, obj, accessor=schema.get_attribute)
                if value is not _MISSING:
                    out[key] = value
                continue
            value = obj.get(attribute, _MISSING) if is_dict else getattr(obj, attribute, _MISSING)
            if value is _MISSING:
                continue
            if value is None:
                out[key] = None
                continue
            converted = converter(value)
            if converted is _FALLBACK:
                converted = field.serialize(attribute, obj, accessor=schema.get_attribute)
            out[key] = converted
        return out

    schema.__dict__[_PLAN_ATTRIBUTE] = dump
    return dump


class Dumped(dict[str, Any]):
    """An item already in the JSON form its schema documents, written by the service that read
    it in the same pass (the feed, facility search): `FastDump` passes it through."""


class FastDump(ma.Schema):
    """A schema whose `dump` runs its compiled plan (same output as marshmallow's), and passes
    `Dumped` items through."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        dumper = compiled_dumper(self)
        if dumper is None:
            dumper = partial(super().dump, many=False)
        if self.many if many is None else many:
            return [item if type(item) is Dumped else dumper(item) for item in obj]
        return obj if type(obj) is Dumped else dumper(obj)
