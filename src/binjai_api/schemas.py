"""Schema building blocks shared by every domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import marshmallow as ma

# A NIK (national ID) as every domain's forms check it (auth.validation.nik_problem).
NIK_PATTERN = "^[0-9]{16}$"
NIK_DESCRIPTION = (
    "NIK (national ID), 16 ASCII digits: region (6, of a real province), birth date DDMMYY "
    "(women add 40 to the day; a past date), serial (4, not 0000)."
)


class UTCDateTime(ma.fields.AwareDateTime):
    """RFC 3339 in UTC with `Z` (CONVENTIONS), to the microsecond, e.g.
    `2026-11-27T03:00:00.250000Z`: a client that syncs with `updated_after=<newest seen>` then
    gets exactly what changed after it."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        return parsed.astimezone(UTC)


class StrictSchema(ma.Schema):
    """Input schema that refuses unknown fields (422), so a client cannot set what it may not."""

    class Meta:
        unknown = ma.RAISE


class UpdatedAfterQueryArgsSchema(ma.Schema):
    """`updated_after` for incremental offline sync (CONVENTIONS: lists)."""

    updated_after = UTCDateTime(
        metadata={"description": "Only items changed after this instant (RFC 3339, UTC)."}
    )


def enum_field(values: type[StrEnum] | tuple[str, ...], **kwargs: Any) -> ma.fields.String:
    """A lower snake_case enumeration, listed in the spec (CONVENTIONS: representation)."""
    choices = [str(v.value) for v in values] if isinstance(values, type) else list(values)
    if isinstance(values, type):
        # The spec's one component for these values is named after the enumeration.
        name = f"{values.__module__}.{values.__qualname__}"
        kwargs["metadata"] = {"x-enum-name": name, **kwargs.get("metadata", {})}
    return ma.fields.String(validate=ma.validate.OneOf(choices), **kwargs)


class ComputedNested(ma.fields.Nested):
    """A nested object computed from the whole item, documented by its schema."""

    def __init__(self, nested: Any, *, compute: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(nested, dump_only=True, **kwargs)
        self._compute = compute

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return self._serialize(self._compute(obj), attr, obj, **kwargs)
