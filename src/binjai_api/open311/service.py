"""Open311 GeoReport v2 over the complaints service: translation only, no tables of its own.

Mapping (http://wiki.open311.org/GeoReport_v2):
- a *service* is a complaint category (`service_code` = the category code, `group` = its agency);
- a *service request* is a non-confidential report, `service_request_id` = its tracking number;
- `status` is `open` or `closed` by the complaints status table; `expected_datetime` is the
  deadline now running; `agency_responsible` the agency now in charge; `media_url` the first
  photo of the report, served by the public photo endpoint;
- the reporter is never shown, whatever the report's privacy.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import ApiScope
from binjai_api.complaints import questions as complaints_questions
from binjai_api.complaints import service as complaints_service
from binjai_api.complaints import states
from binjai_api.db import utcnow
from binjai_api.i18n import gettext, lazy_gettext, negotiated_language
from binjai_api.pagination import count_rows, public_count_seconds
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar.service import LOCAL_TIMEZONE

JURISDICTION_ID = "binjaikota.go.id"
SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
# GeoReport v2, "Response Volume": a span of 90 days or the first 1000 requests, whichever is
# smallest. The cap is stated, not silent: `page` goes past it, `X-Pagination` has the total.
MAX_REQUESTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
CHANGESET = "2026-11-27T00:00:00Z"  # when this mapping last changed
# The specification's status for what the API answers otherwise: invalid fields are a 400, a
# missing or wrong `api_key` a 403.
STATUS_FOR_OPEN311: Mapping[int, int] = {422: 400, 401: 403}
API_KEY_FIELD = "api_key"


class Open311Error(Exception):
    """An error in Open311's own shape (`code`, `description`)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _check_jurisdiction(jurisdiction_id: str | None) -> None:
    if jurisdiction_id and jurisdiction_id != JURISDICTION_ID:
        raise Open311Error(
            404, gettext("jurisdiction_id not served here: use %(id)s", id=JURISDICTION_ID)
        )


