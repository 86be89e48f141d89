"""Complaints, aspirations and information requests: submission, the public feed, the officers'
queue, the one transitions table at work, comments, photos and "saya juga" support.

Object-level rules live here: a resident sees only their own reports (anything else is 404), an
officer only their agency's, BCC operators all of them; an anonymous reporter's identity never
leaves towards the agency or the public, and public functions never carry any reporter identity."""

from binjai_api.complaints.service._common import (
    CATEGORY_SORTABLE,
    COMPLAINT_SORTABLE,
    ESCALATE_ACTION,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    NEARBY_DEFAULT_RADIUS_M,
    PRIVATE_API,
    PUBLIC_API,
    PUBLIC_SORTABLE,
    TRACKING_PREFIX,
)
from binjai_api.complaints.service.categories import (
    active_categories,
    categories_query,
    category_ids_by_codes,
    create_category,
    find_category,
    find_category_by_code,
    get_category,
    seed_categories,
    update_category,
)
from binjai_api.complaints.service.comments import add_comment, comment_view, comments_query
from binjai_api.complaints.service.fix_checks import (
    ResolvedReport,
    ask_if_fixed,
    is_follower,
    resolved_reports,
    settle_fix_check,
)
from binjai_api.complaints.service.mine import (
    MyComplaints,
    MyComplaintsPage,
    my_complaints,
    my_complaints_page,
)
from binjai_api.complaints.service.photos import (
    add_photo,
    photo_private_url,
    photo_public_url,
    photo_view,
    read_photo,
)
from binjai_api.complaints.service.public import (
    find_public_complaint,
    get_public_complaint,
    nearby_query,
    public_complaints,
    public_complaints_by_tracking_numbers,
    public_complaints_query,
    public_geojson,
    public_photo_path,
    public_views_page,
    read_public_photo,
)
from binjai_api.complaints.service.submission import area_bbox, submit_complaint
from binjai_api.complaints.service.support import support_complaint, withdraw_support
from binjai_api.complaints.service.views import (
    detail_view,
    get_complaint,
    list_view,
    public_detail_view,
    public_view,
    queue_query,
    reveal_contact,
)
from binjai_api.complaints.service.workflow import record_escalation, transition

__all__ = [
    "CATEGORY_SORTABLE",
    "COMPLAINT_SORTABLE",
    "ESCALATE_ACTION",
    "MAX_PHOTOS",
    "MAX_PHOTO_BYTES",
    "NEARBY_DEFAULT_RADIUS_M",
    "PRIVATE_API",
    "PUBLIC_API",
    "PUBLIC_SORTABLE",
    "TRACKING_PREFIX",
    "MyComplaints",
    "MyComplaintsPage",
    "ResolvedReport",
    "active_categories",
    "add_comment",
    "add_photo",
    "area_bbox",
    "ask_if_fixed",
    "categories_query",
    "category_ids_by_codes",
    "comment_view",
    "comments_query",
    "create_category",
    "detail_view",
    "find_category",
    "find_category_by_code",
    "find_public_complaint",
    "get_category",
    "get_complaint",
    "get_public_complaint",
    "is_follower",
    "list_view",
    "my_complaints",
    "my_complaints_page",
    "nearby_query",
    "photo_private_url",
    "photo_public_url",
    "photo_view",
    "public_complaints",
    "public_complaints_by_tracking_numbers",
    "public_complaints_query",
    "public_detail_view",
    "public_geojson",
    "public_photo_path",
    "public_view",
    "public_views_page",
    "queue_query",
    "read_photo",
    "read_public_photo",
    "record_escalation",
    "resolved_reports",
    "reveal_contact",
    "seed_categories",
    "settle_fix_check",
    "submit_complaint",
    "support_complaint",
    "transition",
    "update_category",
    "withdraw_support",
]
