"""Complaints: the comment thread of a report."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from binjai_api.auth.service import Principal
from binjai_api.complaints import reply_templates
from binjai_api.complaints.models import (
    ComplaintComment,
)
from binjai_api.complaints.service._common import _actor, _get_for, _is_staff, _notification_params
from binjai_api.complaints.service.workflow import _render_reply, _reply_params, _reply_template
from binjai_api.db import utcnow
from binjai_api.errors import field_errors, forbidden
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service

# --- comments ----------------------------------------------------------------------------------


def comments_query(
    *, principal: Principal, complaint_id: uuid.UUID, updated_after: datetime | None = None
) -> sa.Select[ComplaintComment]:
    """A report's thread, oldest first; internal notes only for staff."""
    complaint = _get_for(principal, complaint_id)
    query = sa.select(ComplaintComment).where(ComplaintComment.complaint_id == complaint.id)
    if not _is_staff(_actor(principal, complaint)):
        query = query.where(ComplaintComment.is_internal.is_(False))
    if updated_after is not None:
        query = query.where(ComplaintComment.updated_at > updated_after)
    return query.order_by(ComplaintComment.created_at, ComplaintComment.id)


def add_comment(
    *,
    principal: Principal,
    complaint_id: uuid.UUID,
    body: str | None = None,
    internal: bool = False,
    template_id: uuid.UUID | None = None,
    template_overrides: Mapping[str, str] | None = None,
) -> ComplaintComment:
    """Post to a report's thread: the reporter and staff publicly, staff also internal notes.
    Staff may answer with a reply template (`template_id`); a `body` beside it follows the
    template's text."""
    complaint = _get_for(principal, complaint_id, lock=True)
    actor = _actor(principal, complaint)
    assert actor is not None
    if internal and not _is_staff(actor):
        raise forbidden(gettext("Only staff write internal notes."))
    body = (body or "").strip()
    reply = None
    if template_id is not None:
        template = _reply_template(
            reply_templates.COMMENT_ACTION,
            complaint,
            actor,
            template_id,
            template_overrides,
            automatic=False,
        )
        assert template is not None
        reply = _render_reply(template, complaint, principal, actor, template_overrides, body)
        body = reply.text
    if not body:
        raise field_errors({"body": [gettext("Write a message.")]})
    now = utcnow()
    comment = ComplaintComment(
        complaint_id=complaint.id,
        author_id=principal.id,
        author_role=actor,
        body=body,
        is_internal=internal,
        created_at=now,
        updated_at=now,
    )
    db.session.add(comment)
    if not internal:
        complaint.updated_at = now  # the reporter's app syncs the thread with the report
        if _is_staff(actor) and complaint.reporter_id is not None:
            notifications_service.notify(
                recipients=[complaint.reporter_id],
                kind=kinds.COMPLAINT_RESPONSE if reply is None else kinds.COMPLAINT_REPLY,
                params=_notification_params(complaint, **(_reply_params(reply) or {})),
                link=notifications_service.Link("complaints", str(complaint.id)),
            )
    db.session.commit()
    return comment


def comment_view(comment: ComplaintComment, principal: Principal) -> dict[str, Any]:
    """A message of the thread; authors are shown by role only."""
    return {
        "id": comment.id,
        "body": comment.body,
        "is_internal": comment.is_internal,
        "author_role": comment.author_role,
        "is_mine": comment.author_id == principal.id,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }
