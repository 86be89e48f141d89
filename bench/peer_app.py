"""The minimal peer the API's CPU per request is compared with (issue 17): the same stack (Flask,
flask-smorest, marshmallow, flask-jwt-extended, SQLAlchemy) and nothing else, on the API's tables.

- `GET /me`: verifies the bearer token and reads the caller's account (one statement).
- `GET /complaints?page_size=20`: a page of 20 non-confidential reports, newest first, with
  flask-smorest's pagination and the total count (two statements).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask
from flask.views import MethodView
from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
from flask_smorest import Api, Blueprint, Page
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker


class PeerBase(DeclarativeBase):
    pass


class PeerUser(PeerBase):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    full_name: Mapped[str]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    role: Mapped[str]
    language: Mapped[str]
    created_at: Mapped[datetime]


class PeerComplaint(PeerBase):
    __tablename__ = "complaints"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tracking_number: Mapped[str]
    type: Mapped[str]
    title: Mapped[str]
    status: Mapped[str]
    privacy: Mapped[str]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    supporter_count: Mapped[int]
    created_at: Mapped[datetime]


class UserSchema(ma.Schema):
    id = ma.fields.UUID()
    full_name = ma.fields.String()
    email = ma.fields.String()
    phone = ma.fields.String()
    role = ma.fields.String()
    language = ma.fields.String()
    created_at = ma.fields.DateTime()


class ComplaintSchema(ma.Schema):
    id = ma.fields.UUID()
    tracking_number = ma.fields.String()
    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    supporter_count = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class SelectPage(Page):
    """flask-smorest's Page over a select: one statement for the page, one for the count."""

    @property
    def items(self) -> list[Any]:
        query = self.collection["query"].limit(self.page_params.page_size)
        query = query.offset(self.page_params.first_item)
        return list(self.collection["session"].scalars(query))

    @property
    def item_count(self) -> int:
        counted = sa.select(sa.func.count()).select_from(self.collection["query"].subquery())
        return int(self.collection["session"].scalar(counted) or 0)


def create_peer_app(database_url: str, jwt_secret: str) -> Flask:
    """The peer, on `database_url`, accepting the API's access tokens."""
    app = Flask("peer")
    app.config.update(
        API_TITLE="peer",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        JWT_SECRET_KEY=jwt_secret,
        JWT_ALGORITHM="HS256",
    )
    engine = sa.create_engine(database_url)
    session = scoped_session(sessionmaker(engine))
    app.extensions["peer_engine"] = engine
    app.teardown_appcontext(lambda _exc: session.remove())
    JWTManager(app)
    api = Api(app)
    blp = Blueprint("peer", __name__)

    @blp.route("/me")
    class MeView(MethodView):
        @jwt_required()
        @blp.response(200, UserSchema)
        def get(self) -> Any:
            """Read your own account"""
            return session.get(PeerUser, uuid.UUID(get_jwt_identity()))

    @blp.route("/complaints")
    class ComplaintsView(MethodView):
        @blp.response(200, ComplaintSchema(many=True))
        @blp.paginate(SelectPage)
        def get(self) -> Any:
            """List public complaints"""
            query = (
                sa.select(PeerComplaint)
                .where(PeerComplaint.privacy != "confidential")
                .order_by(PeerComplaint.created_at.desc(), PeerComplaint.id)
            )
            return {"query": query, "session": session}

    api.register_blueprint(blp)
    return app
