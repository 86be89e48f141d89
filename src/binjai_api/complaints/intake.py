"""Assisted intake: BCC operators and agency officers file a report for a resident who came in
person, phoned, or wrote by WhatsApp, SMS or email.

- The report records its `channel` and the resident's name and contact in the report's contact
  fields, which every reader sees masked like any contact.
- A resident with an account (found by phone or NIK) becomes the report's reporter: they see it
  under "mine" and get its pushes.
- The staff member gets an acknowledgement to read out or paste back, with the tracking number.
- An officer files only under their own agency's categories; operators under any.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from binjai_api import formatting
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints import service
from binjai_api.complaints.models import Complaint
from binjai_api.complaints.states import ASSISTED_CHANNELS, Actor, Channel, Source
from binjai_api.errors import field_errors, forbidden
from binjai_api.i18n import gettext, negotiated_language
from binjai_api.workcalendar import service as workcalendar

# Channels where the resident is answered at a phone number or an email address.
_PHONE_CHANNELS = (Channel.PHONE, Channel.WHATSAPP, Channel.SMS)


@dataclass(frozen=True)
class AssistedReport:
    complaint: Complaint
    acknowledgement: str
    linked_account: bool


def _resident_contact(
    channel: str, resident: Mapping[str, Any]
) -> tuple[dict[str, str | None], str | None]:
    """The contact to keep (phone as E.164) and the NIK to look the account up by."""
    errors: dict[str, list[str]] = {}
    if channel not in ASSISTED_CHANNELS:
        errors["channel"] = [
            gettext("Choose one of: %(channels)s.", channels=", ".join(ASSISTED_CHANNELS))
        ]
    phone = None
    if resident.get("phone"):
        phone = auth_service.phone_as_e164(resident["phone"])
        if phone is None:
            errors["resident.phone"] = [
                gettext("Enter an Indonesian mobile number such as 0812xxxxxxx.")
            ]
    elif channel in _PHONE_CHANNELS:
        errors["resident.phone"] = [gettext("Give the number to answer the resident at.")]
    email = (resident.get("email") or "").strip().lower() or None
    if channel == Channel.EMAIL and email is None:
        errors["resident.email"] = [gettext("Give the address to answer the resident at.")]
    nik = resident.get("nik")
    if nik and (problem := auth_service.nik_error(nik)):
        errors["resident.nik"] = [problem]
    if errors:
        raise field_errors(errors)
    return {"name": resident["name"], "phone": phone, "email": email}, nik


def file_for_resident(
    *,
    principal: Principal,
    channel: str,
    resident: Mapping[str, Any],
    category_id: uuid.UUID,
    **report: Any,
) -> AssistedReport:
    """File a report on a resident's behalf; linked to their account when one is found."""
    if principal.role == Role.OFFICER:
        category = service.find_category(category_id)
        if category is not None and category.agency_id != principal.agency_id:
            raise forbidden(gettext("Officers file reports only under their agency's categories."))
    contact, nik = _resident_contact(channel, resident)
    account = auth_service.find_resident(phone=contact["phone"], nik=nik)
    complaint = service.submit_complaint(
        reporter_id=account.id if account else None,
        source=Source.APP,
        channel=channel,
        contact=contact,
        category_id=category_id,
        filed_by_id=principal.id,
        filed_by_role=Actor.OFFICER if principal.role == Role.OFFICER else Actor.OPERATOR,
        **report,
    )
    return AssistedReport(
        complaint=complaint,
        acknowledgement=acknowledgement(complaint, linked=account is not None),
        linked_account=account is not None,
    )


def acknowledgement(complaint: Complaint, *, linked: bool) -> str:
    """What the staff member reads out or pastes back, in the negotiated language."""
    language = negotiated_language()
    due = (
        formatting.long_date(workcalendar.local_date(complaint.due_at), language)
        if complaint.due_at
        else "-"
    )
    text = gettext(
        "Your report has been received with tracking number %(tracking_number)s. The Binjai "
        "Command Center verifies it by %(deadline)s. Quote this number whenever you contact us "
        "about it.",
        tracking_number=complaint.tracking_number,
        deadline=due,
    )
    if linked:
        text += " " + gettext("You can also follow it in the Binjai app, under My reports.")
    return text
