"""Licensing: the levy (retribusi): bills and the payment gateway's callbacks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from binjai_api.db import utcnow
from binjai_api.errors import Problem, conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext
from binjai_api.licensing import signing
from binjai_api.licensing.models import (
    PermitApplication,
    PermitBill,
)
from binjai_api.licensing.service.steps import _apply, _transition_or_conflict
from binjai_api.licensing.workflow import (
    Action,
)
from binjai_api.numbering import next_in_series
from binjai_api.workcalendar import service as workcalendar

# --- levy --------------------------------------------------------------------------------------


def _issue_bill(application: PermitApplication, now: datetime) -> PermitBill:
    """The SKRD: the levy at approval time, with a payment code for the bank or QRIS."""
    year = workcalendar.local_date(now).year
    sequence = next_in_series(f"bill:{year}")
    bill = PermitBill(
        application_id=application.id,
        payment_code=f"1275{year % 100:02d}{sequence:08d}",
        amount_idr=int(application.permit_type.levy_idr or 0),
        status="unpaid",
        due_at=now,  # set from the payment step's deadline once the clock has run
    )
    db.session.add(bill)
    return bill


@dataclass(frozen=True)
class PaymentResult:
    payment_code: str
    status: str
    amount_idr: int
    reference: str
    paid_at: datetime
    application_id: uuid.UUID
    application_number: str


def check_payment_signature(*, body: bytes, signature: str | None) -> None:
    """The callback must carry the HMAC-SHA256 of its raw body with the gateway's secret; it is
    checked before the body is even parsed."""
    if not signing.payment_signature_valid(body, signature):
        raise Problem(
            401,
            "invalid_signature",
            gettext("The callback's signature is missing or wrong."),
            headers={"WWW-Authenticate": 'HMAC-SHA256 realm="binjai-payments"'},
        )


def record_payment(
    *,
    payment_code: str,
    amount_idr: int,
    reference: str,
    paid_at: datetime | None = None,
    channel: str | None = None,
) -> PaymentResult:
    """The gateway's callback: mark the bill paid once and resume the clock. A replay of the
    same payment answers the same; another payment of a paid bill is a conflict."""
    bill = db.session.scalar(
        sa.select(PermitBill).where(PermitBill.payment_code == payment_code).with_for_update()
    )
    if bill is None:
        raise not_found(gettext("No bill has this payment code."))
    application = db.session.scalar(
        sa.select(PermitApplication)
        .where(PermitApplication.id == bill.application_id)
        .with_for_update(of=PermitApplication)
    )
    assert application is not None
    if bill.status == "paid":
        if bill.payment_reference != reference or bill.amount_idr != amount_idr:
            raise conflict("bill_already_paid", gettext("This bill has already been paid."))
        return _payment_result(bill, application)
    if amount_idr != bill.amount_idr:
        raise Problem(
            422,
            "amount_mismatch",
            gettext("The amount paid must equal the bill exactly."),
            extra={"expected_amount_idr": bill.amount_idr},
        )
    step = _transition_or_conflict(application, Action.CONFIRM_PAYMENT)
    now = utcnow()
    bill.status = "paid"
    bill.paid_at = paid_at or now
    bill.payment_reference = reference
    bill.payment_channel = channel
    _apply(
        application,
        step,
        principal=None,
        details={"payment_code": payment_code, "amount_idr": amount_idr, "reference": reference},
        bill=bill,
        now=now,
    )
    db.session.commit()
    return _payment_result(bill, application)


def _payment_result(bill: PermitBill, application: PermitApplication) -> PaymentResult:
    assert bill.paid_at is not None and bill.payment_reference is not None
    return PaymentResult(
        payment_code=bill.payment_code,
        status=bill.status,
        amount_idr=bill.amount_idr,
        reference=bill.payment_reference,
        paid_at=bill.paid_at,
        application_id=application.id,
        application_number=application.number,
    )