def discovery(*, endpoint_url: str) -> dict[str, Any]:
    """The service discovery document (Open311 Service Discovery)."""
    return {
        "changeset": CHANGESET,
        "contact": gettext("Binjai Command Center (Diskominfo Kota Binjai)"),
        "key_service": gettext(
            "API keys are issued by the Binjai Command Center: ask an administrator for an API "
            "client with the complaints:write scope; the key is client_id:client_secret."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION_URL,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _localized(english: str, indonesian: str) -> str:
    return english if negotiated_language() == "en" else indonesian


def _agency_name(agency: Any) -> str | None:
    return _localized(agency.name_en, agency.name) if agency is not None else None


def services(*, jurisdiction_id: str | None = None) -> list[dict[str, Any]]:
    """Every active complaint category, as an Open311 service."""
    _check_jurisdiction(jurisdiction_id)
    return [
        {
            "service_code": category.code,
            "service_name": _localized(category.name_en, category.name),
            "description": category.description,
            "metadata": True,
            "type": "realtime",
            "keywords": None,
            "group": _agency_name(category.agency),
        }
        for category in complaints_service.active_categories()
    ]


_TYPE_NAMES: Mapping[str, Any] = {
    states.ComplaintType.COMPLAINT: lazy_gettext("Complaint"),
    states.ComplaintType.ASPIRATION: lazy_gettext("Aspiration or suggestion"),
    states.ComplaintType.INFORMATION_REQUEST: lazy_gettext("Request for information"),
}
_PRIVACY_NAMES: Mapping[str, Any] = {
    states.Privacy.PUBLIC: lazy_gettext("Public (your name is never shown)"),
    states.Privacy.ANONYMOUS: lazy_gettext("Anonymous (hidden from the agency too)"),
    states.Privacy.CONFIDENTIAL: lazy_gettext("Confidential (not in the public feed)"),
}


def service_definition(*, service_code: str, jurisdiction_id: str | None = None) -> dict[str, Any]:
    """The attributes a request for this service may carry."""
    _check_jurisdiction(jurisdiction_id)
    category = _category_by_code(service_code)
    kelurahan_values = [
        {"key": kelurahan.code, "name": kelurahan.name}
        for kecamatan in regions_service.list_kecamatan()
        for kelurahan in kecamatan.kelurahan
    ]
    return {
        "service_code": service_code,
        "attributes": [
            _attribute(
                1,
                "type",
                "singlevaluelist",
                gettext("Kind of report (SP4N-LAPOR!); default: complaint"),
                [{"key": key, "name": str(name)} for key, name in _TYPE_NAMES.items()],
            ),
            _attribute(
                2,
                "privacy",
                "singlevaluelist",
                gettext("Who may see the report; default: public"),
                [{"key": key, "name": str(name)} for key, name in _PRIVACY_NAMES.items()],
            ),
            _attribute(
                3,
                "title",
                "string",
                gettext("A short title; default: the start of the description"),
                [],
            ),
            _attribute(
                4,
                "kelurahan_code",
                "singlevaluelist",
                gettext("The kelurahan; default: derived from lat/long"),
                kelurahan_values,
            ),
            # The category's own questions (complaints/questions.py), after the built-in ones.
            *complaints_questions.open311_attributes(category, first_order=5),
        ],
    }


def _attribute(
    order: int, code: str, datatype: str, description: str, values: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "variable": True,
        "code": code,
        "datatype": datatype,
        "required": False,
        "datatype_description": None,
        "order": order,
        "description": description,
        "values": values,
    }


def _category_by_code(service_code: str) -> Any:
    category = complaints_service.find_category_by_code(service_code)
    if category is None or not category.is_active:
        raise Open311Error(404, gettext("service_code not found: %(code)s", code=service_code))
    return category


def _choice(value: str | None, allowed: type[states.StrEnum], default: str, name: str) -> str:
    if value is None or value == "":
        return default
    if value not in {member.value for member in allowed}:
        raise Open311Error(
            400,
            gettext("attribute[%(name)s] has an unknown value: %(value)s", name=name, value=value),
        )
    return value


def submit_request(
    *, form: Mapping[str, Any], attributes: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """POST requests: a report from an integrator, submitted through the complaints service.
    `attributes`: every `attribute[code]` posted; those of the category's questions are its
    answers (the built-in ones are read from `form`)."""
    client = auth_service.client_for_api_key(
        api_key=form["api_key"], scope=ApiScope.COMPLAINTS_WRITE
    )
    if client is None:
        raise Open311Error(403, gettext("Invalid api_key"))
    _check_jurisdiction(form.get("jurisdiction_id"))
    category = _category_by_code(form["service_code"])
    lat, lon = form.get("lat"), form.get("long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, gettext("Give both lat and long, or neither."))
    if lat is None and not form.get("address_string") and not form.get("address_id"):
        raise Open311Error(
            400, gettext("A location is required: lat and long, address_string or address_id.")
        )
    # `description` is optional in GeoReport v2; a report needs one, so it then reads as its
    # title (attribute[title], else the service's name).
    description = (form.get("description") or "").strip()
    title = (form.get("attribute_title") or "").strip() or (
        _title_from(description) if description else _localized(category.name_en, category.name)
    )
    description = description or title
    if form.get("media_url"):
        # Never fetched (no request to addresses chosen by a client); kept for the officers.
        description = f"{description}\n\nMedia: {form['media_url']}"
    name = " ".join(part for part in (form.get("first_name"), form.get("last_name")) if part)
    complaint = complaints_service.submit_complaint(
        reporter_id=None,
        api_client_id=client.id,
        source=states.Source.OPEN311,
        contact={
            "name": name or None,
            "email": form.get("email"),
            "phone": form.get("phone"),
        },
        type=_choice(form.get("attribute_type"), states.ComplaintType, "complaint", "type"),
        category_id=category.id,
        title=title,
        description=description[:4000],
        lat=lat,
        lon=lon,
        address=form.get("address_string") or form.get("address_id"),
        kelurahan_code=form.get("attribute_kelurahan_code") or None,
        privacy=_choice(form.get("attribute_privacy"), states.Privacy, "public", "privacy"),
        answers={
            code: value
            for code, value in (attributes or {}).items()
            if code not in complaints_questions.RESERVED_CODES
        },
    )
    return [
        {
            "service_request_id": complaint.tracking_number,
            "token": str(complaint.id),
            "service_notice": _service_notice(complaint.due_at),
            "account_id": form.get("account_id"),
        }
    ]


def _title_from(description: str) -> str:
    first_line = description.strip().splitlines()[0]
    return first_line if len(first_line) <= 80 else first_line[:77].rstrip() + "..."


def _service_notice(due_at: datetime | None) -> str | None:
    if due_at is None:
        return None
    return gettext(
        "The Binjai Command Center verifies reports within 3 working days (by %(due)s).",
        due=due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _instant(value: date | datetime | None, *, end: bool) -> datetime | None:
    """A date-only `start_date`/`end_date` is a whole day in Binjai (WIB)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.max if end else time.min, tzinfo=LOCAL_TIMEZONE)


def service_requests(*, args: Mapping[str, Any], base_url: str) -> tuple[list[dict[str, Any]], int]:
    """GET requests: non-confidential reports, newest first, by default from the last 90 days,
    a page of at most 1000 (`page`, `page_size`). Returns the page and how many match."""
    _check_jurisdiction(args.get("jurisdiction_id"))
    ids = _split(args.get("service_request_id"))
    if ids:
        complaints = complaints_service.public_complaints_by_tracking_numbers(ids[:MAX_REQUESTS])
        return _service_requests(complaints, base_url), len(complaints)
    start = _instant(args.get("start_date"), end=False)
    end = _instant(args.get("end_date"), end=True)
    if start and end and end < start:
        raise Open311Error(400, gettext("end_date is before start_date."))
    if start is None:
        end = end or utcnow()
        start = end - DEFAULT_WINDOW
    elif end is None:
        end = start + DEFAULT_WINDOW
    if end - start > DEFAULT_WINDOW:
        raise Open311Error(400, gettext("Ask for at most 90 days at a time."))
    statuses: list[str] | None = None
    wanted = set(_split(args.get("status")))
    if wanted == {"open"}:
        statuses = list(states.OPEN_STATUSES)
    elif wanted == {"closed"}:
        statuses = [code for code in states.STATUSES if not states.is_open(code)]
    codes = _split(args.get("service_code"))
    category_ids: list[uuid.UUID] | None = None
    if codes:
        category_ids = complaints_service.category_ids_by_codes(codes)
        if not category_ids:
            return [], 0
    filters: dict[str, Any] = {
        "category_ids": category_ids,
        "statuses": statuses,
        "submitted_from": start,
        "submitted_to": end,
    }
    page_size = int(args.get("page_size") or MAX_REQUESTS)
    complaints = complaints_service.public_complaints(
        limit=page_size, offset=(int(args.get("page") or 1) - 1) * page_size, **filters
    )
    total = count_rows(
        complaints_service.public_complaints_query(**filters),
        shared_for_seconds=public_count_seconds(),
    )
    return _service_requests(complaints, base_url), total


def service_request(
    *, service_request_id: str, base_url: str, jurisdiction_id: str | None = None
) -> list[dict[str, Any]]:
    """GET one request by its id (a tracking number)."""
    _check_jurisdiction(jurisdiction_id)
    found = complaints_service.public_complaints_by_tracking_numbers([service_request_id])
    if not found:
        raise Open311Error(
            404, gettext("service_request_id not found: %(id)s", id=service_request_id)
        )
    return _service_requests(found, base_url)


def token(*, token_value: str, jurisdiction_id: str | None = None) -> list[dict[str, Any]]:
    """GET tokens: the request a token stands for (reports are created at once, so every token
    already has its request)."""
    _check_jurisdiction(jurisdiction_id)
    try:
        complaint_id = uuid.UUID(token_value)
    except ValueError:
        complaint_id = None
    complaint = complaints_service.find_public_complaint(complaint_id) if complaint_id else None
    if complaint is None:
        raise Open311Error(404, gettext("token not found: %(token)s", token=token_value))
    return [{"service_request_id": complaint.tracking_number, "token": token_value}]


def _service_requests(complaints: Sequence[Any], base_url: str) -> list[dict[str, Any]]:
    """Reports as Open311 requests (their category, agency and photos come loaded with them)."""
    root = base_url.rstrip("/")
    requests = []
    for complaint in complaints:
        category, agency = complaint.category, complaint.agency
        photo_path = complaints_service.public_photo_path(complaint)
        requests.append(
            {
                "service_request_id": complaint.tracking_number,
                "status": "open" if states.is_open(complaint.status) else "closed",
                "status_notes": complaint.resolution_note,
                "service_name": _localized(category.name_en, category.name),
                "service_code": category.code,
                "description": complaint.description,
                "agency_responsible": _agency_name(agency),
                "service_notice": str(states.STATUSES[complaint.status].label),
                "requested_datetime": complaint.created_at,
                "updated_datetime": complaint.updated_at,
                "expected_datetime": complaint.due_at,
                "address": complaint.address,
                "address_id": None,
                "zipcode": None,
                "lat": complaint.lat,
                "long": complaint.lon,
                "media_url": f"{root}{photo_path}" if photo_path else None,
            }
        )
    return requests


def problem_as_open311_error(problem: Mapping[str, Any]) -> Open311Error:
    """Problem details in Open311's words: field errors are a 400 naming the fields; a missing or
    wrong credential is a 403, as the specification has it for `api_key`."""
    status = int(problem.get("status") or 500)
    status = STATUS_FOR_OPEN311.get(status, status)
    description = str(problem.get("detail") or problem.get("title") or problem.get("code"))
    fields_in_error = {
        field: messages
        for fields in (problem.get("errors") or {}).values()
        if isinstance(fields, Mapping)
        for field, messages in fields.items()
        if isinstance(messages, list)
    }
    if API_KEY_FIELD in fields_in_error:
        # A missing or malformed api_key is the specification's 403, whatever else is wrong.
        return Open311Error(403, gettext("api_key is missing or invalid."))
    details = [
        f"{field}: {' '.join(str(message) for message in messages)}"
        for field, messages in fields_in_error.items()
    ]
    if details:
        description = "; ".join(details)
    return Open311Error(status, description)
