"""Licensing (perizinan): permit types, applications and their workflow, levy bills, issued
permits and their public verification. Every function owns its transaction."""

from __future__ import annotations

import calendar
import json
import logging
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from binjai_api import uploads
from binjai_api.agencies import service as agencies_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.db import for_update, utcnow
from binjai_api.errors import STATUS_DETAILS, Problem, conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date, number
from binjai_api.i18n import gettext, lazy_gettext
from binjai_api.licensing import permits, signing
from binjai_api.licensing.models import (
    Permit,
    PermitApplication,
    PermitApplicationEvent,
    PermitBill,
    PermitDocument,
    PermitType,
)
from binjai_api.licensing.workflow import (
    OFFICER_STEPS,
    STATUSES,
    Action,
    Actor,
    Clock,
    Status,
    Step,
    Transition,
    allowed_actions,
    find_transition,
    statuses_waiting_on,
)
from binjai_api.notifications import service as notifications_service
from binjai_api.numbering import next_in_series
from binjai_api.pagination import apply_sort
from binjai_api.privacy import mask_tail
from binjai_api.quality import service as quality_service
from binjai_api.regions import service as regions_service
from binjai_api.webhooks import service as webhooks_service
from binjai_api.webhooks.events import WebhookEventType
from binjai_api.workcalendar import service as workcalendar

if TYPE_CHECKING:
    from binjai_api.agencies.models import Agency

log = logging.getLogger(__name__)

EDITABLE_STATUSES = (
    Status.DRAFT,
    Status.CORRECTION_REQUESTED,
    Status.TECHNICAL_CORRECTION_REQUESTED,
)
REVIEW_RESULTS = ("recommended", "not_recommended")
# A missed deadline reported by the command center: a timeline entry, not a workflow step.
ESCALATE_ACTION = "escalate"
SYSTEM_ACTOR = "system"
FIELD_TYPES = ("text", "number", "date", "boolean", "choice", "kelurahan")
DOCUMENT_REVIEW_STATUSES = ("pending", "accepted", "rejected")
MISSING_VALUE = lazy_gettext("Missing data for required field.")
MISSING_DOCUMENT = lazy_gettext("This document is required.")
NEW_VERSION_NEEDED = lazy_gettext("Upload a corrected version of this document.")


# --- permit types ------------------------------------------------------------------------------

TYPE_SORTABLE = {
    "code": PermitType.code,
    "name": PermitType.name,
    "updated_at": PermitType.updated_at,
}


def permit_types_query(
    *,
    include_inactive: bool = False,
    agency_id: uuid.UUID | None = None,
    updated_after: datetime | None = None,
    sort: str = "code",
) -> sa.Select[Any]:
    """The catalog of permits the city issues."""
    query = sa.select(PermitType)
    if not include_inactive:
        query = query.where(PermitType.is_active.is_(True))
    if agency_id is not None:
        query = query.where(
            sa.or_(
                PermitType.issuing_agency_id == agency_id,
                PermitType.technical_agency_id == agency_id,
            )
        )
    if updated_after is not None:
        query = query.where(PermitType.updated_at > updated_after)
    return apply_sort(query, sort, TYPE_SORTABLE, tiebreaker=PermitType.id)


def get_permit_type(permit_type_id: uuid.UUID, *, lock: bool = False) -> PermitType:
    """A permit type, active or not; `lock`: held until the transaction ends (db.for_update)."""
    permit_type = db.session.get(PermitType, permit_type_id, **for_update(lock, PermitType))
    if permit_type is None:
        raise not_found(gettext("Permit type not found."))
    return permit_type


def _check_permit_type(values: Mapping[str, Any], *, exclude: uuid.UUID | None = None) -> None:
    """Rules across fields that a schema cannot see: agencies exist, codes are free, and a
    technical review has a deadline when there is a technical agency."""
    errors: dict[str, list[str]] = {}
    for name in ("issuing_agency_id", "technical_agency_id"):
        agency_id = values.get(name)
        if agency_id is not None and agencies_service.find_agency(agency_id) is None:
            errors[name] = [gettext("Agency not found.")]
    deadlines = values.get("step_deadlines") or {}
    if values.get("technical_agency_id") and not deadlines.get(Step.TECHNICAL_REVIEW):
        errors["step_deadlines"] = [
            gettext("Give a technical_review deadline for a permit with a technical agency.")
        ]
    if errors:
        raise field_errors(errors)
    code = values.get("code")
    if code is not None:
        query = sa.select(PermitType.id).where(PermitType.code == code)
        if exclude is not None:
            query = query.where(PermitType.id != exclude)
        if db.session.scalar(query) is not None:
            raise conflict("permit_type_code_taken", gettext("This permit type code is taken."))


