"""Reply templates: the BCC's and agencies' standard answers, per category and/or action, in
Indonesian and English.

- Placeholders are `{tracking_number}`, `{category}`, `{agency}`, `{deadline}` (the running
  deadline as a long date in the reader's language, e.g. "12 Desember 2026") and
  `{officer_role}`; any other is refused when the template is saved (422).
- A transition or a comment names a `template_id`, or an active automatic template of its action
  (the category's before the one for every category) applies when the staff member writes
  nothing. `overrides` replace placeholder values; a note written beside a template follows the
  template's text.
- The text is rendered in the resident's language, and that text is what the timeline keeps
  and the push carries (in each device's language).
"""

from __future__ import annotations

import json
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale

from binjai_api import formatting
from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.complaints.models import (
    REPLY_TEMPLATE_ACTIONS,
    Complaint,
    ComplaintReplyTemplate,
)
from binjai_api.complaints.states import Actor
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.pagination import apply_sort
from binjai_api.workcalendar import service as workcalendar

PLACEHOLDERS = ("tracking_number", "category", "agency", "deadline", "officer_role")
COMMENT_ACTION = "comment"
LANGUAGES = ("id", "en")
MAX_RENDERED = 4000
TEMPLATE_SORTABLE = {
    "name": ComplaintReplyTemplate.name,
    "updated_at": ComplaintReplyTemplate.updated_at,
}


def placeholder_errors(text: str) -> list[str]:
    """Why a template text cannot be rendered: unknown placeholders, format specs, stray braces."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return [gettext("Unbalanced braces: write {{ and }} for literal braces.")]
    unknown = sorted(
        {
            name
            for _, name, spec, conversion in parts
            if name is not None and name not in PLACEHOLDERS
        }
        | {
            f"{name}:{spec}" if spec else f"{name}!{conversion}"
            for _, name, spec, conversion in parts
            if name in PLACEHOLDERS and (spec or conversion)
        }
    )
    if unknown:
        return [
            gettext(
                "Unknown placeholders: %(unknown)s. Use: %(known)s.",
                unknown=", ".join(f"{{{name}}}" for name in unknown),
                known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            )
        ]
    return []


def _check_texts(texts: Mapping[str, str]) -> None:
    errors = {
        field: problems for field, text in texts.items() if (problems := placeholder_errors(text))
    }
    if errors:
        raise field_errors(errors)


def _auto_key(template: ComplaintReplyTemplate) -> str | None:
    if not (template.auto_apply and template.is_active):
        return None
    return f"{template.action}:{template.category_id or '*'}"


def _check_fields(template: ComplaintReplyTemplate) -> None:
    from binjai_api.complaints import service  # the categories' own service

    if template.auto_apply and template.action in (None, COMMENT_ACTION):
        raise field_errors(
            {"auto_apply": [gettext("Only a template of a transition can apply by itself.")]}
        )
    if template.category_id is not None and service.find_category(template.category_id) is None:
        raise field_errors({"category_id": [gettext("Unknown category.")]})


def _save(template: ComplaintReplyTemplate) -> ComplaintReplyTemplate:
    template.auto_key = _auto_key(template)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise conflict(
            "auto_template_exists",
            gettext("Another active template already applies by itself to this action."),
        ) from None
    db.session.commit()
    return template


def create_template(
    *,
    principal: Principal,
    name: str,
    body: str,
    body_en: str,
    action: str | None = None,
    category_id: uuid.UUID | None = None,
    auto_apply: bool = False,
) -> ComplaintReplyTemplate:
    """Keep a reply for reuse; its placeholders are checked now, not when it is used."""
    _check_texts({"body": body, "body_en": body_en})
    template = ComplaintReplyTemplate(
        name=name.strip(),
        body=body.strip(),
        body_en=body_en.strip(),
        action=action,
        category_id=category_id,
        auto_apply=auto_apply,
        is_active=True,
        created_by_id=principal.id,
    )
    _check_fields(template)
    db.session.add(template)
    return _save(template)


def update_template(
    *, template_id: uuid.UUID, changes: Mapping[str, Any]
) -> ComplaintReplyTemplate:
    """Change a template; a change of its texts is checked like a new one."""
    template = get_template(template_id, lock=True)
    _check_texts({field: changes[field] for field in ("body", "body_en") if field in changes})
    for field, value in changes.items():
        setattr(template, field, value.strip() if isinstance(value, str) else value)
    _check_fields(template)
    return _save(template)


def delete_template(template_id: uuid.UUID) -> None:
    """Remove a template (replies already sent keep their text)."""
    db.session.delete(get_template(template_id))
    db.session.commit()


def get_template(template_id: uuid.UUID, *, lock: bool = False) -> ComplaintReplyTemplate:
    """A template by id (404 when unknown)."""
    query = sa.select(ComplaintReplyTemplate).where(ComplaintReplyTemplate.id == template_id)
    template = db.session.scalar(query.with_for_update() if lock else query)
    if template is None:
        raise not_found(gettext("Reply template not found."))
    return template


def templates_query(
    *,
    action: str | None = None,
    category_id: uuid.UUID | None = None,
    include_inactive: bool = False,
    updated_after: datetime | None = None,
    sort: str = "name",
) -> sa.Select[ComplaintReplyTemplate]:
    """Templates for an action and category: those for any action or category included."""
    query = sa.select(ComplaintReplyTemplate)
    if not include_inactive:
        query = query.where(ComplaintReplyTemplate.is_active.is_(True))
    if action is not None:
        query = query.where(
            sa.or_(ComplaintReplyTemplate.action.is_(None), ComplaintReplyTemplate.action == action)
        )
    if category_id is not None:
        query = query.where(
            sa.or_(
                ComplaintReplyTemplate.category_id.is_(None),
                ComplaintReplyTemplate.category_id == category_id,
            )
        )
    if updated_after is not None:
        query = query.where(ComplaintReplyTemplate.updated_at > updated_after)
    return apply_sort(query, sort, TEMPLATE_SORTABLE, tiebreaker=ComplaintReplyTemplate.id)


# --- use on a report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A rendered reply: the text the timeline keeps, and the texts of the push by language."""

    text: str
    texts: Mapping[str, str]


