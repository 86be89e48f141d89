"""The FHIR R4 face's routes (`/fhir/r4`): a plain Flask blueprint, left out of the OpenAPI spec
(FHIR clients read the CapabilityStatement instead; README: FHIR face).

Every answer is `application/fhir+json`. Errors, whatever raised them (a search parameter, an
unknown id or path, a wrong method, the rate limit, an unreachable database), leave this face as an
OperationOutcome with the same status, never as problem details.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, request

from binjai_api import access
from binjai_api.errors import PROBLEM_CONTENT_TYPE, Problem
from binjai_api.fhir import capability, service
from binjai_api.fhir.identifiers import FHIR_BASE_PATH, own_system
from binjai_api.i18n import gettext

FHIR_CONTENT_TYPE = "application/fhir+json"
_ACCEPTABLE = (FHIR_CONTENT_TYPE, "application/json")
# The OperationOutcome issue code for an HTTP status (FHIR R4 http.html, issue-type).
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    410: "deleted",
    413: "too-long",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}
_KEPT_HEADERS = ("Retry-After", "Allow", "X-Request-ID", "Content-Language", "WWW-Authenticate")

blp = Blueprint("fhir", __name__, url_prefix=FHIR_BASE_PATH)


def _fhir_response(resource: dict[str, Any], status: int = 200) -> Response:
    """The resource as application/fhir+json, with a strong ETag; 304 to a matching
    If-None-Match (the directory's caching, CONVENTIONS: item GETs)."""
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status, content_type=f"{FHIR_CONTENT_TYPE}; charset=utf-8")
    if status == 200:
        response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
        response.make_conditional(request)
    return response


def _check_acceptable() -> None:
    if request.accept_mimetypes.provided and not request.accept_mimetypes.best_match(_ACCEPTABLE):
        raise Problem(
            406, "not_acceptable", gettext("Only JSON (application/fhir+json) is served.")
        )


@blp.route("/metadata")
@access.public
def capability_statement() -> Response:
    """What this FHIR server serves (CapabilityStatement)."""
    _check_acceptable()
    return _fhir_response(capability.capability_statement(service.SEARCH_PARAMETERS))


@blp.route("/<string:resource_type>")
@access.public
def search_type(resource_type: str) -> Response:
    """Search a resource type: a Bundle searchset."""
    _check_acceptable()
    return _fhir_response(service.search_type(resource_type, request.args))


@blp.route("/<string:resource_type>/<string:resource_id>")
@access.public
def read(resource_type: str, resource_id: str) -> Response:
    """Read one resource by id."""
    _check_acceptable()
    return _fhir_response(service.read(resource_type, resource_id))


def operation_outcome(status: int, diagnostics: str, code: str | None = None) -> dict[str, Any]:
    issue_code = ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issue: dict[str, Any] = {
        "severity": "fatal" if status >= 500 else "error",
        "code": issue_code,
        "diagnostics": diagnostics,
    }
    if code:
        issue["details"] = {"coding": [{"system": own_system("problem-code"), "code": code}]}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


@blp.after_app_request
def _speak_operation_outcome(response: Response) -> Response:
    """Problem details raised anywhere under /fhir/r4 become an OperationOutcome."""
    in_face = request.path == FHIR_BASE_PATH or request.path.startswith(FHIR_BASE_PATH + "/")
    if response.mimetype != PROBLEM_CONTENT_TYPE or not in_face:
        return response
    problem = json.loads(response.get_data(as_text=True))
    detail = str(problem.get("detail") or problem.get("title") or problem.get("code"))
    converted = _fhir_response(
        operation_outcome(response.status_code, detail, problem.get("code")),
        status=response.status_code,
    )
    for name, value in response.headers.items():
        if name in _KEPT_HEADERS or name.startswith(("X-RateLimit", "RateLimit")):
            converted.headers[name] = value
    return converted