def create_permit_type(**values: Any) -> PermitType:
    """Add a permit type to the catalog."""
    values["code"] = values["code"].strip().upper()
    _check_permit_type(values)
    permit_type = PermitType(**values)
    db.session.add(permit_type)
    db.session.commit()
    return permit_type


def update_permit_type(*, permit_type_id: uuid.UUID, changes: dict[str, Any]) -> PermitType:
    """Change a permit type. Applications already under way keep the deadlines already set;
    their next steps use the new rules."""
    permit_type = get_permit_type(permit_type_id)
    if "code" in changes:
        changes["code"] = changes["code"].strip().upper()
        # Issued permits carry the code in their number and in their signed verification code.
        if changes["code"] != permit_type.code and db.session.scalar(
            sa.select(Permit.id).where(Permit.permit_type_id == permit_type.id).limit(1)
        ):
            raise conflict(
                "permit_type_code_in_use",
                gettext("Permits of this type have been issued: its code can no longer change."),
            )
    merged = {
        "issuing_agency_id": permit_type.issuing_agency_id,
        "technical_agency_id": permit_type.technical_agency_id,
        "step_deadlines": permit_type.step_deadlines,
        **changes,
    }
    _check_permit_type({**merged, "code": changes.get("code")}, exclude=permit_type.id)
    for name, value in changes.items():
        setattr(permit_type, name, value)
    db.session.commit()
    return permit_type


# --- who may see and do what -------------------------------------------------------------------


def _agency_actors(principal: Principal, permit_type: PermitType) -> set[Actor]:
    """The agency roles an officer holds for applications of this permit type."""
    if principal.role != Role.OFFICER or principal.agency_id is None:
        return set()
    actors = set()
    if principal.agency_id == permit_type.issuing_agency_id:
        actors.add(Actor.ISSUING_AGENCY)
    if principal.agency_id == permit_type.technical_agency_id:
        actors.add(Actor.TECHNICAL_AGENCY)
    return actors


def _is_applicant(principal: Principal, application: PermitApplication) -> bool:
    return principal.role == Role.CITIZEN and principal.id == application.applicant_id


def _can_see(principal: Principal, application: PermitApplication) -> bool:
    if _is_applicant(principal, application):
        return True
    if application.status == Status.DRAFT:
        return False  # a draft is the applicant's alone
    if principal.role in (Role.OPERATOR, Role.ADMIN):
        return True  # the Command Center watches every service (read only)
    return bool(_agency_actors(principal, application.permit_type))


def _not_your_step() -> Problem:
    return Problem(
        403, "not_your_step", gettext("This step belongs to another party of the application.")
    )


def _load_application(
    principal: Principal, application_id: uuid.UUID, *, lock: bool = False
) -> PermitApplication:
    """The application if this caller may see it; otherwise 404, its existence being private."""
    query = sa.select(PermitApplication).where(PermitApplication.id == application_id)
    if lock:
        query = query.with_for_update(of=PermitApplication).execution_options(
            populate_existing=True
        )
    application = db.session.scalar(query)
    if application is None or not _can_see(principal, application):
        raise not_found(gettext("Permit application not found."))
    return application


# --- views -------------------------------------------------------------------------------------


def _agency(agency_id: uuid.UUID | None) -> Agency | None:
    """An agency, held for the rest of the session: the identity map keeps objects only weakly,
    so a list page would otherwise ask for the same agency once per item."""
    if agency_id is None:
        return None
    held: dict[uuid.UUID, Agency | None] = db.session.info.setdefault("licensing_agencies", {})
    if agency_id not in held:
        held[agency_id] = agencies_service.find_agency(agency_id)
    return held[agency_id]


@dataclass(frozen=True)
class NextAction:
    """Who must act next on an application, and by when."""

    actor: str | None
    agency_id: uuid.UUID | None
    agency_code: str | None
    due_at: datetime | None
    overdue: bool
    clock: str
    actions: list[dict[str, str]]


