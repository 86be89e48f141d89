"""flask-smorest set up for this API: problem+json error responses, bearer auth, our pagination."""

from __future__ import annotations

import http
from typing import Any

import apispec
import flask_smorest
from flask import request
from flask_smorest.etag import ETAG_HEADER, IF_MATCH_HEADER, IF_NONE_MATCH_HEADER
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import get_appcontext, prepare_response

from binjai_api.errors import PROBLEM_CONTENT_TYPE, ProblemSchema, problem_from_http_exception
from binjai_api.errors_catalogue import BY_CODE, CATALOGUE, ProblemCode, codes_for_status
from binjai_api.openapi_contract import finish_spec, operations
from binjai_api.pagination import PagingLinksMixin
from binjai_api.problem_codes import operation_codes, walked_codes

API_TITLE = "Binjai API"
API_VERSION = "1.0.0"
BEARER_SCHEME = "bearerAuth"
BEARER_SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]

API_DESCRIPTION = """\
Public-services API of Kota Binjai (Sumatera Utara): accounts, permits (perizinan), health
facilities and online queues (kesehatan), complaints and aspirations (pengaduan / aspirasi),
notifications, and the Binjai Command Center.

* Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.
* `Accept-Language: id` (default) or `en` chooses the language of human-readable texts.
* Lists are paginated with `page` and `page_size` (1-100); metadata is in `X-Pagination`, and
  RFC 8288 `Link` headers (`first`, `prev`, `next`, `last`) give the pages as absolute URLs.
* The lists the app polls (`/notifications`, `/complaints/mine`, `/queue-bookings/mine`,
  `/permit-applications/mine`) send a weak `ETag`: send it back in `If-None-Match` to get `304`
  while nothing on the page changed. Lists the app syncs take `updated_after`.
* Every POST that creates something accepts an `Idempotency-Key` header (kept 24 hours).
* `X-Request-ID` is echoed on every response and included in every error body.
* Push notifications (FCM): each push carries the data keys `kind`, `notification_id`,
  `resource_type`, `resource_id` and `link` (a deep link, `binjai://complaints/<id>`,
  `binjai://notifications/<notification_id>` ...); it is shown under the kind's Android channel
  (`android.notification.channel_id`) and iOS category (`aps.category`). The app de-duplicates
  on `notification_id`, which is also the Android `tag` and the `apns-collapse-id`. Every kind's
  channel, category and deep link: `docs/push-notifications.md` in the repository.
"""

