"""Licensing: reading applications: the detail view, its timeline and next action, and the
applicant's and officers' lists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from binjai_api.agencies import service as agencies_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.db import utcnow
from binjai_api.extensions import db
from binjai_api.licensing.models import (
    Permit,
    PermitApplication,
    PermitBill,
    PermitDocument,
    PermitType,
)
from binjai_api.licensing.workflow import (
    STATUSES,
    Actor,
    Status,
    allowed_actions,
    statuses_waiting_on,
)
from binjai_api.pagination import apply_sort
from binjai_api.privacy import mask_tail

if TYPE_CHECKING:
    from binjai_api.agencies.models import Agency
from binjai_api.licensing.service._common import (
    _agency_actors,
    _documents,
    _is_applicant,
    _load_application,
    _open_corrections,
)

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