def next_action(application: PermitApplication, now: datetime | None = None) -> NextAction:
    """Who must act next on the application, by when, and which steps are open to them."""
    rule = STATUSES[Status(application.status)]
    agency_id = None
    if rule.waiting_on == Actor.ISSUING_AGENCY:
        agency_id = application.permit_type.issuing_agency_id
    elif rule.waiting_on == Actor.TECHNICAL_AGENCY:
        agency_id = application.permit_type.technical_agency_id
    agency = _agency(agency_id)
    due_at = application.action_due_at
    return NextAction(
        actor=str(rule.waiting_on) if rule.waiting_on else None,
        agency_id=agency_id,
        agency_code=agency.code if agency else None,
        due_at=due_at,
        overdue=due_at is not None and due_at < (now or utcnow()),
        clock=str(rule.clock),
        actions=[
            {"action": str(t.action), "actor": str(t.actor)}
            for t in allowed_actions(application)
            if t.actor != Actor.PAYMENT_GATEWAY
        ],
    )


@dataclass
class ApplicationDetail:
    """An application with everything its page shows: applicant, documents, timeline, bill,
    permit and the open correction request."""

    application: PermitApplication
    applicant: dict[str, Any]
    form_data: dict[str, Any]
    documents: list[PermitDocument]
    timeline: list[dict[str, Any]]
    bill: PermitBill | None
    permit: Permit | None
    open_corrections: list[dict[str, Any]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.application, name)


def _entitled_to_personal_data(principal: Principal, application: PermitApplication) -> bool:
    """The applicant and the officers handling the case; not the Command Center (UU 27/2022)."""
    return _is_applicant(principal, application) or bool(
        _agency_actors(principal, application.permit_type)
    )


def _form_view(principal: Principal, application: PermitApplication) -> dict[str, Any]:
    """The form as filled in; for those not entitled, free-text answers (addresses, registration
    numbers) are masked."""
    values = dict(application.form_data or {})
    if _entitled_to_personal_data(principal, application):
        return values
    text_fields = {f["code"] for f in application.permit_type.form_fields if f["type"] == "text"}
    return {
        code: mask_tail(value) if code in text_fields and isinstance(value, str) else value
        for code, value in values.items()
    }


def _applicant_view(principal: Principal, application: PermitApplication) -> dict[str, Any]:
    """The applicant's identity: in full for themself and the officers handling the case,
    masked for the Command Center (UU 27/2022)."""
    user = auth_service.get_user(application.applicant_id)
    entitled = _entitled_to_personal_data(principal, application)
    return {
        "id": user.id,
        "full_name": user.full_name,
        "nik": user.nik if entitled else mask_tail(user.nik),
        "phone": user.phone if entitled else mask_tail(user.phone),
    }


def timeline(application: PermitApplication) -> list[dict[str, Any]]:
    """Every step of an application, oldest first, with its actor and reason. The events come
    from `application.events`, which list queries load for the whole page at once."""
    rows = []
    for event in application.events:
        agency = _agency(event.actor_agency_id)
        rows.append(
            {
                "action": event.action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "actor": event.actor_kind,
                "actor_agency_code": agency.code if agency else None,
                "note": event.note,
                "details": event.details or {},
                "created_at": event.created_at,
            }
        )
    return rows


def _open_corrections(application: PermitApplication) -> list[dict[str, Any]]:
    if application.status not in (
        Status.CORRECTION_REQUESTED,
        Status.TECHNICAL_CORRECTION_REQUESTED,
    ):
        return []
    event = _last_correction_request(application.id)
    return list(event.details.get("corrections", [])) if event else []


def _last_correction_request(application_id: uuid.UUID) -> PermitApplicationEvent | None:
    return db.session.scalar(
        sa.select(PermitApplicationEvent)
        .where(
            PermitApplicationEvent.application_id == application_id,
            PermitApplicationEvent.action == Action.REQUEST_CORRECTION,
        )
        .order_by(PermitApplicationEvent.created_at.desc(), PermitApplicationEvent.id.desc())
        .limit(1)
    )


def _documents(application_id: uuid.UUID) -> list[PermitDocument]:
    return list(
        db.session.scalars(
            sa.select(PermitDocument)
            .where(PermitDocument.application_id == application_id)
            .order_by(PermitDocument.requirement_code, PermitDocument.version)
        )
    )


def _latest_documents(application: PermitApplication) -> dict[str, PermitDocument]:
    """The newest version of each requirement's document."""
    latest: dict[str, PermitDocument] = {}
    for document in _documents(application.id):
        latest[document.requirement_code] = document
    return latest


def _detail(principal: Principal, application: PermitApplication) -> ApplicationDetail:
    return ApplicationDetail(
        application=application,
        applicant=_applicant_view(principal, application),
        form_data=_form_view(principal, application),
        documents=_documents(application.id),
        timeline=timeline(application),
        bill=db.session.scalar(
            sa.select(PermitBill).where(PermitBill.application_id == application.id)
        ),
        permit=db.session.scalar(sa.select(Permit).where(Permit.application_id == application.id)),
        open_corrections=_open_corrections(application),
    )