_RESPONSE_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer challenge", "schema": {"type": "string"}}},
    405: {"Allow": {"description": "Methods allowed here", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}

# Component names of the examples of each problem code.
EXAMPLE_PREFIX = "problem_"
# Where Blueprint keeps an operation's view function beside flask-smorest's doc info.
_VIEW_KEY = "x-binjai-view"

_EXAMPLE_CODES: dict[int, str] = {
    400: "malformed_json",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "database_unavailable",
}


def problem_codes_doc(status: int, codes: list[ProblemCode]) -> dict[str, Any]:
    """What an error response says of its problem codes (errors_catalogue.py): a description
    naming them and `x-problem-codes`."""
    phrase = http.HTTPStatus(status).phrase
    if not codes:
        return {"description": phrase}
    return {
        "description": f"{phrase}: " + ", ".join(f"`{entry.code}`" for entry in codes) + ".",
        "x-problem-codes": [entry.code for entry in codes],
    }


def problem_example(status: int, code: str | None = None) -> dict[str, Any]:
    code = code or _EXAMPLE_CODES.get(status, "error")
    example: dict[str, Any] = {
        "type": f"urn:binjai:problem:{code}",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": http.HTTPStatus(status).description,
        "instance": "/api/v1/...",
        "code": code,
        "request_id": "5f0c6a1e2b7d4c43a1a8f3f7d0e2c9b1",
    }
    if status == 422:
        example["errors"] = {"json": {"field_name": ["Missing data for required field."]}}
    return example


class FinishedSpec(apispec.APISpec):
    """apispec's document, finished for client generators (openapi_contract.py)."""

    def to_dict(self) -> dict[str, Any]:
        spec = finish_spec(super().to_dict())
        _document_problem_codes(spec)
        return spec


def _document_problem_codes(spec: dict[str, Any]) -> None:
    """Fill each marked error response with the codes its operation can answer with its status,
    and list one example per code used under components/examples."""
    used: set[str] = set()
    for _path, _method, operation in operations(spec):
        _declare_walked_statuses(operation.get("responses", {}))
        for key, response in operation.get("responses", {}).items():
            view = response.pop(_VIEW_KEY, None) if isinstance(response, dict) else None
            if view is None:
                continue
            module_name, qualname = view.split(":")
            status = int(key)
            codes = operation_codes(module_name, qualname, {status})[status]
            entries = [BY_CODE[code] for code in codes]
            codes_doc = problem_codes_doc(status, entries)
            own = response.get("description", "")
            phrase = http.HTTPStatus(status).phrase
            if own == phrase:
                response["description"] = codes_doc["description"]
            else:  # the route's own description stays first
                response["description"] = f"{own} {codes_doc['description']}"
            if "x-problem-codes" not in codes_doc:
                continue
            response["x-problem-codes"] = codes_doc["x-problem-codes"]
            content = response["content"][PROBLEM_CONTENT_TYPE]
            content.pop("example", None)
            content["examples"] = {
                code: {"$ref": f"#/components/examples/{EXAMPLE_PREFIX}{code}"} for code in codes
            }
            used.update(codes)
    examples = spec.setdefault("components", {}).setdefault("examples", {})
    for entry in CATALOGUE:
        if entry.code in used:
            examples[EXAMPLE_PREFIX + entry.code] = {
                "summary": entry.meaning,
                "value": problem_example(entry.status, entry.code),
            }
    spec["components"]["examples"] = dict(sorted(examples.items()))


def _declare_walked_statuses(responses: dict[str, Any]) -> None:
    """Declare the error statuses the operation's code can answer but its route did not list
    (a 404 `not_found` met deep in a service, say), so that every status an operation answers
    is in the spec. Each is shaped like the operation's other problem responses and filled with
    its codes below."""
    marked = [r for r in responses.values() if isinstance(r, dict) and _VIEW_KEY in r]
    if not marked:
        return
    view = marked[0][_VIEW_KEY]
    module_name, qualname = view.split(":")
    walked = {status for status, _code in walked_codes(module_name, qualname)}
    for status in sorted(walked - {int(key) for key in responses if key.isdigit()}):
        responses[str(status)] = {
            "description": http.HTTPStatus(status).phrase,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            _VIEW_KEY: view,
        }
    # Keep the statuses in order, as apispec writes them.
    ordered = dict(sorted(responses.items(), key=lambda item: item[0]))
    responses.clear()
    responses.update(ordered)


class BinjaiApi(flask_smorest.Api):
    """flask-smorest's Api, answering and documenting errors as problem details."""

    ERROR_SCHEMA = ProblemSchema
    # Operations list their real error responses; there is no catch-all "default".
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **kwargs: Any) -> None:
        super()._init_spec(**kwargs)
        self.spec.__class__ = FinishedSpec

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status == http.HTTPStatus.NOT_MODIFIED:
                response["description"] = (
                    "Not Modified: the ETag sent in `If-None-Match` is still current; no body."
                )
                response["headers"] = {"ETag": ETAG_HEADER}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                response["example"] = problem_example(int(status))
                response.update(problem_codes_doc(int(status), codes_for_status(int(status))))
                if int(status) in _RESPONSE_HEADERS:
                    response["headers"] = _RESPONSE_HEADERS[int(status)]
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)

    def _register_etag_headers(self) -> None:
        optional_if_match = {**IF_MATCH_HEADER, "required": False}
        optional_if_match["description"] = "ETag of the version you edited; 412 when it is stale"
        self.spec.components.parameter("IF_NONE_MATCH", "header", IF_NONE_MATCH_HEADER, lazy=True)
        self.spec.components.parameter("IF_MATCH", "header", optional_if_match, lazy=True)
        self.spec.components.header("ETAG", ETAG_HEADER, lazy=True)

    def _register_pagination_header(self) -> None:
        # The header carries JSON text; described as `content` so that clients and validators
        # parse it instead of expecting a bare object.
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata (JSON)",
                "content": {"application/json": {"schema": PaginationMetadataSchema}},
            },
            lazy=True,
        )

    def handle_http_exception(self, error):
        return problem_from_http_exception(error)

    def register_security_scheme(self) -> None:
        self.spec.components.security_scheme(
            BEARER_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Access token from /api/v1/auth/login or /api/v1/auth/token "
                "(lives 15 minutes).",
            },
        )


