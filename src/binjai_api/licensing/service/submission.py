"""Licensing: the applicant's side: drafting an application, checking its form, submitting it."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.errors import Problem, field_errors
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.licensing.models import (
    Permit,
    PermitApplication,
    PermitType,
)
from binjai_api.licensing.service._common import (
    MISSING_DOCUMENT,
    MISSING_VALUE,
    NEW_VERSION_NEEDED,
    _check_editable,
    _is_applicant,
    _latest_documents,
    _load_application,
    _nested_errors,
    _not_your_step,
    _open_corrections,
    _record,
)
from binjai_api.licensing.service.applications import ApplicationDetail, _detail
from binjai_api.licensing.service.steps import _apply, _transition_or_conflict
from binjai_api.licensing.workflow import (
    Action,
    Actor,
    Status,
)
from binjai_api.numbering import next_in_series
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar import service as workcalendar

# --- numbers -----------------------------------------------------------------------------------


# --- applicants' side --------------------------------------------------------------------------


def _form_value_errors(permit_type: PermitType, values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each value checked against its field's type; unknown fields refused."""
    fields = {f["code"]: f for f in permit_type.form_fields}
    errors: dict[str, list[str]] = {}
    for code, value in values.items():
        spec = fields.get(code)
        if spec is None:
            errors[code] = [gettext("Unknown field.")]
            continue
        if value is None:
            continue
        kind = spec["type"]
        if not _valid_value(kind, value, spec.get("choices") or []):
            errors[code] = [gettext("Not a valid %(type)s value.", type=kind)]
    return errors


def _valid_value(kind: str, value: Any, choices: list[str]) -> bool:
    if kind == "text":
        return isinstance(value, str) and 0 < len(value) <= 2000
    if kind == "number":
        # JSON lets NaN and Infinity through; they are no amount of anything.
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        return _is_iso_date(value)
    if kind == "kelurahan":
        return isinstance(value, str) and regions_service.find_kelurahan(value) is not None
    return isinstance(value, str) and value in choices


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def create_application(
    *,
    principal: Principal,
    permit_type_id: uuid.UUID,
    form_data: dict[str, Any] | None = None,
    replaces_permit_id: uuid.UUID | None = None,
) -> ApplicationDetail:
    """Start a draft application for a permit type."""
    permit_type = db.session.get(PermitType, permit_type_id)
    if permit_type is None or not permit_type.is_active:
        raise field_errors({"permit_type_id": [gettext("Permit type not found.")]})
    form_data = {k: v for k, v in (form_data or {}).items() if v is not None}
    errors = _form_value_errors(permit_type, form_data)
    if errors:
        raise _nested_errors("form_data", errors)
    if replaces_permit_id is not None:
        earlier = db.session.get(Permit, replaces_permit_id)
        if (
            earlier is None
            or earlier.holder_id != principal.id
            or earlier.permit_type_id != permit_type.id
        ):
            raise field_errors(
                {"replaces_permit_id": [gettext("Not one of your permits of this type.")]}
            )
    now = utcnow()
    year = workcalendar.local_date(now).year
    application = PermitApplication(
        number=f"IZN-{year}-{next_in_series(f'application:{year}'):06d}",
        permit_type_id=permit_type.id,
        applicant_id=principal.id,
        replaces_permit_id=replaces_permit_id,
        status=Status.DRAFT,
        form_data=form_data,
    )
    application.permit_type = permit_type
    db.session.add(application)
    db.session.flush()
    _record(
        application, action="create", from_status=None, actor=Actor.APPLICANT, principal=principal
    )
    db.session.commit()
    return _detail(principal, application)


def update_form(
    *, principal: Principal, application_id: uuid.UUID, form_data: dict[str, Any]
) -> ApplicationDetail:
    """Fill in or change form fields (a null removes a value) while the applicant holds the
    application: as a draft or during a correction."""
    application = _load_application(principal, application_id, lock=True)
    _check_editable(principal, application)
    errors = _form_value_errors(application.permit_type, form_data)
    if errors:
        raise _nested_errors("form_data", errors)
    merged = dict(application.form_data or {})
    for code, value in form_data.items():
        if value is None:
            merged.pop(code, None)
        else:
            merged[code] = value
    application.form_data = merged
    db.session.commit()
    return _detail(principal, application)


def _missing(application: PermitApplication) -> dict[str, dict[str, list[str]]]:
    """What keeps the application from being submitted: required fields without a value,
    required documents never uploaded, and documents whose correction is still owed."""
    permit_type = application.permit_type
    values = application.form_data or {}
    fields = {
        spec["code"]: [str(MISSING_VALUE)]
        for spec in permit_type.form_fields
        if spec.get("required") and values.get(spec["code"]) in (None, "")
    }
    latest = _latest_documents(application)
    documents = {
        requirement["code"]: [str(MISSING_DOCUMENT)]
        for requirement in permit_type.document_requirements
        if requirement.get("required") and requirement["code"] not in latest
    }
    for item in _open_corrections(application):
        code = item.get("requirement_code")
        if code and (code not in latest or latest[code].review_status == "rejected"):
            documents[code] = [str(NEW_VERSION_NEEDED)]
    missing = {}
    if fields:
        missing["form_data"] = fields
    if documents:
        missing["documents"] = documents
    return missing


def submit(*, principal: Principal, application_id: uuid.UUID) -> ApplicationDetail:
    """Submit a draft, or resubmit after a correction request, once nothing is missing."""
    application = _load_application(principal, application_id, lock=True)
    if not _is_applicant(principal, application):
        raise _not_your_step()
    action = Action.SUBMIT if application.status == Status.DRAFT else Action.RESUBMIT
    transition = _transition_or_conflict(application, action)
    missing = _missing(application)
    if missing:
        raise Problem(
            422,
            "application_incomplete",
            gettext("The application is incomplete: see the missing fields and documents."),
            errors=missing,
            extra={
                "missing_fields": sorted(missing.get("form_data", {})),
                "missing_documents": sorted(missing.get("documents", {})),
            },
        )
    _apply(application, transition, principal=principal)
    db.session.commit()
    return _detail(principal, application)
