"""Issued permits as residents hold and scan them: the permit document (PDF) and its public
verification (the page and JSON behind the QR code)."""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from binjai_api.agencies import service as agencies_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.config import API_V1_STR
from binjai_api.db import utcnow
from binjai_api.errors import not_found
from binjai_api.extensions import db
from binjai_api.formatting import long_date
from binjai_api.i18n import gettext
from binjai_api.licensing import pdf, signing
from binjai_api.licensing.models import Permit, PermitApplication, PermitType
from binjai_api.links import public_url
from binjai_api.privacy import mask_tail
from binjai_api.regions import service as regions_service
from binjai_api.workcalendar import service as workcalendar

log = logging.getLogger(__name__)

VERIFICATION_RESULTS = ("valid", "replaced", "revoked", "expired", "not_found")


def verification_url(code: str) -> str:
    """The public URL a permit's QR code points at (under PUBLIC_BASE_URL)."""
    return public_url(f"{API_V1_STR}/permits/verify/{code}")


def code_of(permit: Permit) -> str:
    """The signed verification code of a permit's current fields."""
    return signing.permit_code(
        permit_id=permit.id,
        permit_number=permit.permit_number,
        permit_type_code=permit.permit_type.code,
        holder_id=permit.holder_id,
        valid_from=permit.valid_from,
        valid_until=permit.valid_until,
    )


# --- the document ------------------------------------------------------------------------------


def _may_download(principal: Principal, permit: Permit) -> bool:
    """Its holder, and the officers of the agencies that issue or review permits of its type."""
    if principal.role == Role.CITIZEN:
        return principal.id == permit.holder_id
    permit_type = permit.permit_type
    return (
        principal.role == Role.OFFICER
        and principal.agency_id is not None
        and principal.agency_id in (permit_type.issuing_agency_id, permit_type.technical_agency_id)
    )


def _describe_kelurahan(code: str) -> str | None:
    kelurahan = regions_service.find_kelurahan(code)
    if kelurahan is None:
        return None
    return f"{kelurahan.name}, Kecamatan {kelurahan.kecamatan.name}"


def _state(permit: Permit) -> tuple[str, str | None]:
    """What the document says about a permit that no longer holds (in Indonesian)."""
    if permit.status == "revoked":
        note = "Dicabut"
        if permit.revoked_at is not None:
            note += f" pada tanggal {long_date(workcalendar.local_date(permit.revoked_at), 'id')}"
        if permit.revocation_reason:
            note += f". Alasan: {permit.revocation_reason.rstrip('. ')}"
        return "revoked", note + "."
    if permit.replaced_by_id is not None:
        replacement = db.session.get(Permit, permit.replaced_by_id)
        number = replacement.permit_number if replacement else "-"
        return "replaced", f"Digantikan oleh izin Nomor {number}."
    return "active", None


def permit_sheet(permit: Permit) -> pdf.PermitSheet:
    """Everything printed on a permit, read from its type's catalog, its application, its
    holder and its issuing agency."""
    permit_type: PermitType = permit.permit_type
    agency = agencies_service.get_agency(permit_type.issuing_agency_id)
    holder = auth_service.get_user(permit.holder_id)
    application = db.session.get(PermitApplication, permit.application_id)
    form_data = application.form_data if application is not None else {}
    state, state_note = _state(permit)
    return pdf.PermitSheet(
        permit_number=permit.permit_number,
        permit_type_name=permit_type.name,
        issuing_agency_name=agency.name,
        holder_name=holder.full_name,
        holder_nik_masked=mask_tail(holder.nik),
        valid_from=permit.valid_from,
        valid_until=permit.valid_until,
        issued_on=workcalendar.local_date(permit.issued_at),
        verification_url=verification_url(permit.verification_code),
        verification_code=permit.verification_code,
        object_rows=pdf.object_rows(
            permit_type.form_fields or [], form_data or {}, _describe_kelurahan
        ),
        conditions=tuple(permit_type.conditions or ()),
        official=pdf.Official(
            name=agency.official_name,
            nip=agency.official_nip,
            position=agency.official_position,
        ),
        state=state,
        state_note=state_note,
    )


def permit_pdf(*, principal: Principal, permit_id: uuid.UUID) -> tuple[Permit, bytes]:
    """The permit as a PDF, for its holder and the officers of its issuing and technical
    agencies; for anyone else it does not exist (404)."""
    permit = db.session.get(Permit, permit_id)
    if permit is None or not _may_download(principal, permit):
        raise not_found(gettext("Permit not found."))
    if principal.id != permit.holder_id:
        # Staff shown the holder's name and masked NIK: one audit record.
        audit_service.record_access(
            object_type=Permit.__tablename__,
            object_ids=[permit.id],
            fields=["holder.full_name", "holder.nik_masked"],
        )
    return permit, pdf.render(permit_sheet(permit))


# --- public verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What anyone holding the code may learn: the permit and its holder's name, never the NIK
    or anything else personal."""

    result: str
    checked_at: datetime
    permit_number: str | None = None
    permit_type_code: str | None = None
    permit_type_name: str | None = None
    permit_type_name_en: str | None = None
    holder_name: str | None = None
    issuing_agency_code: str | None = None
    issuing_agency_name: str | None = None
    issuing_agency_name_en: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    revoked_on: date | None = None
    replaced_by_permit_number: str | None = None


def verify_permit(code: str) -> Verification:
    """Check a code from a permit's QR code. A forged code, or a permit whose fields no longer
    match their signature, answers not_found like an unknown one."""
    now = utcnow()
    permit_id = signing.permit_id_in(code)
    permit = db.session.get(Permit, permit_id) if permit_id else None
    if permit is None:
        return Verification(result="not_found", checked_at=now)
    if not hmac.compare_digest(code_of(permit).encode(), code.encode()):
        if code == permit.verification_code:
            log.warning("permit %s no longer matches its signature", permit.id)
        return Verification(result="not_found", checked_at=now)
    agency = agencies_service.get_agency(permit.permit_type.issuing_agency_id)
    holder = auth_service.get_user(permit.holder_id)
    replacement = db.session.get(Permit, permit.replaced_by_id) if permit.replaced_by_id else None
    if permit.status == "revoked":
        result = "revoked"
    elif replacement is not None:
        result = "replaced"
    elif permit.valid_until < workcalendar.local_date(now):
        result = "expired"
    else:
        result = "valid"
    return Verification(
        result=result,
        checked_at=now,
        permit_number=permit.permit_number,
        permit_type_code=permit.permit_type.code,
        permit_type_name=permit.permit_type.name,
        permit_type_name_en=permit.permit_type.name_en,
        holder_name=holder.full_name,
        issuing_agency_code=agency.code,
        issuing_agency_name=agency.name,
        issuing_agency_name_en=agency.name_en,
        valid_from=permit.valid_from,
        valid_until=permit.valid_until,
        revoked_on=workcalendar.local_date(permit.revoked_at) if permit.revoked_at else None,
        replaced_by_permit_number=replacement.permit_number if replacement else None,
    )