def choose(
    *, action: str, complaint: Complaint, template_id: uuid.UUID | None, automatic: bool
) -> ComplaintReplyTemplate | None:
    """The named template, checked against the action and category (422 when it does not fit),
    or, when `automatic`, the action's automatic template if one is active."""
    if template_id is not None:
        template = db.session.get(ComplaintReplyTemplate, template_id)
        if template is None or not template.is_active:
            raise field_errors({"template_id": [gettext("No active reply template with this id.")]})
        if template.action not in (None, action) or template.category_id not in (
            None,
            complaint.category_id,
        ):
            raise field_errors(
                {"template_id": [gettext("This template is for another action or category.")]}
            )
        return template
    if not automatic or action not in REPLY_TEMPLATE_ACTIONS:
        return None
    keys = [f"{action}:{complaint.category_id}", f"{action}:*"]
    found = {
        template.auto_key: template
        for template in db.session.scalars(
            sa.select(ComplaintReplyTemplate).where(ComplaintReplyTemplate.auto_key.in_(keys))
        )
    }
    return next((found[key] for key in keys if key in found), None)


def _deadline_text(due_at: datetime | None, language: str) -> str:
    if due_at is None:
        return "-"
    return formatting.long_date(workcalendar.local_date(due_at), language)


def _role_text(actor: str, principal: Principal, agency_name: str) -> str:
    if actor == Actor.OFFICER or principal.role == Role.OFFICER:
        return gettext("officer of %(agency)s", agency=agency_name)
    return gettext("Binjai Command Center operator")


def render(
    template: ComplaintReplyTemplate,
    *,
    complaint: Complaint,
    principal: Principal,
    actor: str,
    reader_language: str | None,
    overrides: Mapping[str, str] | None = None,
    note: str | None = None,
) -> Reply:
    """The template's text for this report in both languages; the resident's is the one kept."""
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        with force_locale(language):
            category = complaint.category
            agency = complaint.agency
            agency_name = agency.name_en if language == "en" else agency.name
            values = {
                "tracking_number": complaint.tracking_number,
                "category": category.name_en if language == "en" else category.name,
                "agency": agency_name,
                "deadline": _deadline_text(complaint.due_at, language),
                "officer_role": _role_text(actor, principal, agency_name),
                **(overrides or {}),
            }
            body = template.body_en if language == "en" else template.body
            text = body.format(**values)
        if note:
            text = f"{text}\n\n{note}"
        texts[language] = text[:MAX_RENDERED]
    language = reader_language if reader_language in LANGUAGES else "id"
    return Reply(text=texts[language], texts=texts)


def override_errors(overrides: Mapping[str, str] | None) -> dict[str, list[str]]:
    """Overrides name placeholders only."""
    unknown = sorted(set(overrides or {}) - set(PLACEHOLDERS))
    if not unknown:
        return {}
    return {
        "template_overrides": [
            gettext(
                "Unknown placeholders: %(unknown)s. Use: %(known)s.",
                unknown=", ".join(unknown),
                known=", ".join(PLACEHOLDERS),
            )
        ]
    }


def seed_demo_templates() -> int:
    """Load the demo templates (seed/complaint_reply_templates.json) once; returns how many."""
    from binjai_api.complaints import service  # the categories' own service

    if db.session.scalar(
        sa.select(ComplaintReplyTemplate.id).where(ComplaintReplyTemplate.is_demo.is_(True))
    ):
        return 0
    text = resources.files("binjai_api").joinpath("seed/complaint_reply_templates.json").read_text()
    added = 0
    for entry in json.loads(text)["templates"]:
        category = (
            service.find_category_by_code(entry["category_code"])
            if entry["category_code"]
            else None
        )
        if entry["category_code"] and category is None:
            continue
        template = ComplaintReplyTemplate(
            name=entry["name"],
            action=entry["action"],
            category_id=category.id if category else None,
            body=entry["body"],
            body_en=entry["body_en"],
            auto_apply=entry["auto_apply"],
            is_active=True,
            is_demo=True,
        )
        template.auto_key = _auto_key(template)
        db.session.add(template)
        added += 1
    db.session.commit()
    return added
