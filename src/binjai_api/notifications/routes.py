"""Devices, the inbox and preferences (residents); broadcasts and deliveries (Command Center)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from binjai_api import access, idempotency
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.notifications import service
from binjai_api.notifications.schemas import (
    BROADCAST_EXAMPLE,
    DEVICE_EXAMPLE,
    PREFERENCES_EXAMPLE,
    BroadcastCreateSchema,
    BroadcastProgressSchema,
    BroadcastQueryArgsSchema,
    BroadcastSchema,
    DeliveryQueryArgsSchema,
    DeliverySchema,
    DeviceRegisterSchema,
    DeviceSchema,
    InboxQueryArgsSchema,
    NotificationSchema,
    PreferencesSchema,
    ReadAllResultSchema,
)
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix=API_V1_STR,
    description="Push devices, the in-app inbox and notification preferences.",
)
ops_blp = Blueprint(
    "broadcasts",
    __name__,
    url_prefix=API_V1_STR,
    description="City announcements and push delivery, for the Binjai Command Center.",
)

UNREAD_COUNT_HEADER = {
    "X-Unread-Count": {
        "description": "Unread entries in the whole inbox (for the app's badge).",
        "schema": {"type": "integer"},
    }
}


class InboxPage(SelectPage):
    """The caller's inbox: its page, total and unread badge read in one statement of plain rows
    (`service.inbox_page`), then written in their JSON form; a poll whose rows are what the
    client has answers 304 before any is written."""

    collection: service.InboxListing  # type: ignore[assignment]

    @property
    def item_count(self) -> int:
        # flask-smorest asks for the total first, then for the items.
        self._page = service.inbox_page(
            self.collection, offset=self.page_params.first_item, limit=self.page_params.page_size
        )
        self.send_headers({"X-Unread-Count": str(self._page.unread_count)})
        return self._page.total

    @property
    def items(self) -> list[Any]:
        self.poll_rows(self._page.rows)
        return service.inbox_entries(self._page.rows)


@blp.route("/devices")
class DevicesView(MethodView):
    @access.authenticated
    @blp.response(200, DeviceSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self) -> Any:
        """List my registered devices"""
        return service.devices_query(user_id=access.current_principal().id)

    @access.authenticated
    @idempotency.idempotent
    @blp.arguments(DeviceRegisterSchema(), example=DEVICE_EXAMPLE)
    @blp.response(201, DeviceSchema, description="The token is new.")
    @blp.alt_response(
        200,
        schema=DeviceSchema,
        description="The token was known: it now belongs "
        "to this account and its timestamp is refreshed.",
    )
    def post(self, payload: dict[str, Any]) -> Any:
        """Register this device for push notifications"""
        principal = access.current_principal()
        device, created = service.register_device(
            user_id=principal.id, session_id=principal.session_id, **payload
        )
        return device, 201 if created else 200


@blp.route("/devices/<string:token>")
class DeviceByTokenView(MethodView):
    @access.authenticated
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token: str) -> None:
        """Unregister a device (on logout)"""
        service.unregister_device(user_id=access.current_principal().id, token=token)


@blp.route("/notifications")
class InboxView(MethodView):
    @access.authenticated
    @blp.arguments(InboxQueryArgsSchema(), location="query")
    @blp.response(200, NotificationSchema(many=True), headers=UNREAD_COUNT_HEADER)
    @blp.paginate(InboxPage, polled=True)
    def get(self, args: dict[str, Any]) -> Any:
        """List my notifications, newest first"""
        return service.InboxListing(user_id=access.current_principal().id, **args)


@blp.route("/notifications/<uuid:notification_id>")
class NotificationByIdView(MethodView):
    @access.authenticated
    @blp.etag
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, notification_id: uuid.UUID) -> Any:
        """Read one of my notifications"""
        return service.get_notification(
            user_id=access.current_principal().id, notification_id=notification_id
        )


@blp.route("/notifications/<uuid:notification_id>/read")
class NotificationReadView(MethodView):
    @access.authenticated
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, notification_id: uuid.UUID) -> Any:
        """Mark a notification read"""
        return service.mark_read(
            user_id=access.current_principal().id, notification_id=notification_id
        )


@blp.route("/notifications/read-all")
class NotificationsReadAllView(MethodView):
    @access.authenticated
    @blp.response(200, ReadAllResultSchema)
    def post(self) -> Any:
        """Mark all my notifications read"""
        user_id = access.current_principal().id
        marked = service.mark_all_read(user_id=user_id)
        return {"marked_read": marked, "unread_count": service.unread_count(user_id=user_id)}


@blp.route("/me/notification-preferences")
class PreferencesView(MethodView):
    @access.authenticated
    @blp.response(200, PreferencesSchema)
    def get(self) -> Any:
        """Read what I mute and which topics I follow"""
        return service.get_preferences(user_id=access.current_principal().id)

    @access.authenticated
    @blp.arguments(PreferencesSchema(), example=PREFERENCES_EXAMPLE)
    @blp.response(200, PreferencesSchema)
    def put(self, payload: dict[str, Any]) -> Any:
        """Choose what I mute and which topics I follow"""
        return service.set_preferences(user_id=access.current_principal().id, **payload)


@ops_blp.route("/broadcasts")
class BroadcastsView(MethodView):
    @access.roles(Role.OPERATOR, Role.ADMIN)
    @ops_blp.arguments(BroadcastQueryArgsSchema(), location="query")
    @ops_blp.response(200, BroadcastSchema(many=True))
    @ops_blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List city announcements"""
        return service.broadcasts_query(**args)

    @access.roles(Role.OPERATOR, Role.ADMIN)
    @idempotency.idempotent
    @ops_blp.arguments(BroadcastCreateSchema(), example=BROADCAST_EXAMPLE)
    @ops_blp.response(
        202,
        BroadcastProgressSchema,
        description="Queued: the outbox worker records it in each inbox and pushes it, in batches.",
    )
    def post(self, payload: dict[str, Any]) -> Any:
        """Send a city announcement"""
        return service.create_broadcast(created_by_id=access.current_principal().id, **payload)


@ops_blp.route("/broadcasts/<uuid:broadcast_id>")
class BroadcastByIdView(MethodView):
    @access.roles(Role.OPERATOR, Role.ADMIN)
    @ops_blp.etag
    @ops_blp.response(200, BroadcastProgressSchema)
    @ops_blp.alt_response(404, response="NOT_FOUND")
    def get(self, broadcast_id: uuid.UUID) -> Any:
        """Read a city announcement and its delivery progress"""
        return service.get_broadcast(broadcast_id)


@ops_blp.route("/notification-deliveries")
class DeliveriesView(MethodView):
    @access.roles(Role.OPERATOR, Role.ADMIN)
    @ops_blp.arguments(DeliveryQueryArgsSchema(), location="query")
    @ops_blp.response(200, DeliverySchema(many=True))
    @ops_blp.paginate(SelectPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List push deliveries, e.g. the failed ones"""
        return service.deliveries_query(**args)


@ops_blp.route("/notification-deliveries/<uuid:delivery_id>/retry")
class DeliveryRetryView(MethodView):
    @access.roles(Role.OPERATOR, Role.ADMIN)
    @ops_blp.response(200, DeliverySchema)
    @ops_blp.alt_response(404, response="NOT_FOUND")
    @ops_blp.alt_response(409, response="CONFLICT")
    def post(self, delivery_id: uuid.UUID) -> Any:
        """Queue a failed push again"""
        return service.retry_delivery(delivery_id)