def _record_staff_access(principal: Principal, application: PermitApplication) -> None:
    """Staff shown an applicant's identity (in full only to the officers handling the case):
    one audit record. The applicant reading their own is not recorded."""
    if _is_applicant(principal, application):
        return
    fields = ["applicant.full_name"]
    if _entitled_to_personal_data(principal, application):
        fields += ["applicant.nik", "applicant.phone", "form_data"]
    audit_service.record_access(
        object_type=PermitApplication.__tablename__, object_ids=[application.id], fields=fields
    )


def get_application(
    *, principal: Principal, application_id: uuid.UUID, lock: bool = False
) -> ApplicationDetail:
    """An application with its status, timeline, documents and who acts next; `lock`: the
    application's row held until the transaction ends (db.for_update)."""
    application = _load_application(principal, application_id, lock=lock)
    detail = _detail(principal, application)
    _record_staff_access(principal, application)
    return detail


# --- lists -------------------------------------------------------------------------------------

APPLICATION_SORTABLE = {
    "action_due_at": PermitApplication.action_due_at,
    "submitted_at": PermitApplication.submitted_at,
    "updated_at": PermitApplication.updated_at,
    "number": PermitApplication.number,
}


def _filtered(
    query: sa.Select[Any],
    *,
    status: str | None = None,
    step: str | None = None,
    permit_type_id: uuid.UUID | None = None,
    overdue: bool | None = None,
    updated_after: datetime | None = None,
) -> sa.Select[Any]:
    if status is not None:
        query = query.where(PermitApplication.status == status)
    if step is not None:
        query = query.where(
            PermitApplication.status.in_([s for s, rule in STATUSES.items() if rule.step == step])
        )
    if permit_type_id is not None:
        query = query.where(PermitApplication.permit_type_id == permit_type_id)
    if overdue is not None:
        late = sa.and_(
            PermitApplication.action_due_at.is_not(None),
            PermitApplication.action_due_at < utcnow(),
        )
        query = query.where(late if overdue else sa.not_(late))
    if updated_after is not None:
        query = query.where(PermitApplication.updated_at > updated_after)
    return query


def my_applications_query(
    *, principal: Principal, sort: str = "-updated_at", **filters: Any
) -> sa.Select[Any]:
    """The caller's own applications."""
    query = (
        sa.select(PermitApplication)
        .where(PermitApplication.applicant_id == principal.id)
        .options(selectinload(PermitApplication.events))  # each item shows its timeline
    )
    query = _filtered(query, **filters)
    return apply_sort(query, sort, APPLICATION_SORTABLE, tiebreaker=PermitApplication.id)


def work_queue_query(
    *,
    principal: Principal,
    waiting_on_my_agency: bool = False,
    sort: str = "action_due_at",
    **filters: Any,
) -> sa.Select[Any]:
    """Submitted applications an officer's agency handles (all of them for the Command Center),
    soonest deadline first."""
    query = (
        sa.select(PermitApplication)
        .join(PermitType, PermitType.id == PermitApplication.permit_type_id)
        .where(PermitApplication.status != Status.DRAFT)
    )
    if principal.role == Role.OFFICER:
        issuing = PermitType.issuing_agency_id == principal.agency_id
        technical = PermitType.technical_agency_id == principal.agency_id
        query = query.where(sa.or_(issuing, technical))
        if waiting_on_my_agency:
            query = query.where(
                sa.or_(
                    sa.and_(
                        issuing,
                        PermitApplication.status.in_(statuses_waiting_on(Actor.ISSUING_AGENCY)),
                    ),
                    sa.and_(
                        technical,
                        PermitApplication.status.in_(statuses_waiting_on(Actor.TECHNICAL_AGENCY)),
                    ),
                )
            )
    query = _filtered(query, **filters)
    return apply_sort(query, sort, APPLICATION_SORTABLE, tiebreaker=PermitApplication.id)


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


def _nested_errors(name: str, errors: dict[str, list[str]]) -> Problem:
    """A 422 naming the entries at fault inside one field: {"json": {name: {code: [...]}}}."""
    return Problem(422, "validation_error", STATUS_DETAILS[422], errors={"json": {name: errors}})


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


def _check_editable(principal: Principal, application: PermitApplication) -> None:
    if not _is_applicant(principal, application):
        raise not_found(gettext("Permit application not found."))
    if application.status not in EDITABLE_STATUSES:
        raise conflict(
            "application_not_editable",
            gettext("This application can only be changed as a draft or during a correction."),
        )


