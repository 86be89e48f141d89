"""Area alerts: the areas a resident follows, and each kelurahan's Atom feed."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.area_alerts import feed, service
from binjai_api.area_alerts.schemas import (
    AREA_SUBSCRIPTION_EXAMPLE,
    AreaSubscriptionCreateSchema,
    AreaSubscriptionSchema,
)
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "area_alerts",
    __name__,
    url_prefix=API_V1_STR,
    description="Area alerts: follow a kelurahan or kecamatan and hear of public reports filed "
    "or resolved there (push and inbox, kinds `area_report_filed`, `area_report_resolved`, "
    "at most AREA_ALERTS_DAILY_LIMIT a day, the rest in one `area_digest` the next morning; "
    "mutable in the notification preferences). Each kelurahan's public reports as an Atom feed.",
)

FEED_CACHE_SECONDS = 300


@blp.route("/me/area-subscriptions")
class AreaSubscriptionsView(MethodView):
    @access.roles(Role.CITIZEN)
    @blp.response(200, AreaSubscriptionSchema(many=True))
    @blp.paginate(SelectPage)
    @blp.doc(operationId="listMyAreaSubscriptions")
    def get(self) -> Any:
        """List the areas I follow"""
        return service.subscriptions_query(user_id=access.current_principal().id)

    @access.roles(Role.CITIZEN)
    @idempotency.idempotent
    @blp.arguments(AreaSubscriptionCreateSchema, example=AREA_SUBSCRIPTION_EXAMPLE)
    @blp.response(201, AreaSubscriptionSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(
        operationId="followArea",
        description="Follow a kelurahan or kecamatan, for every category or only some. 409 "
        "`already_following` for an area already followed, 409 `too_many_areas` beyond "
        f"{service.MAX_AREAS_PER_RESIDENT}; 422 for an unknown area or category. "
        "Confidential reports are never announced; anonymous ones only as the public feed "
        "shows them; a resident never hears of their own report.",
    )
    def post(self, payload: dict[str, Any]) -> Any:
        """Follow a kelurahan or kecamatan"""
        return service.follow_area(user_id=access.current_principal().id, **payload)


@blp.route("/me/area-subscriptions/<uuid:subscription_id>")
class AreaSubscriptionByIdView(MethodView):
    @access.roles(Role.CITIZEN)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="unfollowArea")
    def delete(self, subscription_id: uuid.UUID) -> None:
        """Stop following an area"""
        service.unfollow_area(
            user_id=access.current_principal().id, subscription_id=subscription_id
        )


@blp.route("/public/kelurahan/<string(maxlength=13):kelurahan_code>/complaints.atom")
class KelurahanFeedView(MethodView):
    @access.public
    @blp.response(200)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        operationId="getKelurahanComplaintsFeed",
        description="The newest 50 public reports of a kelurahan (by its Kemendagri code, e.g. "
        "`12.75.02.1001`) as an Atom 1.0 feed for feed readers: what the public feed shows, "
        "never confidential reports or reporters; links absolute from PUBLIC_BASE_URL. "
        "Indonesian, English with `Accept-Language: en`. Cached 5 minutes, with an ETag.",
        responses={
            "200": {
                "description": "An Atom feed (RFC 4287).",
                "content": {feed.ATOM_MEDIA_TYPE: {"schema": {"type": "string"}}},
            }
        },
    )
    def get(self, kelurahan_code: str) -> Response:
        """Atom feed of a kelurahan's public reports"""
        body = feed.kelurahan_feed(kelurahan_code)
        response = current_app.response_class(
            body,
            mimetype=feed.ATOM_MEDIA_TYPE,
            content_type=f"{feed.ATOM_MEDIA_TYPE}; charset=utf-8",
        )
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        response.headers["Cache-Control"] = f"public, max-age={FEED_CACHE_SECONDS}"
        response.headers["Vary"] = "Accept-Language"
        response.make_conditional(request)
        return response
