"""City agencies (OPD): the catalog every domain routes work to."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies.models import Agency
from binjai_api.db import for_update
from binjai_api.errors import conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.pagination import apply_sort

SORTABLE = {"code": Agency.code, "name": Agency.name, "updated_at": Agency.updated_at}


def agencies_query(
    *, include_inactive: bool = False, updated_after: datetime | None = None, sort: str = "code"
) -> sa.Select[Agency]:
    """The catalog; the app syncs it incrementally with `updated_after`."""
    query = sa.select(Agency)
    if not include_inactive:
        query = query.where(Agency.is_active.is_(True))
    if updated_after is not None:
        query = query.where(Agency.updated_at > updated_after)
    return apply_sort(query, sort, SORTABLE, tiebreaker=Agency.id)


def find_agency(agency_id: uuid.UUID, *, lock: bool = False) -> Agency | None:
    """An agency by id, or None; `lock`: held until the transaction ends (db.for_update)."""
    return db.session.get(Agency, agency_id, **for_update(lock, Agency))


def find_agency_by_code(code: str) -> Agency | None:
    return db.session.scalar(sa.select(Agency).where(Agency.code == code))


def get_agency(agency_id: uuid.UUID, *, lock: bool = False) -> Agency:
    agency = find_agency(agency_id, lock=lock)
    if agency is None:
        raise not_found(gettext("Agency not found."))
    return agency


def _check_code_free(code: str, exclude: uuid.UUID | None = None) -> None:
    query = sa.select(Agency.id).where(Agency.code == code)
    if exclude is not None:
        query = query.where(Agency.id != exclude)
    if db.session.scalar(query) is not None:
        raise conflict("agency_code_taken", gettext("An agency with this code already exists."))


def create_agency(
    *,
    code: str,
    name: str,
    name_en: str,
    description: str | None = None,
    official_name: str | None = None,
    official_nip: str | None = None,
    official_position: str | None = None,
    is_demo: bool = False,
) -> Agency:
    """Add an agency to the catalog."""
    code = code.strip().upper()
    _check_code_free(code)
    agency = Agency(
        code=code,
        name=name.strip(),
        name_en=name_en.strip(),
        description=description,
        official_name=official_name,
        official_nip=official_nip,
        official_position=official_position,
        is_demo=is_demo,
    )
    db.session.add(agency)
    db.session.commit()
    return agency


def update_agency(*, agency_id: uuid.UUID, changes: dict[str, Any]) -> Agency:
    """Rename, describe, or (de)activate an agency, or name the official who signs its permits."""
    agency = get_agency(agency_id)
    if "code" in changes:
        changes["code"] = changes["code"].strip().upper()
        _check_code_free(changes["code"], exclude=agency.id)
    for name, value in changes.items():
        setattr(agency, name, value)
    db.session.commit()
    return agency
