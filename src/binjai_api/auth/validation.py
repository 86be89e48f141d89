"""Identity rules: NIK (national ID), Indonesian mobile numbers and password strength."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from importlib import resources

from binjai_api.i18n import gettext

# Kemendagri province codes (2 digits), the first two digits of every NIK.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96", "97",
    }
)  # fmt: skip

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_PHONE_PATTERN = re.compile(r"^(?:\+62|62|0)(8[0-9]{7,11})$")
# What normalize_phone accepts, as the spec states it (a JSON Schema `pattern`). ASCII digits
# only, here and in nik_problem: Python's \d also matches other scripts' digits.
_SEPARATORS = r"[\s().-]*"
PHONE_PATTERN = (
    f"^{_SEPARATORS}(?:\\+{_SEPARATORS}6{_SEPARATORS}2|6{_SEPARATORS}2|0){_SEPARATORS}8"
    f"(?:{_SEPARATORS}[0-9]){{7,11}}{_SEPARATORS}$"
)
PHONE_DESCRIPTION = (
    "Indonesian mobile number: `08`, `628` or `+628` followed by 7 to 11 digits; spaces, dots, "
    "dashes and parentheses are ignored. Stored as E.164 (`+628...`)."
)


def nik_problem(nik: str, *, today: date | None = None) -> str | None:
    """Why `nik` is not a plausible NIK, or None.

    Layout: province (2), city/regency (2), district (2), birth date DDMMYY (women add 40 to the
    day), serial (4).
    """
    if not re.fullmatch(r"[0-9]{16}", nik):
        return gettext("NIK must be exactly 16 digits.")
    if nik[:2] not in PROVINCE_CODES or nik[2:4] == "00" or nik[4:6] == "00":
        return gettext("NIK does not start with a valid region code.")
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    if not _is_past_birth_date(day, month, year2, today or date.today()):
        return gettext("NIK does not contain a valid birth date.")
    if nik[12:] == "0000":
        return gettext("NIK has an invalid serial number.")
    return None


def _is_past_birth_date(day: int, month: int, year2: int, today: date) -> bool:
    for century in (2000, 1900):
        try:
            born = date(century + year2, month, day)
        except ValueError:
            continue
        if born <= today:
            return True
    return False


def normalize_phone(raw: str) -> str | None:
    """`08…`, `628…` or `+628…` (spaces and dashes allowed) as E.164 `+628…`, or None."""
    compact = re.sub(r"[\s\-().]", "", raw)
    match = _PHONE_PATTERN.match(compact)
    return f"+62{match.group(1)}" if match else None


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("binjai_api").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(password: str, *, personal_values: tuple[str | None, ...] = ()) -> str | None:
    """Why `password` is too weak, or None (NIST SP 800-63B: length and a block list)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return gettext("Password must be at least 8 characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return gettext("Password must be at most 128 characters.")
    lowered = password.lower()
    if lowered in common_passwords():
        return gettext("This password is too common. Choose another one.")
    for value in personal_values:
        if value and len(value) >= 4 and value.lower().lstrip("+") in lowered:
            return gettext("Password must not contain your NIK, phone number or email.")
    return None
