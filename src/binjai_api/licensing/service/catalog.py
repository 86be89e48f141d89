"""Licensing: the permit type catalogue (forms, requirements, fees, SLAs) and its demo seed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.db import for_update
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.licensing.models import (
    Permit,
    PermitType,
)
from binjai_api.licensing.workflow import (
    Step,
)
from binjai_api.pagination import apply_sort

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
