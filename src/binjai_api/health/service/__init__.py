"""Health: the facility directory (search near a point, open now) and the online queue.

Queue numbers come from one counter row per session and date (`QueueDay`). Every write that
depends on the queue's state first updates that row: on PostgreSQL the UPDATE takes its row lock,
so bookings, calls and cancellations of one poli-day run one after the other; on SQLite the UPDATE
takes the database's write lock, which serialises them the same way. Unique constraints (one
number per day, one active booking per person) are the last line of defence and answer 409."""

from binjai_api.health.service._common import (
    BED_CLASSES,
    BOOKING_CODE_ALPHABET,
    BOOKING_CODE_LENGTH,
    BOOKING_STATUSES,
    BOOKING_TRANSITIONS,
    CANCEL_AHEAD_DAYS,
    FACILITY_TYPES,
    SERVICE_CODES,
    THREE_AHEAD,
    WAITING_STATUSES,
    WEEKDAYS,
    current_time,
    local_instant,
    local_now,
    next_status,
    transitions_description,
)
from binjai_api.health.service.bookings import (
    BookingView,
    booking_rows,
    booking_view,
    facility_queue_query,
    get_booking,
    my_bookings_query,
)
from binjai_api.health.service.desk import call_next, cancel_booking, check_in, finish_booking
from binjai_api.health.service.facilities import (
    FacilityView,
    create_facility,
    get_facility,
    is_open,
    search_facilities,
    search_facility_summaries,
    seed_demo_facilities,
    set_session,
    update_beds,
)
from binjai_api.health.service.queue import book, new_booking_code, register_walk_in
from binjai_api.health.service.sessions import SessionCancellation, cancel_session_day
from binjai_api.health.service.staff import (
    add_staff,
    queue_day_facility_id,
    remove_staff,
    require_staff,
    staff_facilities,
    staff_facility_id,
    staff_query,
)

__all__ = [
    "BED_CLASSES",
    "BOOKING_CODE_ALPHABET",
    "BOOKING_CODE_LENGTH",
    "BOOKING_STATUSES",
    "BOOKING_TRANSITIONS",
    "CANCEL_AHEAD_DAYS",
    "FACILITY_TYPES",
    "SERVICE_CODES",
    "THREE_AHEAD",
    "WAITING_STATUSES",
    "WEEKDAYS",
    "BookingView",
    "FacilityView",
    "SessionCancellation",
    "add_staff",
    "book",
    "booking_rows",
    "booking_view",
    "call_next",
    "cancel_booking",
    "cancel_session_day",
    "check_in",
    "create_facility",
    "current_time",
    "facility_queue_query",
    "finish_booking",
    "get_booking",
    "get_facility",
    "is_open",
    "local_instant",
    "local_now",
    "my_bookings_query",
    "new_booking_code",
    "next_status",
    "queue_day_facility_id",
    "register_walk_in",
    "remove_staff",
    "require_staff",
    "search_facilities",
    "search_facility_summaries",
    "seed_demo_facilities",
    "set_session",
    "staff_facilities",
    "staff_facility_id",
    "staff_query",
    "transitions_description",
    "update_beds",
]