def _requirement(permit_type: PermitType, code: str) -> dict[str, Any] | None:
    return next((r for r in permit_type.document_requirements if r["code"] == code), None)


def upload_document(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    requirement_code: str,
    file: FileStorage | None,
) -> PermitDocument:
    """Add a document for one requirement; a re-upload adds a new version, the old ones stay."""
    application = _load_application(principal, application_id, lock=True)
    _check_editable(principal, application)
    requirement = _requirement(application.permit_type, requirement_code)
    if requirement is None:
        raise field_errors(
            {"requirement_code": [gettext("This permit type has no such requirement.")]},
            location="files",
        )
    checked = uploads.check_upload(
        file, accepted=requirement["accepted_types"], max_bytes=requirement["max_size_bytes"]
    )
    latest = db.session.scalar(
        sa.select(sa.func.max(PermitDocument.version)).where(
            PermitDocument.application_id == application.id,
            PermitDocument.requirement_code == requirement_code,
        )
    )
    key = uploads.store(checked.content)
    try:
        document = PermitDocument(
            application_id=application.id,
            requirement_code=requirement_code,
            version=(latest or 0) + 1,
            storage_key=key,
            sha256=checked.sha256,
            media_type=checked.media_type,
            size_bytes=checked.size,
            original_filename=checked.original_filename,
        )
        db.session.add(document)
        db.session.flush()
        _record(
            application,
            action="upload_document",
            from_status=application.status,
            actor=Actor.APPLICANT,
            principal=principal,
            details={
                "requirement_code": requirement_code,
                "version": document.version,
                "sha256": checked.sha256,
            },
        )
        application.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        uploads.delete_stored(key)
        raise
    return document


