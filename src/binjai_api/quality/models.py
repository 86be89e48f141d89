"""Tables of service quality: SKM invitations and answers, and "is it fixed?" checks.

An answer is kept apart from the person who gave it: it names the service it rates (agency,
kind, key, month) and nothing else, no invitation, no account and no time. The invitation only
records that it was answered. None of these tables is in the audit trail, whose timestamps would
tie the two together again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from binjai_api.db import Base, UUIDPrimaryKey, utcnow
from binjai_api.quality.scoring import ELEMENTS, MAX_SCORE, MIN_SCORE

SERVICE_KINDS = ("permit", "complaint", "queue")
_SCORE_COLUMNS = tuple(f"u{element.number}" for element in ELEMENTS)


class SurveyInvitation(UUIDPrimaryKey, Base):
    """A resident's invitation to rate one service that ended for them: one per service instance
    (a permit application, a report, a queue booking), however often it ends."""

    __tablename__ = "quality_survey_invitations"
    __table_args__ = (
        sa.UniqueConstraint("service_kind", "service_id"),
        sa.CheckConstraint("service_kind IN ('permit', 'complaint', 'queue')", name="kind_known"),
        sa.Index("ix_quality_survey_invitations_user", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    service_kind: Mapped[str] = mapped_column(sa.String(20))
    service_id: Mapped[uuid.UUID]
    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL")
    )
    # permit type code, complaint category code, or the queue's poli (health service id)
    service_key: Mapped[str] = mapped_column(sa.String(60))
    service_name: Mapped[str] = mapped_column(sa.String(200))
    service_name_en: Mapped[str] = mapped_column(sa.String(200))
    reference: Mapped[str] = mapped_column(sa.String(60))  # what the resident knows it by
    period: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM (WIB) the service ended
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered: Mapped[bool] = mapped_column(default=False)


class SurveyAnswer(UUIDPrimaryKey, Base):
    """One resident's scores of the nine elements (u1..u9, 1-4) for one service in one month,
    with no link to the resident or the invitation."""

    __tablename__ = "quality_survey_answers"
    __table_args__ = (
        *(
            sa.CheckConstraint(f"{column} BETWEEN {MIN_SCORE} AND {MAX_SCORE}", name=column)
            for column in _SCORE_COLUMNS
        ),
        sa.Index("ix_quality_survey_answers_period", "period", "agency_id", "service_kind"),
    )

    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL")
    )
    service_kind: Mapped[str] = mapped_column(sa.String(20))
    service_key: Mapped[str] = mapped_column(sa.String(60))
    service_name: Mapped[str] = mapped_column(sa.String(200))
    service_name_en: Mapped[str] = mapped_column(sa.String(200))
    period: Mapped[str] = mapped_column(sa.String(7))
    u1: Mapped[int] = mapped_column(sa.SmallInteger)
    u2: Mapped[int] = mapped_column(sa.SmallInteger)
    u3: Mapped[int] = mapped_column(sa.SmallInteger)
    u4: Mapped[int] = mapped_column(sa.SmallInteger)
    u5: Mapped[int] = mapped_column(sa.SmallInteger)
    u6: Mapped[int] = mapped_column(sa.SmallInteger)
    u7: Mapped[int] = mapped_column(sa.SmallInteger)
    u8: Mapped[int] = mapped_column(sa.SmallInteger)
    u9: Mapped[int] = mapped_column(sa.SmallInteger)
    suggestion: Mapped[str | None] = mapped_column(sa.String(1000))


class FixCheck(UUIDPrimaryKey, Base):
    """ "Is it fixed?": asked once per resolution of a report (the unique key is the claim, so two
    workers never ask twice), answered once by the reporter or a supporter."""

    __tablename__ = "quality_fix_checks"
    __table_args__ = (
        sa.UniqueConstraint("complaint_id", "resolved_at"),
        sa.CheckConstraint("answer IN ('fixed', 'not_fixed')", name="answer_known"),
        sa.Index("ix_quality_fix_checks_asked", "asked_at", "agency_id"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE")
    )
    resolved_at: Mapped[datetime]
    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime]
    answer_until: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(sa.String(10))
    answered_at: Mapped[datetime | None]
