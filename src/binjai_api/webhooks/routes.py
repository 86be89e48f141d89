"""Webhook endpoints, for integrators' API clients holding the `webhooks:manage` scope."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.auth.enums import ApiScope
from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage
from binjai_api.webhooks import service
from binjai_api.webhooks.schemas import (
    CREATED_EXAMPLE,
    DELIVERY_EXAMPLE,
    ENDPOINT_EXAMPLE,
    WebhookDeliveryQueryArgsSchema,
    WebhookDeliverySchema,
    WebhookEndpointCreatedSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix=API_V1_STR,
    description="Signed webhooks (Standard Webhooks) to integrators: endpoints, secret "
    "rotation, the delivery log and redelivery. For API clients with `webhooks:manage`.",
)

manage = access.require(scopes=[ApiScope.WEBHOOKS_MANAGE])


def _client_id() -> uuid.UUID:
    return access.current_principal().id


def _with_secret(endpoint: Any, secret: str) -> dict[str, Any]:
    shown = {name: getattr(endpoint, name) for name in WebhookEndpointSchema().fields}
    return {**shown, "secret": secret}


@blp.route("/webhook-endpoints")
class WebhookEndpointsView(MethodView):
    @manage
    @blp.doc(operationId="listWebhookEndpoints")
    @blp.response(200, WebhookEndpointSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self) -> Any:
        """List my webhook endpoints"""
        return service.endpoints_query(api_client_id=_client_id())

    @manage
    @idempotency.idempotent
    @blp.doc(operationId="createWebhookEndpoint")
    @blp.arguments(WebhookEndpointCreateSchema, example=ENDPOINT_EXAMPLE)
    @blp.response(201, WebhookEndpointCreatedSchema, example=CREATED_EXAMPLE)
    def post(self, payload: dict[str, Any]) -> Any:
        """Register a webhook endpoint; its signing secret is shown only in this answer

        Each event type needs its read scope (422 otherwise). In production the URL must be
        https and resolve to public addresses only. A retry with the same Idempotency-Key
        replays this answer, secret included (the secret is kept to sign anyway).
        """
        principal = access.current_principal()
        endpoint, secret = service.create_endpoint(
            api_client_id=principal.id, scopes=principal.scopes, **payload
        )
        return _with_secret(endpoint, secret)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>")
class WebhookEndpointByIdView(MethodView):
    @manage
    @blp.etag
    @blp.doc(operationId="getWebhookEndpoint")
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, endpoint_id: uuid.UUID) -> Any:
        """Read one of my webhook endpoints"""
        return service.get_endpoint(api_client_id=_client_id(), endpoint_id=endpoint_id)

    @manage
    @blp.doc(operationId="deleteWebhookEndpoint")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, endpoint_id: uuid.UUID) -> None:
        """Remove a webhook endpoint and its delivery log"""
        service.delete_endpoint(api_client_id=_client_id(), endpoint_id=endpoint_id)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/secret-rotations")
class WebhookSecretRotationView(MethodView):
    @manage
    @idempotency.idempotent
    @blp.doc(operationId="rotateWebhookSecret")
    @blp.response(200, WebhookEndpointCreatedSchema, example=CREATED_EXAMPLE)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id: uuid.UUID) -> Any:
        """Rotate an endpoint's signing secret; the new one is shown only in this answer

        During the overlap (`previous_secret_expires_at`, WEBHOOK_SECRET_OVERLAP_HOURS) every
        message carries two signatures in `webhook-signature`, space-separated: one with the
        new secret, one with the previous. Send an Idempotency-Key: a retry then gets the same
        new secret instead of rotating twice (which would end the first one's overlap).
        """
        endpoint, secret = service.rotate_secret(
            api_client_id=_client_id(), endpoint_id=endpoint_id
        )
        return _with_secret(endpoint, secret)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/enable")
class WebhookEndpointEnableView(MethodView):
    @manage
    @blp.doc(operationId="enableWebhookEndpoint")
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id: uuid.UUID) -> Any:
        """Enable an endpoint again after it was disabled for failing"""
        return service.enable_endpoint(api_client_id=_client_id(), endpoint_id=endpoint_id)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/deliveries")
class WebhookDeliveriesView(MethodView):
    @manage
    @blp.doc(operationId="listWebhookDeliveries")
    @blp.arguments(WebhookDeliveryQueryArgsSchema, location="query")
    @blp.response(200, WebhookDeliverySchema(many=True), example=[DELIVERY_EXAMPLE])
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(SelectPage)
    def get(self, args: dict[str, Any], endpoint_id: uuid.UUID) -> Any:
        """List an endpoint's deliveries, newest first (the delivery log)"""
        return service.deliveries_query(
            api_client_id=_client_id(), endpoint_id=endpoint_id, status=args.get("status")
        )


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver")
class WebhookRedeliverView(MethodView):
    @manage
    @blp.doc(operationId="redeliverWebhook")
    @blp.response(202, WebhookDeliverySchema, example=DELIVERY_EXAMPLE)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Any:
        """Send a delivery again, with the same webhook-id (queued for the worker)"""
        return service.redeliver(
            api_client_id=_client_id(), endpoint_id=endpoint_id, delivery_id=delivery_id
        )
