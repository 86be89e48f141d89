"""Signatures of the licensing domain: permits' verification codes and payment callbacks.

A verification code is the permit's id followed by an HMAC-SHA256 tag (truncated to 128 bits)
over the permit's fields, base64url without padding: 43 characters, short enough for a small QR
code. A forged code, or a permit whose fields were altered after issuance, no longer matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from datetime import date

from flask import current_app

_TAG_BYTES = 16
_CODE_BYTES = 16 + _TAG_BYTES


def _permit_key() -> bytes:
    secret = str(current_app.config["PERMIT_SIGNING_KEY"]).encode()
    return hashlib.sha256(b"binjai-permit-verification\x00" + secret).digest()


def permit_code(
    *,
    permit_id: uuid.UUID,
    permit_number: str,
    permit_type_code: str,
    holder_id: uuid.UUID,
    valid_from: date,
    valid_until: date,
) -> str:
    """The signed verification code of a permit with these fields."""
    message = "\x1f".join(
        (
            str(permit_id),
            permit_number,
            permit_type_code,
            str(holder_id),
            valid_from.isoformat(),
            valid_until.isoformat(),
        )
    ).encode()
    tag = hmac.new(_permit_key(), message, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(permit_id.bytes + tag).rstrip(b"=").decode()


def permit_id_in(code: str) -> uuid.UUID | None:
    """The permit id a code claims to be for, or None when it is not a code at all."""
    if len(code) != 43 or not code.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(code + "=")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _CODE_BYTES:
        return None
    return uuid.UUID(bytes=raw[:16])


def payment_signature(body: bytes) -> str:
    """HMAC-SHA256 (hex) of a callback body with the gateway's shared secret."""
    secret = str(current_app.config["PAYMENT_CALLBACK_SECRET"]).encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def payment_signature_valid(body: bytes, signature: str | None) -> bool:
    """Whether `signature` (hex, optionally `sha256=`-prefixed) is the body's HMAC."""
    if not signature:
        return False
    given = signature.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(given.encode(), payment_signature(body).encode())
