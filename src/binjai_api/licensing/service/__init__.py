"""Licensing (perizinan): permit types, applications and their workflow, levy bills, issued
permits and their public verification. Every function owns its transaction."""

from binjai_api.licensing.service._common import (
    DOCUMENT_REVIEW_STATUSES,
    EDITABLE_STATUSES,
    ESCALATE_ACTION,
    FIELD_TYPES,
    MISSING_DOCUMENT,
    MISSING_VALUE,
    NEW_VERSION_NEEDED,
    REVIEW_RESULTS,
    SYSTEM_ACTOR,
)
from binjai_api.licensing.service.applications import (
    APPLICATION_SORTABLE,
    ApplicationDetail,
    NextAction,
    get_application,
    my_applications_query,
    next_action,
    timeline,
    work_queue_query,
)
from binjai_api.licensing.service.billing import (
    PaymentResult,
    check_payment_signature,
    record_payment,
)
from binjai_api.licensing.service.catalog import (
    TYPE_SORTABLE,
    create_permit_type,
    get_permit_type,
    permit_types_query,
    seed_demo_permit_types,
    update_permit_type,
)
from binjai_api.licensing.service.documents import (
    document_content,
    review_document,
    upload_document,
)
from binjai_api.licensing.service.issuance import PERMIT_SORTABLE, my_permits_query
from binjai_api.licensing.service.steps import record_escalation
from binjai_api.licensing.service.submission import create_application, submit, update_form
from binjai_api.licensing.service.workflow import transition

__all__ = [
    "APPLICATION_SORTABLE",
    "DOCUMENT_REVIEW_STATUSES",
    "EDITABLE_STATUSES",
    "ESCALATE_ACTION",
    "FIELD_TYPES",
    "MISSING_DOCUMENT",
    "MISSING_VALUE",
    "NEW_VERSION_NEEDED",
    "PERMIT_SORTABLE",
    "REVIEW_RESULTS",
    "SYSTEM_ACTOR",
    "TYPE_SORTABLE",
    "ApplicationDetail",
    "NextAction",
    "PaymentResult",
    "check_payment_signature",
    "create_application",
    "create_permit_type",
    "document_content",
    "get_application",
    "get_permit_type",
    "my_applications_query",
    "my_permits_query",
    "next_action",
    "permit_types_query",
    "record_escalation",
    "record_payment",
    "review_document",
    "seed_demo_permit_types",
    "submit",
    "timeline",
    "transition",
    "update_form",
    "update_permit_type",
    "upload_document",
    "work_queue_query",
]
