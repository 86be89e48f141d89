"""Every problem `code` this API can answer, with its status and meaning: one table.

The spec (openapi.py: each error response lists the codes of its status), docs/errors.md
(`python -m binjai_api.errors_catalogue`) and the test that scans the source for raised codes
(tests/platform/test_errors_catalogue.py) all read this table, so none of them drifts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProblemCode:
    code: str
    status: int
    meaning: str


# Codes the error handlers answer for framework errors (routing, parsing, tokens, limits, the
# database), not raised by a literal call of a helper in errors.py: each with the module that
# writes it, where the test finds it as a literal.
FRAMEWORK_CODE_SOURCES: dict[str, str] = {
    "bad_request": "errors.py",
    "malformed_json": "errors.py",
    "method_not_allowed": "errors.py",
    "precondition_failed": "errors.py",
    "payload_too_large": "errors.py",
    "token_expired": "errors.py",
    "missing_token": "errors.py",
    "invalid_token": "errors.py",
    "token_revoked": "errors.py",
    "fresh_login_required": "errors.py",
    "validation_error": "errors.py",
    "rate_limited": "errors.py",
    "internal_error": "errors.py",
    "database_unavailable": "errors.py",
    "not_found": "errors.py",
    "unsupported_media_type": "errors.py",
}

CATALOGUE: tuple[ProblemCode, ...] = (
    # 400
    ProblemCode(
        "bad_request", 400, "The request could not be read (e.g. a broken form or header)."
    ),
    ProblemCode("malformed_json", 400, "The JSON body is not valid JSON."),
    ProblemCode("json_too_deep", 400, "The JSON body nests deeper than allowed."),
    ProblemCode(
        "invalid_idempotency_key", 400, "Idempotency-Key is empty, too long or unprintable."
    ),
    ProblemCode("invalid_search", 400, "A FHIR search parameter is not understood."),
    # 401
    ProblemCode("missing_token", 401, "No access token was sent."),
    ProblemCode("invalid_token", 401, "The access or refresh token is malformed or not ours."),
    ProblemCode("token_expired", 401, "The access token has expired: refresh it."),
    ProblemCode("token_revoked", 401, "The session was ended (logout, password change, reuse)."),
    ProblemCode("refresh_token_reused", 401, "A rotated refresh token was used again."),
    ProblemCode("fresh_login_required", 401, "This change needs a token from a fresh login."),
    ProblemCode("invalid_credentials", 401, "The login or password is wrong."),
    ProblemCode("invalid_client", 401, "The API client id or secret is wrong."),
    ProblemCode("invalid_signature", 401, "A payment callback's signature does not verify."),
    # 403
    ProblemCode("forbidden", 403, "The caller's role or agency may not do this."),
    ProblemCode("invalid_scope", 403, "The API client asked for a scope it was not granted."),
    ProblemCode(
        "anonymous_report", 403, "The reporter chose anonymity: their identity stays hidden."
    ),
    ProblemCode(
        "not_handling_officer", 403, "Only the officer handling the complaint may do this."
    ),
    ProblemCode("not_your_step", 403, "The application's current step belongs to another role."),
    # 404
    ProblemCode("not_found", 404, "No such resource, or the caller may not know it exists."),
    # 405, 406
    ProblemCode("method_not_allowed", 405, "This method is not allowed here (see `Allow`)."),
    ProblemCode("not_acceptable", 406, "The representation asked for in `Accept` is not served."),
    # 409
    ProblemCode("conflict", 409, "The request conflicts with an existing record."),
    ProblemCode("nik_taken", 409, "An account with this NIK exists."),
    ProblemCode("phone_taken", 409, "An account with this phone number exists."),
    ProblemCode("email_taken", 409, "An account with this email address exists."),
    ProblemCode("cannot_change_own_role", 409, "An admin cannot change their own role."),
    ProblemCode("cannot_deactivate_self", 409, "An admin cannot deactivate their own account."),
    ProblemCode("not_staff", 409, "The account is not staff (officer, operator or admin)."),
    ProblemCode("agency_code_taken", 409, "An agency with this code exists."),
    ProblemCode("category_code_taken", 409, "A complaint category with this code exists."),
    ProblemCode(
        "auto_template_exists", 409, "The category already has an automatic reply template."
    ),
    ProblemCode("invalid_transition", 409, "The state machine does not allow this action now."),
    ProblemCode("own_report", 409, "Citizens cannot support their own report."),
    ProblemCode("report_closed", 409, "The report is closed: it takes no more support."),
    ProblemCode("reopen_window_passed", 409, "The time to reopen a resolved complaint has passed."),
    ProblemCode("photo_limit_reached", 409, "The complaint has the maximum number of photos."),
    ProblemCode("already_booked", 409, "The citizen already holds a booking in this session."),
    ProblemCode("quota_full", 409, "The queue session has no places left."),
    ProblemCode("too_many_bookings", 409, "The citizen holds the maximum of open bookings."),
    ProblemCode("session_cancelled", 409, "The queue session was cancelled by the facility."),
    ProblemCode("session_over", 409, "The queue session has ended."),
    ProblemCode("queue_empty", 409, "Nobody is waiting to be called."),
    ProblemCode("not_due_yet", 409, "It is too early for this step of the queue."),
    ProblemCode("not_a_hospital", 409, "Bed availability is kept only for hospitals."),
    ProblemCode("application_not_editable", 409, "The permit application is no longer a draft."),
    ProblemCode(
        "document_review_closed", 409, "The application's documents are no longer reviewed."
    ),
    ProblemCode(
        "not_latest_version", 409, "Only the latest version of a document can be reviewed."
    ),
    ProblemCode("bill_already_paid", 409, "The retribution bill is already paid."),
    ProblemCode("permit_type_code_taken", 409, "A permit type with this code exists."),
    ProblemCode("permit_type_code_in_use", 409, "The permit type has applications: it stays."),
    ProblemCode("day_off_exists", 409, "This date is already a day off in the work calendar."),
    ProblemCode("delivery_not_failed", 409, "Only a failed delivery can be redelivered."),
    ProblemCode("already_following", 409, "The citizen already follows this area."),
    ProblemCode("too_many_areas", 409, "The citizen follows the maximum number of areas."),
    ProblemCode("survey_already_answered", 409, "The satisfaction survey was already answered."),
    ProblemCode("survey_expired", 409, "The satisfaction survey can no longer be answered."),
    ProblemCode("fix_check_answered", 409, "The 'is it fixed?' check was already answered."),
    ProblemCode("fix_check_expired", 409, "The 'is it fixed?' check can no longer be answered."),
    ProblemCode("idempotency_in_flight", 409, "A request with this Idempotency-Key is running."),
    # 412, 413, 415
    ProblemCode("precondition_failed", 412, "The `If-Match` ETag is stale: read it again."),
    ProblemCode("payload_too_large", 413, "The request body is larger than allowed."),
    ProblemCode("file_too_large", 413, "An uploaded file is larger than allowed."),
    ProblemCode("image_too_large", 413, "An image has more pixels than allowed."),
    ProblemCode("unsupported_media_type", 415, "The body's or file's media type is not accepted."),
    # 422
    ProblemCode("validation_error", 422, "Some fields are invalid: see `errors`."),
    ProblemCode("idempotency_key_reuse", 422, "The Idempotency-Key was used with another body."),
    ProblemCode("application_incomplete", 422, "Required documents or fields are missing."),
    ProblemCode("amount_mismatch", 422, "The paid amount differs from the bill."),
    ProblemCode("emergency_stop", 422, "An answer signals an emergency: call 112 instead."),
    ProblemCode("outside_booking_window", 422, "The session is outside the booking window."),
    ProblemCode("service_closed", 422, "The facility's service is closed on that day."),
    # 429, 500, 503
    ProblemCode("rate_limited", 429, "Too many requests: wait `Retry-After` seconds."),
    ProblemCode("internal_error", 500, "A bug on our side; it is logged with the request id."),
    ProblemCode("database_unavailable", 503, "The database is unreachable: retry after a while."),
)

BY_CODE: dict[str, ProblemCode] = {entry.code: entry for entry in CATALOGUE}


def codes_for_status(status: int) -> list[ProblemCode]:
    """The catalogue's codes answered with `status`, in table order."""
    return [entry for entry in CATALOGUE if entry.status == status]


def markdown_table() -> str:
    """docs/errors.md: the catalogue as a table."""
    lines = [
        "# Problem codes",
        "",
        "Every error is RFC 9457 problem details (`application/problem+json`) with a stable",
        "`code`, never translated. This is every code the API answers, generated from",
        "`src/binjai_api/errors_catalogue.py`",
        "(`python -m binjai_api.errors_catalogue > docs/errors.md`). In the OpenAPI document",
        "each error response lists the codes of its status (`x-problem-codes`).",
        "",
        "| Status | Code | Meaning |",
        "| --- | --- | --- |",
    ]
    for entry in sorted(CATALOGUE, key=lambda e: (e.status, e.code)):
        lines.append(f"| {entry.status} | `{entry.code}` | {entry.meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
