"""Request and response shapes of the working-day calendar."""

from __future__ import annotations

from datetime import date

import marshmallow as ma

from binjai_api.schemas import StrictSchema, enum_field


class DayOffSchema(ma.Schema):
    id = ma.fields.UUID(allow_none=True, metadata={"description": "Set on local days off only"})
    date = ma.fields.Date(attribute="day", metadata={"example": "2026-12-24"})
    name = ma.fields.String(metadata={"example": "Cuti bersama Natal"})
    source = enum_field(
        ("national", "local"),
        metadata={
            "description": "`national`: a national holiday or cuti bersama; `local`: "
            "a day off declared by the city"
        },
    )


class DayOffCreateSchema(StrictSchema):
    date = ma.fields.Date(required=True, data_key="date", attribute="day")
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=120))


class DayOffQueryArgsSchema(ma.Schema):
    date_from = ma.fields.Date(
        data_key="from", metadata={"description": "First date (default: 1 January this year)"}
    )
    date_to = ma.fields.Date(
        data_key="to", metadata={"description": "Last date (default: 31 December this year)"}
    )

    @ma.validates_schema
    def _check_span(self, data: dict[str, date], **_kwargs: object) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (end < start or (end - start).days > 3 * 366):
            raise ma.ValidationError(
                "Give `to` on or after `from`, at most three years apart.", "to"
            )


DAY_OFF_EXAMPLE = {"date": "2026-12-31", "name": "Cuti bersama akhir tahun Pemko Binjai"}
