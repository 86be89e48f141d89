"""The events integrators may subscribe to, the scope each needs, and each event's `data`.

CONVENTIONS (Webhooks): event names are `<object>.<verb_past>` and `data` is the object's public
view for the client's scopes. Every view here is a whitelist of public fields: never a resident's
name, NIK, phone, e-mail or address, never an account id. An event is only delivered to a client
that holds its scope (when subscribing and again at each delivery), so a client whose scope was
withdrawn stops receiving its data at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from binjai_api.auth.enums import ApiScope


class WebhookEventType(StrEnum):
    COMPLAINT_CREATED = "complaint.created"
    COMPLAINT_STATUS_CHANGED = "complaint.status_changed"
    PERMIT_APPLICATION_STATUS_CHANGED = "permit_application.status_changed"
    PERMIT_ISSUED = "permit.issued"
    PERMIT_REVOKED = "permit.revoked"
    QUEUE_SESSION_CANCELLED = "queue_session.cancelled"
    DEADLINE_MISSED = "deadline.missed"


# The scope a client must hold to subscribe to, and to receive, each event type.
REQUIRED_SCOPE: Mapping[str, ApiScope] = {
    WebhookEventType.COMPLAINT_CREATED: ApiScope.COMPLAINTS_READ,
    WebhookEventType.COMPLAINT_STATUS_CHANGED: ApiScope.COMPLAINTS_READ,
    WebhookEventType.PERMIT_APPLICATION_STATUS_CHANGED: ApiScope.PERMITS_VERIFY,
    WebhookEventType.PERMIT_ISSUED: ApiScope.PERMITS_VERIFY,
    WebhookEventType.PERMIT_REVOKED: ApiScope.PERMITS_VERIFY,
    WebhookEventType.QUEUE_SESSION_CANCELLED: ApiScope.FACILITIES_READ,
    WebhookEventType.DEADLINE_MISSED: ApiScope.OPS_READ,
}


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _code(related: Any) -> str | None:
    return getattr(related, "code", None) if related is not None else None


def complaint_view(complaint: Any, *, previous_status: str | None = None) -> dict[str, Any]:
    """A report as the public feed shows it; a confidential (rahasia) report shows only its
    reference, category, agency and status, as it is hidden from the public."""
    view: dict[str, Any] = {
        "id": str(complaint.id),
        "tracking_number": complaint.tracking_number,
        "type": complaint.type,
        "category_code": _code(complaint.category),
        "agency_code": _code(complaint.agency),
        "status": complaint.status,
        **({"previous_status": previous_status} if previous_status else {}),
        "due_at": rfc3339(complaint.due_at),
        "created_at": rfc3339(complaint.created_at),
        "updated_at": rfc3339(complaint.updated_at),
    }
    if complaint.privacy == "confidential":
        return {**view, "confidential": True}
    return {
        **view,
        "confidential": False,
        "title": complaint.title,
        "lat": complaint.lat,
        "lon": complaint.lon,
        "kelurahan_code": complaint.kelurahan_code,
        "kecamatan_code": complaint.kecamatan_code,
        "resolved_at": rfc3339(complaint.resolved_at),
    }


def permit_application_view(
    application: Any, *, previous_status: str | None = None
) -> dict[str, Any]:
    """An application's reference, type and progress; never the applicant or the form."""
    return {
        "id": str(application.id),
        "number": application.number,
        "permit_type_code": _code(application.permit_type),
        "status": application.status,
        "previous_status": previous_status,
        "submitted_at": rfc3339(application.submitted_at),
        "decided_at": rfc3339(application.decided_at),
        "updated_at": rfc3339(application.updated_at),
    }


def permit_view(permit: Any) -> dict[str, Any]:
    """What the public verification page says of a permit, without its holder."""
    return {
        "id": str(permit.id),
        "permit_number": permit.permit_number,
        "permit_type_code": _code(permit.permit_type),
        "application_id": str(permit.application_id),
        "status": permit.status,
        "issued_at": rfc3339(permit.issued_at),
        "valid_from": _day(permit.valid_from),
        "valid_until": _day(permit.valid_until),
        "revoked_at": rfc3339(permit.revoked_at),
    }


def queue_session_view(
    facility: Any, *, service: Any, day: date, reason: str, cancelled_bookings: int
) -> dict[str, Any]:
    """A poli's cancelled session day, as the facility directory shows it; no patient."""
    return {
        "facility_id": str(facility.id),
        "facility_name": facility.name,
        "service_id": str(service.id),
        "service_code": service.code,
        "service_name": service.name,
        "date": day.isoformat(),
        "reason": reason,
        "cancelled_bookings": cancelled_bookings,
    }


def deadline_view(item: Any) -> dict[str, Any]:
    """A missed deadline as the command center's overdue list shows it (ops:read)."""
    return {
        "item_type": str(item.item_type),
        "item_id": str(item.item_id),
        "reference": item.reference,
        "title": item.title,
        "agency_id": str(item.agency_id) if item.agency_id else None,
        "step": item.step,
        "waiting_on": str(item.waiting_on),
        "due_at": rfc3339(item.due_at),
        "link": item.link,
    }


# Each event's view of its subject (the object the domain passes to `service.emit`).
VIEWS: Mapping[str, Callable[..., dict[str, Any]]] = {
    WebhookEventType.COMPLAINT_CREATED: complaint_view,
    WebhookEventType.COMPLAINT_STATUS_CHANGED: complaint_view,
    WebhookEventType.PERMIT_APPLICATION_STATUS_CHANGED: permit_application_view,
    WebhookEventType.PERMIT_ISSUED: permit_view,
    WebhookEventType.PERMIT_REVOKED: permit_view,
    WebhookEventType.QUEUE_SESSION_CANCELLED: queue_session_view,
    WebhookEventType.DEADLINE_MISSED: deadline_view,
}
