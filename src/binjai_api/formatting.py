"""Dates, times and numbers as people read them, per language (Babel's CLDR data).

Indonesian: "4 Desember 2026", "4 Desember 2026 pukul 09.30 WIB", "250.000".
English:    "4 December 2026", "4 December 2026 at 09:30 WIB", "250,000".
Times are Binjai's local time (WIB); callers pass aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

from binjai_api.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

LOCAL_TIMEZONE = ZoneInfo("Asia/Jakarta")
LOCAL_TIMEZONE_NAME = "WIB"
# Day, month name, year in both languages (CLDR's English "long" puts the month first).
_LONG_DATE = "d MMMM y"
_AT = {"id": "pukul", "en": "at"}
_TIME_SEPARATOR = {"id": ".", "en": ":"}


def _language(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def long_date(day: date, language: str | None = DEFAULT_LANGUAGE) -> str:
    """`4 Desember 2026` / `4 December 2026`."""
    return format_date(day, format=_LONG_DATE, locale=_language(language))


def local_time(moment: datetime, language: str | None = DEFAULT_LANGUAGE) -> str:
    """`09.30` / `09:30`, in Binjai's local time."""
    local = moment.astimezone(LOCAL_TIMEZONE)
    return f"{local.hour:02d}{_TIME_SEPARATOR[_language(language)]}{local.minute:02d}"


def local_date_time(moment: datetime, language: str | None = DEFAULT_LANGUAGE) -> str:
    """`4 Desember 2026 pukul 09.30 WIB` / `4 December 2026 at 09:30 WIB`."""
    language = _language(language)
    local = moment.astimezone(LOCAL_TIMEZONE)
    return (
        f"{long_date(local.date(), language)} {_AT[language]} "
        f"{local_time(local, language)} {LOCAL_TIMEZONE_NAME}"
    )


def number(value: float, language: str | None = DEFAULT_LANGUAGE) -> str:
    """`250.000` and `12,5` / `250,000` and `12.5`."""
    return format_decimal(value, locale=_language(language))


def in_each_language(name: str, text_in: Callable[[str], str]) -> dict[str, str]:
    """A notification parameter written in every language, `name@id` and `name@en`, so that each
    reader gets it in theirs (notifications/kinds.render)."""
    return {f"{name}@{language}": text_in(language) for language in SUPPORTED_LANGUAGES}