class Blueprint(PagingLinksMixin, flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the conventions of this API.

    - pagination: page_size 1-100, default 20; `Link` headers; `polled=True` for a weak ETag;
    - ETags: `If-None-Match` answers 304; `If-Match` is optional on PATCH/PUT (a mobile client that
      does not send it still works) but a stale one answers 412.
    """

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 100}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_common_errors_doc)
        self._prepare_doc_cbks.append(self._prepare_problem_codes_doc)

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        # The view function of each method, for the walk of its problem codes.
        for method, doc_info in self._docs[endpoint].items():
            if method != "parameters":
                view = getattr(obj, method, None) if isinstance(obj, type) else obj
                doc_info[_VIEW_KEY] = view

    @staticmethod
    def _prepare_problem_codes_doc(doc, doc_info, **kwargs):
        """Mark each problem+json error response with its view, so that the finished spec lists
        the codes this operation can answer with that status (problem_codes.py). Walking the
        code is left to when the spec is built, not paid at every start of the app."""
        view = doc_info.get(_VIEW_KEY)
        responses = doc.get("responses", {})
        if view is None:
            return doc
        for key in list(responses):
            if int(key) < 400:
                continue
            own = responses[key]
            if isinstance(own, str):
                phrase = http.HTTPStatus(int(key)).phrase
                response: dict[str, Any] = {"schema": ProblemSchema, "description": phrase}
                if int(key) in _RESPONSE_HEADERS:
                    response["headers"] = _RESPONSE_HEADERS[int(key)]
                prepare_response(response, kwargs["spec"], PROBLEM_CONTENT_TYPE)
                responses[key] = own = response
            if PROBLEM_CONTENT_TYPE in own.get("content", {}):
                # Open311 and FHIR errors have their own formats and codes.
                own[_VIEW_KEY] = f"{view.__module__}:{view.__qualname__}"
        return doc

    @staticmethod
    def _prepare_common_errors_doc(doc, doc_info, **kwargs):
        """Errors any operation can meet: the default rate limit and an unreachable database;
        and, for those with a body, malformed, too large or of the wrong media type."""
        responses = doc.setdefault("responses", {})
        common = {429: "TOO_MANY_REQUESTS", 503: "SERVICE_UNAVAILABLE"}
        if "requestBody" in doc:
            common.update(
                {400: "BAD_REQUEST", 413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}
            )
        for status, component in common.items():
            if status not in responses and str(status) not in responses:
                responses[status] = component
        return doc

    def _check_precondition(self) -> None:
        return None

    def _check_not_modified(self, etag: str) -> None:
        # Without If-None-Match there is nothing to compare: skip parsing the absent header.
        if "HTTP_IF_NONE_MATCH" in request.environ:
            super()._check_not_modified(etag)

    def check_etag(self, etag_data: Any, etag_schema: Any = None) -> None:
        if not request.if_match:
            get_appcontext().setdefault("etag", {})["etag_checked"] = True
            return
        super().check_etag(etag_data, etag_schema)

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        doc.get("responses", {}).pop(428, None)
        return doc


def spec_settings() -> dict[str, Any]:
    """flask-smorest settings; the spec must not depend on the environment (it is committed)."""
    return {
        "API_TITLE": API_TITLE,
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "v1/openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/static/vendor/swagger-ui/",
        "OPENAPI_REDOC_PATH": "redoc",
        "OPENAPI_REDOC_URL": "/api/static/vendor/redoc/redoc.standalone.js",
        "API_SPEC_OPTIONS": {
            # Relative: the paths already carry /api/v1 and /open311/v2, and the host is wherever
            # the spec was fetched from (PUBLIC_BASE_URL in production).
            "servers": [{"url": "/", "description": "The server this document was fetched from"}],
            "info": {
                "description": API_DESCRIPTION,
                "contact": {"name": "Binjai Command Center (Diskominfo Kota Binjai)"},
                "license": {"name": "MIT"},
            },
        },
    }
