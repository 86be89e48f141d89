"""Masking personal data (UU 27/2022) for all but its owner and the staff handling the case."""

from __future__ import annotations

import re

MASK_CHAR = "*"

_NIK_PATTERN = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE_PATTERN = re.compile(r"(?<![\d+])(?:\+?62|0)8\d{7,12}(?!\d)")
_EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# What every match of the three patterns above holds: nine digits in a row (the shortest phone
# number, 08 and seven more; a NIK has sixteen) or an @. Most log lines (an access line's method,
# path and status) have neither, and one search for them costs far less than the three
# substitutions, whose look-arounds are tried at every digit (a UUID's path ~30 us).
_MAY_HOLD_PERSONAL_DATA = re.compile(r"\d{9}|@")


def mask_tail(value: str | None, visible: int = 4) -> str | None:
    """Keep the last `visible` characters: `************1234`."""
    if value is None:
        return None
    if len(value) <= visible:
        return MASK_CHAR * len(value)
    return MASK_CHAR * (len(value) - visible) + value[-visible:]


def mask_email(value: str | None) -> str | None:
    if value is None:
        return None
    local, _, domain = value.partition("@")
    return f"{local[:1]}{MASK_CHAR * max(len(local) - 1, 1)}@{domain}"


def scrub_personal_data(text: str) -> str:
    """Mask anything that looks like a NIK, a phone number or an email address (for log lines)."""
    if not _MAY_HOLD_PERSONAL_DATA.search(text):
        return text
    text = _NIK_PATTERN.sub(lambda m: mask_tail(m.group(0)) or "", text)
    text = _PHONE_PATTERN.sub(lambda m: mask_tail(m.group(0)) or "", text)
    return _EMAIL_PATTERN.sub(lambda m: mask_email(m.group(0)) or "", text)
