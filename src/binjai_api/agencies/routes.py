"""The public catalog of agencies (OPD), kept by admins."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.agencies import service
from binjai_api.agencies.schemas import (
    AGENCY_EXAMPLE,
    AgencyCreateSchema,
    AgencyPatchSchema,
    AgencyQueryArgsSchema,
    AgencySchema,
)
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "agencies",
    __name__,
    url_prefix=f"{API_V1_STR}/agencies",
    description="Binjai's city agencies (OPD).",
)


@blp.route("")
class AgenciesView(MethodView):
    @access.public
    @blp.arguments(AgencyQueryArgsSchema, location="query")
    @blp.response(200, AgencySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List the city's agencies"""
        return service.agencies_query(**args)

    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(AgencyCreateSchema, example=AGENCY_EXAMPLE)
    @blp.response(201, AgencySchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Add an agency"""
        return service.create_agency(**payload)


@blp.route("/<uuid:agency_id>")
class AgencyByIdView(MethodView):
    @access.public
    @blp.etag
    @blp.response(200, AgencySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, agency_id: uuid.UUID) -> Any:
        """Read an agency"""
        return service.get_agency(agency_id)

    @access.roles(Role.ADMIN)
    @blp.etag
    @blp.arguments(AgencyPatchSchema, example={"description": "Jalan, drainase, jembatan"})
    @blp.response(200, AgencySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes: dict[str, Any], agency_id: uuid.UUID) -> Any:
        """Change an agency"""
        blp.check_etag(service.get_agency(agency_id, lock=True), AgencySchema)
        return service.update_agency(agency_id=agency_id, changes=changes)
