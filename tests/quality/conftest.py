"""The people and reports of the complaint tests, and steps to end services and answer surveys."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.extensions import db
from binjai_api.quality import service as quality_service
from binjai_api.quality.models import SurveyInvitation
from binjai_api.quality.scoring import ELEMENTS
from tests.complaints.conftest import (  # noqa: F401  (fixtures shared with complaints)
    Person,
    categories,
    make_person,
    operator,
    other_resident,
    pupr_officer,
    resident,
)
from tests.complaints.helpers import act, submit

INVITATIONS = "/api/v1/survey-invitations"


def closed_report(
    client: FlaskClient,
    reporter: Person,
    bcc_operator: Person,
    officer: Person,
    category_id: str,
    **overrides: Any,
) -> dict[str, Any]:
    """A report taken through its whole life: dispatched, resolved, closed by the operator."""
    complaint = submit(client, reporter.headers, category_id, **overrides)
    cid = complaint["id"]
    assert act(client, bcc_operator.headers, cid, "dispatch").status_code == 200
    assert act(client, officer.headers, cid, "resolve", note="Sudah ditambal.").status_code == 200
    closed = act(client, bcc_operator.headers, cid, "close")
    assert closed.status_code == 200, closed.get_json()
    return dict(closed.get_json())


def invitation_ids(app: Flask, user_id: str) -> list[str]:
    with app.app_context():
        return [
            str(found)
            for found in db.session.scalars(
                sa.select(SurveyInvitation.id).where(SurveyInvitation.user_id == uuid.UUID(user_id))
            )
        ]


def invite(app: Flask, user_id: str, *, service_key: str = "road_damage", **kwargs: Any) -> str:
    """An invitation written through the service, as a domain does when its service ends."""
    with app.app_context():
        agency = kwargs.pop("agency_id", None)
        invitation = quality_service.invite(
            user_id=uuid.UUID(user_id),
            service_kind=kwargs.pop("service_kind", "complaint"),
            service_id=kwargs.pop("service_id", uuid.uuid4()),
            agency_id=agency,
            service_key=service_key,
            service_name=kwargs.pop("service_name", "Jalan rusak"),
            service_name_en=kwargs.pop("service_name_en", "Road damage"),
            reference=kwargs.pop("reference", "ADU-TEST"),
        )
        db.session.commit()
        assert invitation is not None
        return str(invitation.id)


def scores(*values: int) -> dict[str, int]:
    """The nine scores in the regulation's order (U1..U9)."""
    assert len(values) == len(ELEMENTS)
    return {element.code: value for element, value in zip(ELEMENTS, values, strict=True)}


def answer(
    client: FlaskClient, headers: dict[str, str], invitation_id: str, body: dict[str, Any]
) -> Any:
    return client.post(f"{INVITATIONS}/{invitation_id}/answers", headers=headers, json=body)
