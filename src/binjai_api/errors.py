"""The one error shape: RFC 9457 problem details (`application/problem+json`) for every failure.

Domain code raises `Problem`; framework errors (routing, validation, JWT, rate limits, database)
are translated here, so no endpoint ever answers HTML or a bare 500 traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import sqlalchemy.exc as sa_exc
from flask import Flask, Response, current_app, g, json, request
from flask_babel import LazyString
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from binjai_api import validation_messages
from binjai_api.i18n import lazy_gettext
from binjai_api.ratelimit import breached_limit_headers

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:binjai:problem:"
DATABASE_RETRY_AFTER_SECONDS = 5

log = logging.getLogger("binjai_api.errors")

# Stable machine codes and default human titles for each status this API answers with.
STATUS_DEFAULTS: dict[int, tuple[str, LazyString]] = {
    400: ("bad_request", lazy_gettext("Malformed request")),
    401: ("unauthorized", lazy_gettext("Authentication required")),
    403: ("forbidden", lazy_gettext("Not allowed")),
    404: ("not_found", lazy_gettext("Not found")),
    405: ("method_not_allowed", lazy_gettext("Method not allowed")),
    406: ("not_acceptable", lazy_gettext("Not acceptable")),
    409: ("conflict", lazy_gettext("Conflict")),
    410: ("gone", lazy_gettext("Gone")),
    412: ("precondition_failed", lazy_gettext("Precondition failed")),
    413: ("payload_too_large", lazy_gettext("Request too large")),
    415: ("unsupported_media_type", lazy_gettext("Unsupported media type")),
    422: ("validation_error", lazy_gettext("Invalid input")),
    428: ("precondition_required", lazy_gettext("Precondition required")),
    429: ("rate_limited", lazy_gettext("Too many requests")),
    500: ("internal_error", lazy_gettext("Internal error")),
    503: ("service_unavailable", lazy_gettext("Service temporarily unavailable")),
}

# Details for framework errors, which carry only English texts of their own.
STATUS_DETAILS: dict[int, LazyString] = {
    400: lazy_gettext("The request could not be read."),
    401: lazy_gettext("A valid access token is required."),
    403: lazy_gettext("You are not allowed to do this."),
    404: lazy_gettext("The requested resource was not found."),
    405: lazy_gettext("This method is not allowed on this resource."),
    406: lazy_gettext("The requested representation is not available."),
    409: lazy_gettext("The request conflicts with the current state."),
    412: lazy_gettext("The resource has changed since you last read it."),
    413: lazy_gettext("The request is larger than allowed."),
    415: lazy_gettext("This media type is not supported here."),
    422: lazy_gettext("Some fields are invalid."),
    428: lazy_gettext("This request must be conditional (If-Match)."),
    429: lazy_gettext("Too many requests. Please wait before trying again."),
    500: lazy_gettext("Something went wrong on our side. It has been logged."),
    503: lazy_gettext("The service is temporarily unavailable. Please try again shortly."),
}


class Problem(Exception):
    """An error to report to the client as problem details."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        detail: str | LazyString | None = None,
        *,
        title: str | LazyString | None = None,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(str(detail) if detail else code or str(status))
        default_code, default_title = STATUS_DEFAULTS.get(status, (f"http_{status}", None))
        self.status = status
        self.code = code or default_code
        self.title = title or default_title
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def not_found(detail: str | LazyString | None = None) -> Problem:
    return Problem(404, "not_found", detail or STATUS_DETAILS[404])


def forbidden(detail: str | LazyString | None = None) -> Problem:
    return Problem(403, "forbidden", detail or STATUS_DETAILS[403])


def conflict(code: str, detail: str | LazyString) -> Problem:
    return Problem(409, code, detail)


def unauthorized(code: str, detail: str | LazyString) -> Problem:
    return Problem(401, code, detail, headers={"WWW-Authenticate": 'Bearer realm="binjai-api"'})


