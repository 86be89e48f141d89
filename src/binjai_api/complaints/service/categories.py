"""Complaints: report categories (the catalogue and its seed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from binjai_api.agencies import service as agencies_service
from binjai_api.complaints.models import (
    ComplaintCategory,
)
from binjai_api.complaints.service._common import CATEGORY_SORTABLE, _check_agency
from binjai_api.db import for_update
from binjai_api.errors import conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.pagination import apply_sort

# --- categories --------------------------------------------------------------------------------


def categories_query(
    *,
    include_inactive: bool = False,
    agency_id: uuid.UUID | None = None,
    updated_after: datetime | None = None,
    sort: str = "code",
) -> sa.Select[ComplaintCategory]:
    """The category catalog; the app syncs it with `updated_after`."""
    query = sa.select(ComplaintCategory)
    if not include_inactive:
        query = query.where(ComplaintCategory.is_active.is_(True))
    if agency_id is not None:
        query = query.where(ComplaintCategory.agency_id == agency_id)
    if updated_after is not None:
        query = query.where(ComplaintCategory.updated_at > updated_after)
    return apply_sort(query, sort, CATEGORY_SORTABLE, tiebreaker=ComplaintCategory.id)


def find_category(category_id: uuid.UUID, *, lock: bool = False) -> ComplaintCategory | None:
    """A category by id, or None; `lock`: held until the transaction ends (db.for_update)."""
    return db.session.get(
        ComplaintCategory,
        category_id,
        options=[joinedload(ComplaintCategory.agency)],
        **for_update(lock, ComplaintCategory),
    )


def get_category(category_id: uuid.UUID, *, lock: bool = False) -> ComplaintCategory:
    """A category by id (404 when unknown)."""
    category = find_category(category_id, lock=lock)
    if category is None:
        raise not_found(gettext("Category not found."))
    return category


def _check_category_code_free(code: str, exclude: uuid.UUID | None = None) -> None:
    query = sa.select(ComplaintCategory.id).where(ComplaintCategory.code == code)
    if exclude is not None:
        query = query.where(ComplaintCategory.id != exclude)
    if db.session.scalar(query) is not None:
        raise conflict("category_code_taken", gettext("A category with this code already exists."))


def create_category(
    *,
    code: str,
    name: str,
    name_en: str,
    description: str | None,
    agency_id: uuid.UUID,
    follow_up_days: int,
) -> ComplaintCategory:
    """Add a category to the catalog (and to Open311's service list)."""
    _check_category_code_free(code)
    _check_agency(agency_id)
    category = ComplaintCategory(
        code=code,
        name=name.strip(),
        name_en=name_en.strip(),
        description=description,
        agency_id=agency_id,
        follow_up_days=follow_up_days,
    )
    db.session.add(category)
    db.session.commit()
    return category


def update_category(*, category_id: uuid.UUID, changes: Mapping[str, Any]) -> ComplaintCategory:
    """Change a category. Reports already filed keep their agency and deadline; a new
    `follow_up_days` applies from the next dispatch or transfer."""
    category = get_category(category_id)
    if "code" in changes:
        _check_category_code_free(changes["code"], exclude=category.id)
    if "agency_id" in changes:
        _check_agency(changes["agency_id"])
    for field, value in changes.items():
        setattr(category, field, value)
    db.session.commit()
    return category


def active_categories() -> list[ComplaintCategory]:
    """The categories a report may be filed under, by code."""
    return list(db.session.scalars(categories_query()))


def find_category_by_code(code: str) -> ComplaintCategory | None:
    """A category by its code (as Open311's `service_code`), or None."""
    return db.session.scalar(sa.select(ComplaintCategory).where(ComplaintCategory.code == code))


def category_ids_by_codes(codes: Sequence[str]) -> list[uuid.UUID]:
    """The ids of the categories with these codes (unknown codes are skipped), in one query."""
    return list(
        db.session.scalars(sa.select(ComplaintCategory.id).where(ComplaintCategory.code.in_(codes)))
    )


def seed_categories() -> int:
    """Load the demo categories (seed/complaint_categories.json); returns how many were added."""
    text = resources.files("binjai_api").joinpath("seed/complaint_categories.json").read_text()
    agencies = {
        agency.code: agency.id
        for agency in db.session.scalars(agencies_service.agencies_query(include_inactive=True))
    }
    added = 0
    for entry in json.loads(text)["categories"]:
        exists = db.session.scalar(
            sa.select(ComplaintCategory).where(ComplaintCategory.code == entry["code"])
        )
        if exists is not None:
            if exists.is_demo and not exists.questions and entry.get("questions"):
                exists.questions = entry["questions"]  # demo forms, added after the category
                exists.notice, exists.notice_en = entry.get("notice"), entry.get("notice_en")
            continue
        agency_id = agencies.get(entry["agency_code"])
        if agency_id is None:
            continue
        db.session.add(
            ComplaintCategory(
                code=entry["code"],
                name=entry["name"],
                name_en=entry["name_en"],
                description=entry.get("description"),
                agency_id=agency_id,
                follow_up_days=entry.get("follow_up_days", 5),
                questions=entry.get("questions", []),
                notice=entry.get("notice"),
                notice_en=entry.get("notice_en"),
                is_demo=True,
            )
        )
        added += 1
    db.session.commit()
    return added
