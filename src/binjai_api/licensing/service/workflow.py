"""Licensing: the workflow's transitions as officers and applicants take them."""

from __future__ import annotations

import uuid
from typing import Any

from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import field_errors
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.licensing.models import (
    PermitApplication,
)
from binjai_api.licensing.service._common import (
    REVIEW_RESULTS,
    _agency_actors,
    _is_applicant,
    _latest_documents,
    _load_application,
    _nested_errors,
    _not_your_step,
    _requirement,
)
from binjai_api.licensing.service.applications import ApplicationDetail, _detail
from binjai_api.licensing.service.billing import _issue_bill
from binjai_api.licensing.service.issuance import _issue_permit, _revoke_permit
from binjai_api.licensing.service.steps import _apply, _transition_or_conflict
from binjai_api.licensing.service.submission import submit
from binjai_api.licensing.workflow import (
    Action,
    Actor,
    Status,
)


def transition(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    action: str,
    note: str | None = None,
    corrections: list[dict[str, str]] | None = None,
    correction_days: int | None = None,
    review_result: str | None = None,
) -> ApplicationDetail:
    """Take one step of the workflow; the table in workflow.py says which are allowed, by whom."""
    if action in (Action.SUBMIT, Action.RESUBMIT):
        return submit(principal=principal, application_id=application_id)
    application = _load_application(principal, application_id, lock=True)
    step = _transition_or_conflict(application, Action(action))
    if step.actor == Actor.APPLICANT:
        allowed = _is_applicant(principal, application)
    else:
        allowed = step.actor in _agency_actors(principal, application.permit_type)
    if not allowed:
        raise _not_your_step()
    note = (note or "").strip() or None
    if step.note_required and note is None:
        raise field_errors({"note": [gettext("Give the reason for this step.")]})
    details: dict[str, Any] = {}
    bill = permit = None
    now = utcnow()
    if step.action == Action.REQUEST_CORRECTION:
        details["corrections"] = _request_corrections(application, corrections or [])
    elif step.action == Action.VERIFY:
        _accept_pending_documents(application)
    elif step.action == Action.RECORD_REVIEW:
        if review_result not in REVIEW_RESULTS:
            raise field_errors({"review_result": [gettext("Give the review's result.")]})
        application.technical_review_result = review_result
        details["review_result"] = review_result
    elif step.action == Action.APPROVE and step.to_status == Status.AWAITING_PAYMENT:
        bill = _issue_bill(application, now)
        details.update(payment_code=bill.payment_code, amount_idr=bill.amount_idr)
    elif step.action == Action.ISSUE:
        permit = _issue_permit(application, now)
        details["permit_number"] = permit.permit_number
    elif step.action == Action.REVOKE:
        permit = _revoke_permit(application, note or "", now)
        details["permit_number"] = permit.permit_number
    _apply(
        application,
        step,
        principal=principal,
        note=note,
        details=details,
        # Only a correction request sets the applicant's time; payment keeps the type's.
        applicant_days=correction_days if step.action == Action.REQUEST_CORRECTION else None,
        bill=bill,
        permit=permit,
        now=now,
    )
    if bill is not None:
        bill.due_at = application.action_due_at or bill.due_at
    db.session.commit()
    return _detail(principal, application)


def _request_corrections(
    application: PermitApplication, corrections: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Reject the named documents (each with its reason); the others' latest versions are
    accepted as they are."""
    latest = _latest_documents(application)
    if not corrections:  # the documents the officer already rejected one by one
        corrections = [
            {"requirement_code": code, "reason": document.review_note or ""}
            for code, document in latest.items()
            if document.review_status == "rejected"
        ]
    if not corrections:
        raise field_errors({"corrections": [gettext("Name at least one document to correct.")]})
    permit_type = application.permit_type
    field_codes = {f["code"] for f in permit_type.form_fields}
    errors: dict[str, list[str]] = {}
    named: set[str] = set()
    for item in corrections:
        code = item.get("requirement_code")
        field_code = item.get("field_code")
        if code is not None and _requirement(permit_type, code) is None:
            errors[code] = [gettext("This permit type has no such requirement.")]
        if field_code is not None and field_code not in field_codes:
            errors[field_code] = [gettext("Unknown field.")]
        target = code or field_code or ""
        if target in named:
            errors[target] = [gettext("Name each document or field once.")]
        named.add(target)
    if errors:
        raise _nested_errors("corrections", errors)
    reasons = {
        item["requirement_code"]: item["reason"]
        for item in corrections
        if "requirement_code" in item
    }
    for code, document in latest.items():
        if code in reasons:
            document.review_status = "rejected"
            document.review_note = reasons[code]
        elif document.review_status == "pending":
            document.review_status = "accepted"
    return [{k: v for k, v in item.items() if v is not None} for item in corrections]


def _accept_pending_documents(application: PermitApplication) -> None:
    for document in _latest_documents(application).values():
        if document.review_status == "pending":
            document.review_status = "accepted"
