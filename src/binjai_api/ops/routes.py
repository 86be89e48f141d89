"""The command center's API: overview, overdue items, the wall map and escalations."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from binjai_api import access
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.csv_export import csv_doc, send_csv, wants_csv
from binjai_api.openapi import Blueprint
from binjai_api.ops import escalation, service
from binjai_api.ops.schemas import (
    ESCALATION_CSV_EXAMPLE,
    ESCALATION_EXAMPLE,
    GEOJSON_MEDIA_TYPE,
    HEATMAP_CSV_COLUMNS,
    HEATMAP_CSV_EXAMPLE,
    HEATMAP_EXAMPLE,
    OVERDUE_CSV_COLUMNS,
    OVERDUE_CSV_EXAMPLE,
    OVERDUE_EXAMPLE,
    OVERVIEW_CSV_COLUMNS,
    OVERVIEW_EXAMPLE,
    EscalationQueryArgsSchema,
    EscalationSchema,
    HeatmapQueryArgsSchema,
    HeatmapSchema,
    OverdueItemSchema,
    OverdueQueryArgsSchema,
    OverviewSchema,
    PeriodQueryArgsSchema,
)
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "ops",
    __name__,
    url_prefix=f"{API_V1_STR}/ops",
    description="Binjai Command Center (BCC): operations overview, overdue items across agencies, "
    "the complaints heat map and escalations. Operators and admins see every agency; officers "
    "see their own.",
)

# --- overview, overdue, heatmap ------------------------------------------------------------------

OPS_READERS = (Role.OPERATOR, Role.ADMIN, Role.OFFICER)


@blp.route("/overview")
class OverviewView(MethodView):
    @access.roles(*OPS_READERS)
    @blp.arguments(PeriodQueryArgsSchema, location="query")
    @blp.response(200, OverviewSchema, example=OVERVIEW_EXAMPLE)
    @blp.doc(**csv_doc(OVERVIEW_CSV_COLUMNS, ("complaints", "by_status", "submitted", 2)))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args: dict[str, Any]) -> Any:
        """Figures per domain for a period, overdue counts per agency, complaints per area"""
        scope = service.agency_scope(access.current_principal(), args.get("agency_id"))
        overview = service.overview(
            period=args["period"], agency_id=scope, dump=OverviewSchema().dump
        )
        if wants_csv():
            period = args["period"]
            send_csv(
                OVERVIEW_CSV_COLUMNS,
                service.overview_csv_rows(overview),
                f"ops-overview-{period.first_day}-{period.last_day}.csv",
            )
        return current_app.response_class(json.dumps(overview), mimetype="application/json")


@blp.route("/overdue")
class OverdueView(MethodView):
    @access.roles(*OPS_READERS)
    @blp.arguments(OverdueQueryArgsSchema, location="query")
    @blp.response(200, OverdueItemSchema(many=True), example=OVERDUE_EXAMPLE)
    @blp.doc(**csv_doc(OVERDUE_CSV_COLUMNS, OVERDUE_CSV_EXAMPLE))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Every overdue item across domains, most overdue first (CSV: the whole list)"""
        scope = service.agency_scope(access.current_principal(), args.get("agency_id"))
        items, now = service.overdue_list(
            agency_id=scope, item_type=args.get("item_type"), waiting_on=args.get("waiting_on")
        )
        if wants_csv():
            send_csv(OVERDUE_CSV_COLUMNS, service.overdue_csv_rows(items, now), "ops-overdue.csv")
        pagination_parameters.item_count = len(items)
        first = pagination_parameters.first_item
        return service.overdue_rows(items[first : first + pagination_parameters.page_size], now)


@blp.route("/complaints-heatmap.geojson")
class ComplaintsHeatmapView(MethodView):
    @access.roles(*OPS_READERS)
    @blp.arguments(HeatmapQueryArgsSchema, location="query")
    @blp.response(
        200,
        HeatmapSchema,
        content_type=GEOJSON_MEDIA_TYPE,
        example=HEATMAP_EXAMPLE,
        description="RFC 7946 FeatureCollection: a Point per kelurahan (mean position of its "
        "located reports; null if none) or a square Polygon per grid cell",
    )
    @blp.doc(**csv_doc(HEATMAP_CSV_COLUMNS, HEATMAP_CSV_EXAMPLE))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args: dict[str, Any]) -> Any:
        """Complaints per kelurahan or grid cell for the BCC wall map (confidential included)"""
        scope = service.agency_scope(access.current_principal(), args.get("agency_id"))
        collection = service.heatmap(
            period=args["period"],
            agency_id=scope,
            by=args["by"],
            cell_m=args["cell_m"],
            status=args.get("status"),
            category_id=args.get("category_id"),
            type=args.get("type"),
        )
        if wants_csv():
            send_csv(HEATMAP_CSV_COLUMNS, service.heatmap_csv_rows(collection), "ops-heatmap.csv")
        return current_app.response_class(json.dumps(collection), mimetype=GEOJSON_MEDIA_TYPE)


# --- escalations ---------------------------------------------------------------------------------


@blp.route("/escalations")
class EscalationsView(MethodView):
    @access.roles(*OPS_READERS)
    @blp.arguments(EscalationQueryArgsSchema, location="query")
    @blp.response(200, EscalationSchema(many=True), example=ESCALATION_EXAMPLE)
    @blp.doc(**csv_doc(escalation.CSV_COLUMNS, ESCALATION_CSV_EXAMPLE))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Missed deadlines escalated to the staff, newest first (CSV: the whole list)"""
        scope = service.agency_scope(access.current_principal(), args.pop("agency_id", None))
        query = escalation.escalations_query(agency_id=scope, **args)
        if wants_csv():
            send_csv(escalation.CSV_COLUMNS, escalation.csv_rows(query), "ops-escalations.csv")
        return query
