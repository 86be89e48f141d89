"""Days off: the national holidays the service deadlines skip, and the city's own."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.db import utcnow
from binjai_api.errors import not_found
from binjai_api.openapi import Blueprint
from binjai_api.workcalendar import service
from binjai_api.workcalendar.schemas import (
    DAY_OFF_EXAMPLE,
    DayOffCreateSchema,
    DayOffQueryArgsSchema,
    DayOffSchema,
)

blp = Blueprint(
    "days-off",
    __name__,
    url_prefix=f"{API_V1_STR}/days-off",
    description="The working-day calendar that service deadlines count: national holidays, "
    "cuti bersama and the city's own days off.",
)


@blp.route("")
class DaysOffView(MethodView):
    @access.public
    @blp.arguments(DayOffQueryArgsSchema, location="query")
    @blp.response(200, DayOffSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List the days off between two dates"""
        today = service.local_date(utcnow())
        start = args.get("date_from") or date(today.year, 1, 1)
        end = args.get("date_to") or date(start.year, 12, 31)
        return service.days_off(start, end)

    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(DayOffCreateSchema, example=DAY_OFF_EXAMPLE)
    @blp.response(201, DayOffSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Declare a local day off"""
        return service.declare_day_off(**payload)


@blp.route("/<string:day>")
class DayOffByDateView(MethodView):
    @access.roles(Role.ADMIN)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, day: str) -> None:
        """Cancel a local day off"""
        service.cancel_day_off(_parse_day(day))


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise not_found() from None
