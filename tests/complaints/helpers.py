"""Shared steps of the complaint tests."""

from __future__ import annotations

import io
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from binjai_api.complaints.models import Complaint
from binjai_api.extensions import db
from binjai_api.notifications.models import Notification

INSIDE_BINJAI = {"lat": 3.6001, "lon": 98.4853}


def report(category_id: str, /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "complaint",
        "category_id": category_id,
        "title": "Jalan berlubang di Jl. Soekarno-Hatta",
        "description": "Lubang besar di depan toko nomor 12.",
        **INSIDE_BINJAI,
        "address": "Jl. Soekarno-Hatta No. 12",
        "kelurahan_code": "12.75.02.1001",
        "privacy": "public",
    }
    body.update(overrides)
    return body


def submit(
    client: FlaskClient, headers: dict[str, str], category_id: str, /, **overrides: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/complaints", headers=headers, json=report(category_id, **overrides)
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def act(
    client: FlaskClient, headers: dict[str, str], complaint_id: str, action: str, **fields: Any
) -> Any:
    return client.post(
        f"/api/v1/complaints/{complaint_id}/transitions",
        headers=headers,
        json={"action": action, **fields},
    )


def kinds_for(app: Flask, user_id: str) -> list[str]:
    """The notification kinds in a user's inbox, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Notification.kind)
                .where(Notification.user_id == uuid.UUID(user_id))
                .order_by(Notification.created_at)
            )
        )


def update_complaint(app: Flask, complaint_id: str, **values: Any) -> None:
    """Move a report's clock by hand (deadlines, the 7-day window)."""
    with app.app_context():
        db.session.execute(
            sa.update(Complaint).where(Complaint.id == uuid.UUID(complaint_id)).values(**values)
        )
        db.session.commit()


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying EXIF with a GPS position, as phones write them."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (3.0, 36.0, 0.5)
    gps[3] = "E"
    gps[4] = (98.0, 29.0, 7.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    complaint_id: str,
    content: bytes,
    filename: str = "photo.jpg",
) -> Any:
    return client.post(
        f"/api/v1/complaints/{complaint_id}/photos",
        headers=headers,
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
