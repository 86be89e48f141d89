"""The SKM survey (PermenPANRB 14/2017): invitations when a service ends, and anonymous answers.

The domains call `invite()` in their own transaction at the moment a service ends for a
resident: a permit issued or refused, a report closed, a queue booking served. This module
imports no other domain (they import it), only notifications.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from binjai_api.db import utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.formatting import in_each_language, long_date
from binjai_api.i18n import gettext
from binjai_api.notifications import kinds
from binjai_api.notifications import service as notifications_service
from binjai_api.quality.models import SERVICE_KINDS, SurveyAnswer, SurveyInvitation
from binjai_api.quality.scoring import ELEMENTS, MAX_SCORE, MIN_SCORE
from binjai_api.workcalendar.service import local_date

# How long an invitation may be answered (the "valid 30 days").
INVITATION_VALID_DAYS = 30
INVITATION_STATES = ("open", "answered", "expired")
SUGGESTION_MAX_LENGTH = 1000


def period_of(moment: datetime) -> str:
    """The month (WIB) a moment falls in, YYYY-MM: the period answers are counted under."""
    return local_date(moment).strftime("%Y-%m")


def invite(
    *,
    user_id: uuid.UUID,
    service_kind: str,
    service_id: uuid.UUID,
    agency_id: uuid.UUID | None,
    service_key: str,
    service_name: str,
    service_name_en: str,
    reference: str,
    ended_at: datetime | None = None,
) -> SurveyInvitation | None:
    """Invite a resident to rate a service that has just ended for them, with a push and an
    inbox entry, in the caller's transaction. Once per service instance: a second call for the
    same one (a report closed again after a reopening) invites no one and returns None."""
    if service_kind not in SERVICE_KINDS:
        raise ValueError(f"unknown service kind {service_kind!r}")
    ended_at = ended_at or utcnow()
    already = db.session.scalar(
        sa.select(SurveyInvitation.id).where(
            SurveyInvitation.service_kind == service_kind,
            SurveyInvitation.service_id == service_id,
        )
    )
    if already is not None:
        return None
    invitation = SurveyInvitation(
        user_id=user_id,
        service_kind=service_kind,
        service_id=service_id,
        agency_id=agency_id,
        service_key=service_key[:60],
        service_name=service_name[:200],
        service_name_en=(service_name_en or service_name)[:200],
        reference=reference[:60],
        period=period_of(ended_at),
        created_at=ended_at,
        expires_at=ended_at + timedelta(days=INVITATION_VALID_DAYS),
        answered=False,
    )
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except sa.exc.IntegrityError:  # the same service ended twice at the same instant
        return None
    last_day = local_date(invitation.expires_at)
    notifications_service.notify(
        recipients=[user_id],
        kind=kinds.SURVEY_INVITATION,
        params={
            "reference": invitation.reference,
            **in_each_language(
                "service",
                lambda language: (
                    invitation.service_name_en if language == "en" else invitation.service_name
                ),
            ),
            **in_each_language("until", lambda language: long_date(last_day, language)),
        },
        link=notifications_service.Link("survey-invitations", str(invitation.id)),
    )
    return invitation


# --- the resident's side -------------------------------------------------------------------------


def state_of(invitation: SurveyInvitation, now: datetime | None = None) -> str:
    if invitation.answered:
        return "answered"
    return "expired" if (now or utcnow()) >= invitation.expires_at else "open"


def my_invitations_query(
    *, user_id: uuid.UUID, state: str | None = None, now: datetime | None = None
) -> sa.Select[SurveyInvitation]:
    """The resident's invitations, newest first, optionally only open, answered or expired."""
    now = now or utcnow()
    query = sa.select(SurveyInvitation).where(SurveyInvitation.user_id == user_id)
    if state == "answered":
        query = query.where(SurveyInvitation.answered.is_(True))
    elif state == "open":
        query = query.where(SurveyInvitation.answered.is_(False), SurveyInvitation.expires_at > now)
    elif state == "expired":
        query = query.where(
            SurveyInvitation.answered.is_(False), SurveyInvitation.expires_at <= now
        )
    return query.order_by(SurveyInvitation.created_at.desc(), SurveyInvitation.id)


def get_invitation(*, user_id: uuid.UUID, invitation_id: uuid.UUID) -> SurveyInvitation:
    """One of the resident's own invitations (another's is 404: its existence is private)."""
    invitation = db.session.get(SurveyInvitation, invitation_id)
    if invitation is None or invitation.user_id != user_id:
        raise not_found(gettext("Survey invitation not found."))
    return invitation


def questionnaire(language: str) -> list[dict[str, Any]]:
    """The nine elements with the regulation's question and answer wording, in `language`."""
    return [
        {
            "code": element.code,
            "number": element.number,
            "name": element.name.get(language),
            "question": element.question.get(language),
            "options": [
                {"score": score, "label": text.get(language)}
                for score, text in enumerate(element.scale, start=MIN_SCORE)
            ],
        }
        for element in ELEMENTS
    ]


def invitation_view(invitation: SurveyInvitation, language: str) -> dict[str, Any]:
    state = state_of(invitation)
    return {
        "id": invitation.id,
        "service_kind": invitation.service_kind,
        "service_name": (
            invitation.service_name_en if language == "en" else invitation.service_name
        ),
        "reference": invitation.reference,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "state": state,
        "questionnaire": questionnaire(language) if state == "open" else [],
    }


def _check_scores(scores: Mapping[str, int]) -> dict[str, int]:
    errors = {}
    for element in ELEMENTS:
        value = scores.get(element.code)
        if value is None or not MIN_SCORE <= value <= MAX_SCORE:
            errors[element.code] = [gettext("Choose an answer from 1 to 4.")]
    unknown = set(scores) - {element.code for element in ELEMENTS}
    for code in unknown:
        errors[code] = [gettext("Unknown field.")]
    if errors:
        raise field_errors({"scores": [gettext("Answer each of the nine questions.")], **errors})
    return {f"u{element.number}": int(scores[element.code]) for element in ELEMENTS}


def answer_invitation(
    *,
    user_id: uuid.UUID,
    invitation_id: uuid.UUID,
    scores: Mapping[str, int],
    suggestion: str | None = None,
) -> SurveyInvitation:
    """Record the resident's answer, once, and only its service's coordinates with it (never the
    invitation or the person); the invitation is marked answered."""
    invitation = get_invitation(user_id=user_id, invitation_id=invitation_id)
    columns = _check_scores(scores)
    now = utcnow()
    if invitation.answered:
        raise conflict("survey_already_answered", gettext("This survey was already answered."))
    if now >= invitation.expires_at:
        raise conflict("survey_expired", gettext("This survey can no longer be answered."))
    # The claim: one statement that only one of two concurrent answers can win.
    claimed = db.session.execute(
        sa.update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.answered.is_(False))
        .values(answered=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        db.session.rollback()
        raise conflict("survey_already_answered", gettext("This survey was already answered."))
    suggestion = (suggestion or "").strip()[:SUGGESTION_MAX_LENGTH] or None
    db.session.add(
        SurveyAnswer(
            agency_id=invitation.agency_id,
            service_kind=invitation.service_kind,
            service_key=invitation.service_key,
            service_name=invitation.service_name,
            service_name_en=invitation.service_name_en,
            period=invitation.period,
            suggestion=suggestion,
            **columns,
        )
    )
    db.session.commit()
    db.session.refresh(invitation)
    return invitation