def document_content(
    *, principal: Principal, application_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[PermitDocument, bytes]:
    """A document's bytes, for the applicant and the officers handling the case."""
    application = _load_application(principal, application_id)
    document = db.session.get(PermitDocument, document_id)
    if document is None or document.application_id != application.id:
        raise not_found(gettext("Document not found."))
    content = uploads.read_stored(document.storage_key)
    if not _is_applicant(principal, application):
        audit_service.record_access(
            object_type=PermitDocument.__tablename__, object_ids=[document.id], fields=["content"]
        )
    return document, content


def review_document(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    review_status: str,
    note: str | None = None,
) -> PermitDocument:
    """Accept or reject one document during the agency's step; a correction request then sends
    the rejected ones back to the applicant with their reasons."""
    application = _load_application(principal, application_id, lock=True)
    waiting_on = STATUSES[Status(application.status)].waiting_on
    if STATUSES[Status(application.status)].clock != Clock.RUNNING or waiting_on is None:
        raise conflict(
            "document_review_closed",
            gettext("Documents are reviewed only while an agency works on the application."),
        )
    if waiting_on not in _agency_actors(principal, application.permit_type):
        raise _not_your_step()
    document = db.session.get(PermitDocument, document_id)
    if document is None or document.application_id != application.id:
        raise not_found(gettext("Document not found."))
    if _latest_documents(application)[document.requirement_code].id != document.id:
        raise conflict(
            "not_latest_version", gettext("Only the latest version of a document is reviewed.")
        )
    note = (note or "").strip() or None
    if review_status == "rejected" and note is None:
        raise field_errors({"note": [gettext("Give the reason for this step.")]})
    document.review_status = review_status
    document.review_note = note
    _record(
        application,
        action="review_document",
        from_status=application.status,
        actor=waiting_on,
        principal=principal,
        note=note,
        details={
            "requirement_code": document.requirement_code,
            "version": document.version,
            "review_status": review_status,
        },
    )
    application.updated_at = utcnow()
    db.session.commit()
    return document


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


# --- the workflow ------------------------------------------------------------------------------


def _transition_or_conflict(application: PermitApplication, action: Action) -> Transition:
    transition = find_transition(application, action)
    if transition is None:
        raise conflict(
            "invalid_transition",
            gettext(
                "An application that is %(status)s cannot be %(action)s.",
                status=application.status,
                action=action,
            ),
        )
    return transition


def _record(
    application: PermitApplication,
    *,
    action: str,
    from_status: str | None,
    actor: Actor,
    principal: Principal | None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.session.add(
        PermitApplicationEvent(
            application_id=application.id,
            action=action,
            from_status=from_status,
            to_status=application.status,
            actor_id=principal.id if principal else None,
            actor_kind=str(actor),
            actor_agency_id=principal.agency_id if principal else None,
            note=note,
            details=details or {},
        )
    )


def record_escalation(
    *, application_id: uuid.UUID, step: str, deadline: datetime, at: datetime
) -> bool:
    """Write "escalated" in an application's timeline, in the caller's transaction (the command
    center's escalation job). The application is locked and checked first: if its step or
    deadline changed since the job read it, nothing is written and False returned."""
    application = db.session.scalar(
        sa.select(PermitApplication)
        .where(PermitApplication.id == application_id)
        .with_for_update(of=PermitApplication)
    )
    if application is None or application.action_due_at != deadline:
        return False
    rule = STATUSES.get(Status(application.status))
    if rule is None or rule.step is None or str(rule.step) != step:
        return False
    application.updated_at = at  # the app's sync (`updated_after`) picks up the new entry
    db.session.add(
        PermitApplicationEvent(
            application_id=application.id,
            action=ESCALATE_ACTION,
            from_status=application.status,
            to_status=application.status,
            actor_id=None,
            actor_kind=SYSTEM_ACTOR,
            details={"step": step, "deadline": deadline.isoformat().replace("+00:00", "Z")},
            created_at=at,
        )
    )
    return True


def _step_days(permit_type: PermitType, step: Step) -> int:
    return int(permit_type.step_deadlines.get(step, 0))


def _sla_days(permit_type: PermitType) -> int:
    steps = [
        step
        for step in OFFICER_STEPS
        if step != Step.TECHNICAL_REVIEW or permit_type.technical_agency_id is not None
    ]
    return sum(_step_days(permit_type, step) for step in steps)


def _run_clock(
    application: PermitApplication,
    transition: Transition,
    now: datetime,
    *,
    applicant_days: int | None,
) -> None:
    """Deadlines in working days (workcalendar): a new officer step gets its own deadline; a
    resubmission resumes the step that asked, extended by the working days spent waiting on the
    applicant; a pause (corrections, an unpaid bill) stops the clock and gives the applicant a
    deadline instead."""
    permit_type = application.permit_type
    old = STATUSES[transition.from_status]
    new = STATUSES[transition.to_status]
    if new.clock == Clock.RUNNING:
        assert new.step is not None
        paused_at = application.paused_at if old.clock == Clock.PAUSED else None
        if paused_at and transition.resumes_step and application.step_due_at is not None:
            application.step_due_at = workcalendar.extend_by_pause(
                application.step_due_at, paused_at, now
            )
        else:
            application.step_due_at = workcalendar.add_working_days(
                now, _step_days(permit_type, new.step)
            )
        if application.sla_due_at is None:
            application.sla_due_at = workcalendar.add_working_days(now, _sla_days(permit_type))
        elif paused_at:
            application.sla_due_at = workcalendar.extend_by_pause(
                application.sla_due_at, paused_at, now
            )
        application.paused_at = None
        application.action_due_at = application.step_due_at
    elif new.clock == Clock.PAUSED:
        assert new.step is not None
        application.paused_at = now
        days = applicant_days if applicant_days is not None else _step_days(permit_type, new.step)
        application.action_due_at = workcalendar.add_working_days(now, days)
    else:
        application.action_due_at = None
        application.step_due_at = None


def _notification_params(
    application: PermitApplication,
    *,
    reason: str | None = None,
    bill: PermitBill | None = None,
    permit: Permit | None = None,
) -> dict[str, str]:
    """The texts' parameters; names, dates and amounts written in each reader's language."""
    permit_type = application.permit_type
    due = application.action_due_at
    due_day = workcalendar.local_date(due) if due else None
    return {
        "number": application.number,
        **in_each_language(
            "permit_type",
            lambda language: permit_type.name_en if language == "en" else permit_type.name,
        ),
        "reason": reason or "",
        **in_each_language(
            "due_date", lambda language: long_date(due_day, language) if due_day else ""
        ),
        **in_each_language(
            "amount", lambda language: number(bill.amount_idr, language) if bill else ""
        ),
        "payment_code": bill.payment_code if bill else "",
        "permit_number": permit.permit_number if permit else "",
    }


def _notification_link(
    application: PermitApplication, permit: Permit | None
) -> notifications_service.Link:
    """What the notification opens: the permit once there is one, else the application."""
    if permit is not None:
        return notifications_service.Link("permits", str(permit.id))
    return notifications_service.Link("permit-applications", str(application.id))


def _apply(
    application: PermitApplication,
    transition: Transition,
    *,
    principal: Principal | None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    applicant_days: int | None = None,
    bill: PermitBill | None = None,
    permit: Permit | None = None,
    now: datetime | None = None,
) -> None:
    """Move the application along one transition: status, clock, audit row and the applicant's
    notification, in the caller's transaction."""
    now = now or utcnow()
    from_status = application.status
    _run_clock(application, transition, now, applicant_days=applicant_days)
    application.status = transition.to_status
    application.updated_at = now
    application.status_reason = note if transition.note_required else None
    if transition.action == Action.SUBMIT:
        application.submitted_at = now
    if transition.action in (Action.APPROVE, Action.REJECT):
        application.decided_at = now
    _record(
        application,
        action=str(transition.action),
        from_status=from_status,
        actor=transition.actor,
        principal=principal,
        note=note,
        details=details,
    )
    notifications_service.notify(
        recipients=[application.applicant_id],
        kind=transition.notification,
        params=_notification_params(application, reason=note, bill=bill, permit=permit),
        link=_notification_link(application, permit),
    )
    _publish(application, from_status, permit)
    if transition.to_status in (Status.ISSUED, Status.REJECTED):
        _invite_to_survey(application, now)


def _publish(application: PermitApplication, from_status: str, permit: Permit | None) -> None:
    """The step's events to integrators' webhooks: the status change, and an issued or revoked
    permit."""
    webhooks_service.emit(
        WebhookEventType.PERMIT_APPLICATION_STATUS_CHANGED,
        application,
        previous_status=from_status,
    )
    if permit is not None and application.status == Status.ISSUED:
        webhooks_service.emit(WebhookEventType.PERMIT_ISSUED, permit)
    elif permit is not None and application.status == Status.REVOKED:
        webhooks_service.emit(WebhookEventType.PERMIT_REVOKED, permit)


def _invite_to_survey(application: PermitApplication, decided_at: datetime) -> None:
    """The service ended (issued or refused; a withdrawal is not rated): the SKM survey of the
    permit type, to the applicant."""
    permit_type = application.permit_type
    quality_service.invite(
        user_id=application.applicant_id,
        service_kind="permit",
        service_id=application.id,
        agency_id=permit_type.issuing_agency_id,
        service_key=permit_type.code,
        service_name=permit_type.name,
        service_name_en=permit_type.name_en,
        reference=application.number,
        ended_at=decided_at,
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


# --- levy --------------------------------------------------------------------------------------


def _issue_bill(application: PermitApplication, now: datetime) -> PermitBill:
    """The SKRD: the levy at approval time, with a payment code for the bank or QRIS."""
    year = workcalendar.local_date(now).year
    sequence = next_in_series(f"bill:{year}")
    bill = PermitBill(
        application_id=application.id,
        payment_code=f"1275{year % 100:02d}{sequence:08d}",
        amount_idr=int(application.permit_type.levy_idr or 0),
        status="unpaid",
        due_at=now,  # set from the payment step's deadline once the clock has run
    )
    db.session.add(bill)
    return bill


@dataclass(frozen=True)
class PaymentResult:
    payment_code: str
    status: str
    amount_idr: int
    reference: str
    paid_at: datetime
    application_id: uuid.UUID
    application_number: str


def check_payment_signature(*, body: bytes, signature: str | None) -> None:
    """The callback must carry the HMAC-SHA256 of its raw body with the gateway's secret; it is
    checked before the body is even parsed."""
    if not signing.payment_signature_valid(body, signature):
        raise Problem(
            401,
            "invalid_signature",
            gettext("The callback's signature is missing or wrong."),
            headers={"WWW-Authenticate": 'HMAC-SHA256 realm="binjai-payments"'},
        )


def record_payment(
    *,
    payment_code: str,
    amount_idr: int,
    reference: str,
    paid_at: datetime | None = None,
    channel: str | None = None,
) -> PaymentResult:
    """The gateway's callback: mark the bill paid once and resume the clock. A replay of the
    same payment answers the same; another payment of a paid bill is a conflict."""
    bill = db.session.scalar(
        sa.select(PermitBill).where(PermitBill.payment_code == payment_code).with_for_update()
    )
    if bill is None:
        raise not_found(gettext("No bill has this payment code."))
    application = db.session.scalar(
        sa.select(PermitApplication)
        .where(PermitApplication.id == bill.application_id)
        .with_for_update(of=PermitApplication)
    )
    assert application is not None
    if bill.status == "paid":
        if bill.payment_reference != reference or bill.amount_idr != amount_idr:
            raise conflict("bill_already_paid", gettext("This bill has already been paid."))
        return _payment_result(bill, application)
    if amount_idr != bill.amount_idr:
        raise Problem(
            422,
            "amount_mismatch",
            gettext("The amount paid must equal the bill exactly."),
            extra={"expected_amount_idr": bill.amount_idr},
        )
    step = _transition_or_conflict(application, Action.CONFIRM_PAYMENT)
    now = utcnow()
    bill.status = "paid"
    bill.paid_at = paid_at or now
    bill.payment_reference = reference
    bill.payment_channel = channel
    _apply(
        application,
        step,
        principal=None,
        details={"payment_code": payment_code, "amount_idr": amount_idr, "reference": reference},
        bill=bill,
        now=now,
    )
    db.session.commit()
    return _payment_result(bill, application)


def _payment_result(bill: PermitBill, application: PermitApplication) -> PaymentResult:
    assert bill.paid_at is not None and bill.payment_reference is not None
    return PaymentResult(
        payment_code=bill.payment_code,
        status=bill.status,
        amount_idr=bill.amount_idr,
        reference=bill.payment_reference,
        paid_at=bill.paid_at,
        application_id=application.id,
        application_number=application.number,
    )


# --- permits -----------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _issue_permit(application: PermitApplication, now: datetime) -> Permit:
    """Number, validity and signed verification code of the permit."""
    permit_type = application.permit_type
    agency = agencies_service.get_agency(permit_type.issuing_agency_id)
    valid_from = workcalendar.local_date(now)
    valid_until = _add_months(valid_from, permit_type.validity_months) - timedelta(days=1)
    sequence = next_in_series(f"permit:{permit_type.code}:{valid_from.year}")
    number = f"{permit_type.code}/{sequence:05d}/{agency.code}/{valid_from.year}"
    permit = Permit(
        id=uuid.uuid4(),
        application_id=application.id,
        permit_type_id=permit_type.id,
        holder_id=application.applicant_id,
        permit_number=number,
        issued_at=now,
        valid_from=valid_from,
        valid_until=valid_until,
        status="active",
    )
    permit.permit_type = permit_type
    permit.verification_code = permits.code_of(permit)
    db.session.add(permit)
    if application.replaces_permit_id is not None:
        earlier = db.session.get(Permit, application.replaces_permit_id)
        if earlier is not None and earlier.replaced_by_id is None:
            db.session.flush()
            earlier.replaced_by_id = permit.id
    return permit


def _revoke_permit(application: PermitApplication, reason: str, now: datetime) -> Permit:
    permit = db.session.scalar(sa.select(Permit).where(Permit.application_id == application.id))
    assert permit is not None
    permit.status = "revoked"
    permit.revoked_at = now
    permit.revocation_reason = reason
    return permit


PERMIT_SORTABLE = {
    "issued_at": Permit.issued_at,
    "valid_until": Permit.valid_until,
    "updated_at": Permit.updated_at,
}


def my_permits_query(
    *, principal: Principal, updated_after: datetime | None = None, sort: str = "-issued_at"
) -> sa.Select[Any]:
    """The caller's permits, newest first."""
    query = sa.select(Permit).where(Permit.holder_id == principal.id)
    if updated_after is not None:
        query = query.where(Permit.updated_at > updated_after)
    return apply_sort(query, sort, PERMIT_SORTABLE, tiebreaker=Permit.id)


# --- demo data ---------------------------------------------------------------------------------


def seed_demo_permit_types() -> int:
    """Add the demo permit types (seed/permit_types.json) that are missing; returns how many."""
    text = resources.files("binjai_api").joinpath("seed/permit_types.json").read_text("utf-8")
    return _seed_permit_types(json.loads(text)["permit_types"])


def _seed_permit_types(entries: Iterable[Mapping[str, Any]]) -> int:
    added = 0
    for entry in entries:
        values = dict(entry)
        if db.session.scalar(sa.select(PermitType.id).where(PermitType.code == values["code"])):
            continue
        for name in ("issuing_agency", "technical_agency"):
            code = values.pop(f"{name}_code", None)
            values[f"{name}_id"] = _agency_id_by_code(code) if code else None
        create_permit_type(**values, is_demo=True)
        added += 1
    return added


def _agency_id_by_code(code: str) -> uuid.UUID:
    for agency in db.session.scalars(agencies_service.agencies_query(include_inactive=True)):
        if agency.code == code:
            return agency.id
    raise ValueError(f"demo permit types need the agency {code}; seed the agencies first")
