"""FastDump (fastdump.py): the hot lists' one cheap serialisation pass answers exactly what
marshmallow would, field for field."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest

from binjai_api.complaints.schemas import PublicComplaintSchema
from binjai_api.fastdump import FastDump, compiled_dumper
from binjai_api.health.schemas import FacilitySummarySchema
from binjai_api.schemas import UTCDateTime

AWARE = datetime(2026, 11, 27, 3, 0, 0, 250000, tzinfo=UTC)
NAIVE = datetime(2026, 11, 27, 10, 0)


def marshmallow_dump(schema: ma.Schema, obj: Any) -> Any:
    """What plain marshmallow answers for the same schema instance."""
    return ma.Schema.dump(schema, obj)


class Inner(ma.Schema):
    id = ma.fields.UUID()
    at = UTCDateTime(allow_none=True)


class Everything(FastDump):
    text = ma.fields.String()
    number = ma.fields.Integer(allow_none=True)
    ratio = ma.fields.Float()
    flag = ma.fields.Boolean()
    id = ma.fields.UUID()
    when = UTCDateTime()
    naive = UTCDateTime()
    day = ma.fields.Date()
    clock = ma.fields.Time(format="%H:%M")
    one = ma.fields.Nested(Inner, allow_none=True)
    many = ma.fields.List(ma.fields.Nested(Inner))
    nested_many = ma.fields.Nested(Inner, many=True)
    words = ma.fields.List(ma.fields.String())
    renamed = ma.fields.String(data_key="shown_as", attribute="stored_as")
    dotted = ma.fields.String(attribute="one.id")
    defaulted = ma.fields.String(dump_default="nothing")
    computed = ma.fields.Method("_computed")
    secret = ma.fields.String(load_only=True)

    def _computed(self, obj: Any) -> str:
        return "computed"


def _item(**overrides: Any) -> dict[str, Any]:
    inner = {"id": uuid.uuid4(), "at": NAIVE}
    item: dict[str, Any] = {
        "text": 42,  # not a str: converted like marshmallow does
        "number": "7",
        "ratio": 1,
        "flag": True,
        "id": str(uuid.uuid4()).upper(),  # a string UUID is normalised
        "when": AWARE,
        "naive": NAIVE,
        "day": date(2026, 12, 4),
        "clock": time(7, 30),
        "one": inner,
        "many": [inner, {"id": uuid.uuid4(), "at": None}],
        "nested_many": [inner],
        "words": ["a", None, 3],
        "stored_as": "renamed",
        "secret": "never shown",
    }
    item.update(overrides)
    return item


@pytest.mark.parametrize(
    "item",
    [
        _item(),
        _item(number=None, one=None, flag=1),  # None, and a truthy non-bool left to marshmallow
        {"text": "only some keys"},  # missing keys are left out, as marshmallow does
        SimpleNamespace(**_item()),  # objects as well as dicts
    ],
)
def test_the_compiled_plan_answers_what_marshmallow_answers(item: Any) -> None:
    schema = Everything()
    assert schema.dump(item) == marshmallow_dump(schema, item)
    many = Everything(many=True)
    assert many.dump([item, item]) == marshmallow_dump(many, [item, item])


def test_a_schema_with_dump_hooks_is_left_to_marshmallow() -> None:
    class Hooked(FastDump):
        name = ma.fields.String()

        @ma.post_dump
        def _shout(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
            return {"name": data["name"].upper()}

    assert compiled_dumper(Hooked()) is None
    assert Hooked().dump({"name": "binjai"}) == {"name": "BINJAI"}


def _photo() -> dict[str, Any]:
    return {"id": uuid.uuid4(), "purpose": "report", "media_type": "image/jpeg", "url": "/x"}


def test_the_public_feed_items_dump_as_with_marshmallow() -> None:
    view = {
        "id": uuid.uuid4(),
        "tracking_number": "BJI-2026-000123",
        "type": "complaint",
        "category_id": uuid.uuid4(),
        "category_code": "road_damage",
        "category_name": "Jalan rusak",
        "agency_id": uuid.uuid4(),
        "agency_code": "PUPR",
        "agency_name": "Dinas PUPR",
        "title": "Jalan berlubang",
        "description": "Lubang besar",
        "lat": 3.6,
        "lon": 98.48,
        "address": None,
        "kelurahan_code": "12.75.02.1001",
        "kecamatan_code": "12.75.02",
        "status": "submitted",
        "status_label": "Diterima",
        "is_open": True,
        "due_at": NAIVE,
        "is_overdue": False,
        "duplicate_of_id": None,
        "resolution_note": None,
        "resolved_at": None,
        "supporter_count": 3,
        "photos": [_photo(), _photo()],
        "created_at": AWARE,
        "updated_at": AWARE,
    }
    schema = PublicComplaintSchema(many=True)
    assert isinstance(schema, FastDump)
    assert schema.dump([view, view]) == marshmallow_dump(schema, [view, view])


def test_facility_search_results_dump_as_with_marshmallow() -> None:
    hours = [SimpleNamespace(weekday=day, opens_at=time(8), closes_at=time(14)) for day in range(6)]
    service = SimpleNamespace(id=uuid.uuid4(), code="umum", name="Poli Umum", name_en=None)
    bed = {"bed_class": "kelas_3", "total": 20, "available": 4, "updated_at": AWARE}
    facility = SimpleNamespace(
        id=uuid.uuid4(),
        name="Puskesmas Binjai Estate",
        type="puskesmas",
        address="Jl. Example 1",
        kelurahan_code=None,
        lat=3.61,
        lon=98.5,
        phone=None,
        emergency_24h=False,
        accepts_bpjs=True,
        open_now=True,
        distance_m=850,
        opening_hours=hours,
        services=[service],
        beds=[bed],
        beds_updated_at=None,
        is_demo=True,
        updated_at=AWARE,
    )
    schema = FacilitySummarySchema(many=True)
    assert isinstance(schema, FastDump)
    assert schema.dump([facility]) == marshmallow_dump(schema, [facility])
