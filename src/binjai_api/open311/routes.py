"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), translated to and from the
complaints service.

The format is chosen by the path's extension (`.json` or `.xml`), as the specification has it.
Errors, whatever raised them (a field check, the rate limit, an unreachable database), leave this
face in Open311's own shape, `[{"code": 404, "description": "..."}]`, with the specification's
status codes: invalid fields are a 400 and a bad `api_key` a 403.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView

from binjai_api import access
from binjai_api.errors import PROBLEM_CONTENT_TYPE
from binjai_api.links import public_url
from binjai_api.open311 import formats, service
from binjai_api.open311.schemas import (
    SERVICE_REQUEST_EXAMPLE,
    DiscoverySchema,
    JurisdictionQueryArgsSchema,
    Open311ErrorSchema,
    RequestsQueryArgsSchema,
    ServiceDefinitionSchema,
    ServiceRequestCreatedSchema,
    ServiceRequestFormSchema,
    ServiceRequestSchema,
    ServiceSchema,
    TokenSchema,
)
from binjai_api.openapi import Blueprint
from binjai_api.pagination import LINK_HEADER_DOC

FORMAT = "<any(json,xml):response_format>"


class Open311Blueprint(Blueprint):
    """Documents every error of its operations in Open311's shape and formats."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._open311_errors_doc)

    @staticmethod
    def _open311_errors_doc(doc: dict[str, Any], doc_info: Any, **kwargs: Any) -> dict[str, Any]:
        responses = doc.get("responses", {})
        for status in list(responses):
            code = int(status)
            if code < 400:
                continue
            open311_code = service.STATUS_FOR_OPEN311.get(code, code)
            if open311_code != code:
                del responses[status]
            existing = responses.get(open311_code, responses.get(str(open311_code)))
            headers = existing.get("headers") if isinstance(existing, dict) else None
            responses[open311_code] = _error_doc(open311_code, headers)
        return doc


def _error_doc(status: int, headers: Any = None) -> dict[str, Any]:
    example = [{"code": status, "description": "..."}]
    doc: dict[str, Any] = {
        "description": "Open311 error",
        "content": {
            "application/json": {"schema": Open311ErrorSchema(many=True), "example": example},
            "text/xml": {
                "schema": {"type": "string"},
                "example": formats.to_xml("errors", example).decode(),
            },
        },
    }
    if status in (429, 503):
        doc["headers"] = headers or {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }
    return doc


def _success_doc(root: str, example: Any) -> dict[str, Any]:
    """The JSON and XML bodies of a success, for `blp.doc`."""
    return {
        "content": {
            "text/xml": {
                "schema": {"type": "string", "description": f"`<{root}>` document"},
                "example": formats.to_xml(root, example).decode(),
            }
        }
    }


blp = Open311Blueprint(
    "open311",
    __name__,
    url_prefix="/open311/v2",
    description="Open311 GeoReport v2 over the city's complaints, for integrators "
    "(FixMyStreet, SeeClickFix and other GeoReport clients). `service_request_id` is the "
    "tracking number; `service_code` is the complaint category code; confidential reports are "
    "never listed and reporters are never shown.",
)


@blp.after_app_request
def _speak_open311_errors(response: Response) -> Response:
    """Problem details raised anywhere under /open311 (a field check, the rate limit, an
    unreachable database, an unknown path or format) become Open311 errors."""
    if response.mimetype != PROBLEM_CONTENT_TYPE or not request.path.startswith(blp.url_prefix):
        return response
    problem = json.loads(response.get_data(as_text=True))
    error = service.problem_as_open311_error(problem)
    converted = formats.error_response(error.status, error.description, _response_format())
    for header in ("Retry-After", "Allow", "X-Request-ID", "Content-Language"):
        if header in response.headers:
            converted.headers[header] = response.headers[header]
    for name, value in response.headers.items():
        if name.startswith("X-RateLimit") or name.startswith("RateLimit"):
            converted.headers[name] = value
    return converted


@blp.errorhandler(service.Open311Error)
def _open311_error(error: service.Open311Error) -> Response:
    return formats.error_response(error.status, error.description, _response_format())


def _response_format() -> str:
    requested = (request.view_args or {}).get("response_format")
    if requested in formats.FORMATS:
        return str(requested)
    return formats.XML if request.path.endswith(".xml") else formats.JSON


EXAMPLE_SERVICE = {
    "service_code": "road_damage",
    "service_name": "Jalan rusak",
    "description": "Jalan berlubang, aspal rusak",
    "metadata": True,
    "type": "realtime",
    "keywords": None,
    "group": "Dinas Pekerjaan Umum dan Penataan Ruang",
}
EXAMPLE_REQUEST = {
    "service_request_id": "BJI-2026-000123",
    "status": "open",
    "status_notes": None,
    "service_name": "Jalan rusak",
    "service_code": "road_damage",
    "description": "Lubang besar di badan jalan.",
    "agency_responsible": "Dinas Pekerjaan Umum dan Penataan Ruang",
    "service_notice": "Menunggu verifikasi",
    "requested_datetime": "2026-11-27T03:15:00Z",
    "updated_datetime": "2026-11-27T03:15:00Z",
    "expected_datetime": "2026-12-02T16:59:59Z",
    "address": "Jl. Sudirman, Binjai",
    "address_id": None,
    "zipcode": None,
    "lat": 3.6001,
    "long": 98.4854,
    "media_url": None,
}
EXAMPLE_CREATED = {
    "service_request_id": "BJI-2026-000123",
    "token": "8b0d7c4e-6a53-4c9e-9a55-2f1f0e3b6f11",
    "service_notice": "Diverifikasi dalam 3 hari kerja",
    "account_id": None,
}


@blp.route(f"/discovery.{FORMAT}")
class DiscoveryView(MethodView):
    @access.public
    @blp.response(200, DiscoverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(responses={200: _success_doc("discovery", {"changeset": "..."})})
    def get(self, response_format: str) -> Response:
        """Open311 service discovery"""
        endpoint_url = url_for("open311.DiscoveryView", response_format="json")
        endpoint_url = public_url(endpoint_url.rsplit("/discovery", 1)[0])
        return formats.respond(
            service.discovery(endpoint_url=endpoint_url),
            root="discovery",
            response_format=response_format,
        )


@blp.route(f"/services.{FORMAT}")
class ServicesView(MethodView):
    @access.public
    @blp.arguments(JurisdictionQueryArgsSchema, location="query")
    @blp.response(200, ServiceSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(responses={200: _success_doc("services", [EXAMPLE_SERVICE])})
    def get(self, args: dict[str, Any], response_format: str) -> Response:
        """Open311 service list: the complaint categories"""
        return formats.respond(
            service.services(jurisdiction_id=args.get("jurisdiction_id")),
            root="services",
            response_format=response_format,
        )


@blp.route(f"/services/<string:service_code>.{FORMAT}")
class ServiceDefinitionView(MethodView):
    @access.public
    @blp.arguments(JurisdictionQueryArgsSchema, location="query")
    @blp.response(200, ServiceDefinitionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        responses={
            200: _success_doc(
                "service_definition",
                {"service_code": "road_damage", "attributes": []},
            )
        }
    )
    def get(self, args: dict[str, Any], service_code: str, response_format: str) -> Response:
        """Open311 service definition: the attributes of a category"""
        return formats.respond(
            service.service_definition(
                service_code=service_code, jurisdiction_id=args.get("jurisdiction_id")
            ),
            root="service_definition",
            response_format=response_format,
        )


@blp.route(f"/requests.{FORMAT}")
class RequestsView(MethodView):
    @access.public
    @blp.arguments(RequestsQueryArgsSchema, location="query")
    @blp.response(
        200,
        ServiceRequestSchema(many=True),
        headers={"X-Pagination": "PAGINATION", "Link": LINK_HEADER_DOC},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        description="GeoReport v2's response volume: a span of at most 90 days (the last 90 "
        f"days by default) and at most {service.MAX_REQUESTS} requests per answer, newest "
        "first. The cap is never silent: `X-Pagination` carries the total that matched, and "
        'when there are more, `Link: <...>; rel="next"` (and `page=2`, `page=3` ...) reads on. '
        "`start_date` and `end_date` take a datetime with its zone or a date (a whole day in "
        "WIB).",
        responses={200: _success_doc("service_requests", [EXAMPLE_REQUEST])},
    )
    def get(self, args: dict[str, Any], response_format: str) -> Response:
        """Open311 service requests: non-confidential reports, newest first"""
        requests, total = service.service_requests(args=args, base_url=public_url())
        response = formats.respond(
            requests, root="service_requests", response_format=response_format
        )
        response.headers.update(blp.pagination_headers(args["page"], args["page_size"], total))
        return response

    @access.public
    @blp.arguments(
        ServiceRequestFormSchema,
        location="form",
        example=SERVICE_REQUEST_EXAMPLE,
        description="Form-encoded, as the specification requires. The `api_key` is checked "
        "against the API clients an admin issued; it needs the `complaints:write` scope. "
        "Answers to the category's own questions (the service definition's attributes after "
        "`kelurahan_code`) are posted as `attribute[code]=value`; an answer that stops the "
        "report (an emergency) is a 400 whose description is the message to show.",
    )
    @blp.response(201, ServiceRequestCreatedSchema(many=True))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(responses={201: _success_doc("service_requests", [EXAMPLE_CREATED])})
    def post(self, form: dict[str, Any], response_format: str) -> Response:
        """Open311 POST service request: file a report as an integrator"""
        attributes = {
            key[len("attribute[") : -1]: value
            for key, value in request.form.items()
            if key.startswith("attribute[") and key.endswith("]")
        }
        return formats.respond(
            service.submit_request(form=form, attributes=attributes),
            root="service_requests",
            response_format=response_format,
            status=201,
        )


@blp.route(f"/requests/<string:service_request_id>.{FORMAT}")
class RequestByIdView(MethodView):
    @access.public
    @blp.arguments(JurisdictionQueryArgsSchema, location="query")
    @blp.response(200, ServiceRequestSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(responses={200: _success_doc("service_requests", [EXAMPLE_REQUEST])})
    def get(self, args: dict[str, Any], service_request_id: str, response_format: str) -> Response:
        """Open311 service request by id (the tracking number)"""
        return formats.respond(
            service.service_request(
                service_request_id=service_request_id,
                base_url=public_url(),
                jurisdiction_id=args.get("jurisdiction_id"),
            ),
            root="service_requests",
            response_format=response_format,
        )


@blp.route(f"/tokens/<string:token>.{FORMAT}")
class TokenView(MethodView):
    @access.public
    @blp.arguments(JurisdictionQueryArgsSchema, location="query")
    @blp.response(200, TokenSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        responses={
            200: _success_doc(
                "service_requests",
                [{"service_request_id": "BJI-2026-000123", "token": "8b0d7c4e-..."}],
            )
        }
    )
    def get(self, args: dict[str, Any], token: str, response_format: str) -> Response:
        """Open311 token: the request a token stands for"""
        return formats.respond(
            service.token(token_value=token, jurisdiction_id=args.get("jurisdiction_id")),
            root="service_requests",
            response_format=response_format,
        )
