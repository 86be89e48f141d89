"""Health: the facility directory and the online queue (antrean online)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Page

from binjai_api import access, idempotency, public_cache
from binjai_api.auth import principals
from binjai_api.auth.enums import Role
from binjai_api.config import API_V1_STR
from binjai_api.health import service
from binjai_api.health.schemas import (
    BEDS_EXAMPLE,
    BOOKING_EXAMPLE,
    FACILITY_EXAMPLE,
    BedsPutSchema,
    BookingCreateSchema,
    BookingSchema,
    BookingStatusSchema,
    CallNextSchema,
    CheckInSchema,
    FacilityCreateSchema,
    FacilityQueryArgsSchema,
    FacilityQueueQueryArgsSchema,
    FacilitySchema,
    FacilitySummarySchema,
    MyBookingsQueryArgsSchema,
    SessionCancelResultSchema,
    SessionCancelSchema,
    SessionPutSchema,
    StaffLinkCreateSchema,
    StaffLinkSchema,
    WalkInCreateSchema,
)
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage

blp = Blueprint(
    "health",
    __name__,
    url_prefix=API_V1_STR,
    description="Health facilities (puskesmas, hospitals, clinics) and online queue numbers.",
)

SAMPLE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def _principal() -> Any:
    return access.current_principal()


class BookingPage(SelectPage):
    """Bookings as the caller may see them (the NIK masked for those not entitled)."""

    @property
    def items(self) -> list[Any]:
        return service.booking_rows(super().items, _principal())


class MyBookingsPage(SelectPage):
    """The caller's own bookings: the page and its total read in one statement of plain rows
    (`service.my_bookings_rows`), then written in their JSON form; a poll whose rows are what
    the client has answers 304 before any is written."""

    collection: service.MyBookingsQuery  # type: ignore[assignment]
    _rows: list[Any]

    @property
    def item_count(self) -> int:
        # flask-smorest asks for the total first, then for the items.
        rows, total = service.my_bookings_rows(
            self.collection,
            offset=self.page_params.first_item,
            limit=self.page_params.page_size,
        )
        self._rows = list(rows)
        return total

    @property
    def items(self) -> list[Any]:
        self.poll_rows(self._rows)
        return service.my_booking_items(self._rows)


# --- facilities ---------------------------------------------------------------------------------


@blp.route("/facilities")
class FacilitiesView(MethodView):
    @access.public
    @public_cache.public_response
    @blp.etag
    @blp.arguments(FacilityQueryArgsSchema(), location="query")
    @blp.response(200, FacilitySummarySchema(many=True))
    @blp.paginate(Page)
    def get(self, args: dict[str, Any]) -> Any:
        """Search health facilities, e.g. open now near a point, sorted by distance"""
        # `open_now` turns only at a whole local minute (hours are HH:MM), today's day off at
        # midnight: a kept answer lives until the minute ends.
        public_cache.valid_until(public_cache.end_of_minute(service.local_now()))
        return service.search_facility_summaries(**args)

    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(FacilityCreateSchema(), example=FACILITY_EXAMPLE)
    @blp.response(201, FacilitySchema)
    def post(self, payload: dict[str, Any]) -> Any:
        """Add a health facility with its hours, poli and sessions"""
        return service.create_facility(**payload)


@blp.route("/facilities/<uuid:facility_id>")
class FacilityByIdView(MethodView):
    @access.public
    @blp.etag
    @blp.response(200, FacilitySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, facility_id: uuid.UUID) -> Any:
        """Read a health facility: hours, poli and schedules, beds, open now"""
        return service.get_facility(facility_id)


@blp.route("/facilities/<uuid:facility_id>/beds")
class FacilityBedsView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.etag
    @blp.arguments(BedsPutSchema(), example=BEDS_EXAMPLE)
    @blp.response(200, FacilitySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def put(self, payload: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """Report a hospital's free beds by class (its staff; If-Match: the facility's ETag)"""
        blp.check_etag(service.get_facility(facility_id, lock=True), FacilitySchema)
        return service.update_beds(
            principal=_principal(), facility_id=facility_id, beds=payload["beds"]
        )


@blp.route("/facilities/<uuid:facility_id>/services/<uuid:service_id>/sessions/<string:weekday>")
class ServiceSessionView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.etag
    @blp.arguments(
        SessionPutSchema(),
        example={
            "starts_at": "08:00",
            "ends_at": "12:00",
            "online_quota": 40,
            "walk_in_quota": 20,
            "minutes_per_patient": 10,
        },
    )
    @blp.response(200, FacilitySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(
        self, payload: dict[str, Any], facility_id: uuid.UUID, service_id: uuid.UUID, weekday: str
    ) -> Any:
        """Set a poli's session on a weekday (`monday` ... `sunday`; If-Match: facility's ETag)"""
        blp.check_etag(service.get_facility(facility_id, lock=True), FacilitySchema)
        return service.set_session(
            principal=_principal(),
            facility_id=facility_id,
            service_id=service_id,
            weekday=weekday,
            **payload,
        )


@blp.route("/facilities/<uuid:facility_id>/staff")
class FacilityStaffView(MethodView):
    @access.roles(Role.ADMIN)
    @blp.response(200, StaffLinkSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(SelectPage)
    def get(self, facility_id: uuid.UUID) -> Any:
        """List the officers who run this facility's queues"""
        return service.staff_query(facility_id)

    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(StaffLinkCreateSchema(), example={"user_id": SAMPLE_ID})
    @blp.response(201, StaffLinkSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, payload: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """Make an officer staff of this facility (moves them from another one)"""
        return service.add_staff(facility_id=facility_id, user_id=payload["user_id"])


@blp.route("/facilities/<uuid:facility_id>/staff/<uuid:user_id>")
class FacilityStaffByIdView(MethodView):
    @access.roles(Role.ADMIN)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, facility_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Remove an officer from this facility's staff"""
        service.remove_staff(facility_id=facility_id, user_id=user_id)


# --- the queue: facility staff ------------------------------------------------------------------


@blp.route("/facilities/<uuid:facility_id>/queue")
class FacilityQueueView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.arguments(FacilityQueueQueryArgsSchema(), location="query")
    @blp.response(200, BookingSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(BookingPage)
    def get(self, args: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """List a day's queue of this facility (its staff)"""
        return service.facility_queue_query(principal=_principal(), facility_id=facility_id, **args)


@blp.route("/facilities/<uuid:facility_id>/queue/check-in")
class CheckInView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.arguments(CheckInSchema(), example={"booking_code": "K7M2QXPA"})
    @blp.response(200, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """Check a patient in by booking code"""
        return service.check_in(
            principal=_principal(), facility_id=facility_id, booking_code=payload["booking_code"]
        )


@blp.route("/facilities/<uuid:facility_id>/queue/walk-ins")
class WalkInsView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @idempotency.idempotent
    @blp.arguments(
        WalkInCreateSchema(),
        example={"service_id": SAMPLE_ID, "patient": {"name": "Budi Santoso"}},
    )
    @blp.response(201, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """Give a walk-in patient a number in today's queue"""
        return service.register_walk_in(principal=_principal(), facility_id=facility_id, **payload)


@blp.route("/facilities/<uuid:facility_id>/queue/call-next")
class CallNextView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.arguments(CallNextSchema(), example={"service_id": SAMPLE_ID})
    @blp.response(200, BookingStatusSchema, description="The patient now called.")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """Call the next waiting patient of a poli (409 `queue_empty` when nobody waits)"""
        return service.call_next(
            principal=_principal(), facility_id=facility_id, service_id=payload["service_id"]
        )


@blp.route("/facilities/<uuid:facility_id>/queue/cancel-session")
class SessionCancelView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.arguments(
        SessionCancelSchema(),
        example={"service_id": SAMPLE_ID, "date": "2026-11-30", "reason": "Dokter cuti"},
    )
    @blp.response(200, SessionCancelResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any], facility_id: uuid.UUID) -> Any:
        """Cancel a poli's session on a date and notify everyone booked"""
        return service.cancel_session_day(
            principal=_principal(), facility_id=facility_id, **payload
        )


# --- the queue: residents -----------------------------------------------------------------------


@blp.route("/queue-bookings")
class QueueBookingsView(MethodView):
    @principals.reads_caller_account  # a booking for oneself reads one's NIK
    @access.roles(Role.CITIZEN)
    @idempotency.idempotent
    @blp.arguments(BookingCreateSchema(), example=BOOKING_EXAMPLE)
    @blp.response(201, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Book a queue number at a poli (409 `quota_full`, `already_booked` ...)"""
        return service.book(principal=_principal(), **payload)


@blp.route("/queue-bookings/mine")
class MyQueueBookingsView(MethodView):
    @access.authenticated
    @blp.arguments(MyBookingsQueryArgsSchema(), location="query")
    @blp.response(200, BookingSchema(many=True))
    @blp.paginate(MyBookingsPage, polled=True)
    def get(self, args: dict[str, Any]) -> Any:
        """List my queue bookings"""
        return service.my_bookings_query(user_id=_principal().id, **args)


@blp.route("/queue-bookings/<uuid:booking_id>")
class QueueBookingByIdView(MethodView):
    @access.authenticated
    @blp.etag
    @blp.response(200, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, booking_id: uuid.UUID) -> Any:
        """Live status of a booking: number called now, people ahead, estimated time"""
        return service.get_booking(principal=_principal(), booking_id=booking_id)


@blp.route("/queue-bookings/<uuid:booking_id>/cancel")
class QueueBookingCancelView(MethodView):
    @access.authenticated
    @blp.response(200, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, booking_id: uuid.UUID) -> Any:
        """Cancel my booking (before check-in)"""
        return service.cancel_booking(principal=_principal(), booking_id=booking_id)


@blp.route("/queue-bookings/<uuid:booking_id>/serve")
class QueueBookingServeView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.response(200, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, booking_id: uuid.UUID) -> Any:
        """Mark a called patient served (its staff)"""
        return service.finish_booking(principal=_principal(), booking_id=booking_id, action="serve")


@blp.route("/queue-bookings/<uuid:booking_id>/no-show")
class QueueBookingNoShowView(MethodView):
    @access.roles(Role.OFFICER, Role.ADMIN)
    @blp.response(200, BookingStatusSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, booking_id: uuid.UUID) -> Any:
        """Mark a patient who did not come a no-show (its staff)"""
        return service.finish_booking(
            principal=_principal(), booking_id=booking_id, action="mark_no_show"
        )