def field_errors(
    errors: Mapping[str, list[str]], *, location: str = "json", code: str = "validation_error"
) -> Problem:
    """A 422 naming the fields at fault, shaped like flask-smorest's own validation errors."""
    return Problem(422, code, STATUS_DETAILS[422], errors={location: dict(errors)})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as answered by every error of this API."""

    type = ma.fields.String(
        required=True, metadata={"example": "urn:binjai:problem:validation_error"}
    )
    title = ma.fields.String(required=True, metadata={"example": "Masukan tidak valid"})
    status = ma.fields.Integer(required=True, metadata={"example": 422})
    detail = ma.fields.String(metadata={"example": "Beberapa isian tidak valid."})
    instance = ma.fields.String(metadata={"example": "/api/v1/auth/register"})
    code = ma.fields.String(
        required=True,
        metadata={"description": "Stable machine code; never translated.", "example": "conflict"},
    )
    request_id = ma.fields.String(metadata={"example": "5f0c6a1e2b7d4c43a1a8f3f7d0e2c9b1"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String())),
        metadata={
            "description": "Validation errors (422, and 400 where a body cannot be read): "
            "`{location: {field: [messages]}}`. The location is `json`, `query`, `path`, "
            "`headers`, `form` or `files`. A field inside an object or a list is named by its "
            "dotted path: `patient.nik`, `topics.0` (the first item), `beds.1.free`; errors "
            "about the whole body or several fields at once are under `_schema`.",
            "example": {"json": {"nik": ["NIK harus 16 digit."], "topics.0": ["Nilai tidak sah."]}},
            # Only validation errors carry it.
            "x-optional": True,
        },
    )

    class Meta:
        unknown = ma.INCLUDE


def _translate(value: Any) -> Any:
    """Translate framework messages (validation_messages.py); the app's own are translated
    where they are raised."""
    if isinstance(value, LazyString):
        return str(value)
    if isinstance(value, str):
        return validation_messages.translate(value) if value else value
    if isinstance(value, Mapping):
        return {str(k): _translate(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_translate(v) for v in value]
    return value


def flatten_errors(errors: Mapping[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """`{location: {field: [messages]}}` with nested and list fields as dotted paths.

    marshmallow nests the errors of a nested schema and numbers those of list items
    (`{"topics": {0: [...]}}`); the documented shape (ProblemSchema) has one level of fields.
    """
    flat: dict[str, dict[str, list[Any]]] = {}
    for location, fields in errors.items():
        out: dict[str, list[Any]] = {}
        _flatten_into(out, "", fields)
        flat[str(location)] = out
    return flat


def _flatten_into(out: dict[str, list[Any]], path: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _flatten_into(out, f"{path}.{key}" if path else str(key), sub)
    elif isinstance(value, list | tuple) and any(isinstance(v, Mapping | list) for v in value):
        for index, sub in enumerate(value):
            _flatten_into(out, f"{path}.{index}" if path else str(index), sub)
    elif isinstance(value, list | tuple):
        out.setdefault(path or "_schema", []).extend(value)
    else:
        out.setdefault(path or "_schema", []).append(value)


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + problem.code,
        "title": str(problem.title) if problem.title else problem.code,
        "status": problem.status,
        "detail": str(problem.detail)
        if problem.detail
        else str(STATUS_DETAILS.get(problem.status, problem.title or problem.code)),
        "instance": request.path if request else None,
        "code": problem.code,
        "request_id": g.get("request_id"),
    }
    if problem.errors is not None:
        body["errors"] = _translate(flatten_errors(problem.errors))
    for key, value in problem.extra.items():
        body.setdefault(key, value)
    response = current_app.response_class(
        json.dumps(body), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    if problem.status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="binjai-api"')
    return response


def problem_from_http_exception(error: HTTPException) -> Response:
    """Translate werkzeug/flask-smorest/webargs/Flask-Limiter exceptions into problem details."""
    status = error.code or 500
    if status == 304:
        return current_app.response_class(status=304)
    data = getattr(error, "data", None) or {}
    headers: dict[str, str] = dict(data.get("headers") or {})
    code: str | None = None
    detail: str | LazyString | None = None
    errors = data.get("errors") or data.get("messages")
    if status == 400 and errors and "json" in errors:
        # webargs reports malformed JSON as a 400 with the parser's message.
        code, detail, errors = "malformed_json", lazy_gettext("The JSON body is malformed."), None
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if status == 429:
        headers.update(breached_limit_headers())
        detail = STATUS_DETAILS[429]
    if status == 422 and errors is None:
        errors = {}
    return problem_response(
        Problem(
            status, code, detail, errors=errors if status in (400, 422) else None, headers=headers
        )
    )


def _handle_problem(problem: Problem) -> Response:
    return problem_response(problem)


def _handle_integrity_error(error: sa_exc.IntegrityError) -> Response:
    from binjai_api.extensions import db

    db.session.rollback()
    log.info("integrity conflict: %s", type(error.orig).__name__)
    return problem_response(
        Problem(409, "conflict", lazy_gettext("This conflicts with an existing record."))
    )


def _handle_database_unavailable(error: Exception) -> Response:
    from binjai_api.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is already gone; the pool will replace it
        log.debug("rollback after a lost connection failed", exc_info=True)
    log.warning("database unavailable: %s", type(error).__name__)
    return problem_response(
        Problem(
            503,
            "database_unavailable",
            STATUS_DETAILS[503],
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    )


def _handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return problem_from_http_exception(error)
    log.exception("unexpected error on %s %s", request.method, request.path)
    try:
        from binjai_api.extensions import db

        db.session.rollback()
    except Exception:
        log.debug("rollback after an unexpected error failed", exc_info=True)
    return problem_response(Problem(500, "internal_error", STATUS_DETAILS[500]))


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, _handle_problem)
    app.register_error_handler(sa_exc.IntegrityError, _handle_integrity_error)
    for exc_class in (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        sa_exc.DisconnectionError,
    ):
        app.register_error_handler(exc_class, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)
    _register_jwt_loaders()


def _register_jwt_loaders() -> None:
    """Every token failure is a 401 with `WWW-Authenticate` (flask-jwt-extended answers 422)."""
    from binjai_api.extensions import jwt

    def reply(code: str, detail: LazyString) -> Response:
        return problem_response(unauthorized(code, detail))

    jwt.unauthorized_loader(
        lambda _reason: reply("missing_token", lazy_gettext("A valid access token is required."))
    )
    jwt.invalid_token_loader(
        lambda _reason: reply("invalid_token", lazy_gettext("The access token is invalid."))
    )
    jwt.expired_token_loader(
        lambda _header, _data: reply("token_expired", lazy_gettext("The access token has expired."))
    )
    jwt.revoked_token_loader(
        lambda _header, _data: reply("token_revoked", lazy_gettext("This session has ended."))
    )
    jwt.user_lookup_error_loader(
        lambda _header, _data: reply("token_revoked", lazy_gettext("This session has ended."))
    )
    jwt.needs_fresh_token_loader(
        lambda _header, _data: reply(
            "fresh_login_required", lazy_gettext("Please log in again to make this change.")
        )
    )
    jwt.token_verification_failed_loader(
        lambda _header, _data: reply("invalid_token", lazy_gettext("The access token is invalid."))
    )
