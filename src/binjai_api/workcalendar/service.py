"""The one working-day calendar: every service deadline (SLA) in the city counts working days.

A working day is Monday to Friday, minus Indonesia's national holidays and cuti bersama (the
`holidays` package, public and government categories) and minus the local days off that admins
declare (domain brief: working days and deadlines). Deadlines are computed on Binjai's local dates
(WIB) and returned as UTC instants: a step "due within N working days" of a moment is due at the
end (23:59:59 WIB) of the Nth working day after that moment's local date.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa

from binjai_api.errors import conflict, not_found
from binjai_api.extensions import db
from binjai_api.i18n import gettext, negotiated_language
from binjai_api.workcalendar.models import DayOff

LOCAL_TIMEZONE = ZoneInfo("Asia/Jakarta")
END_OF_DAY = time(23, 59, 59)
# Far enough for any SLA the city publishes (the longest are a few weeks of working days).
_LOOKAHEAD_DAYS = 400

_HOLIDAY_LANGUAGES = {"id": "id", "en": "en_US"}


@dataclass(frozen=True)
class DayOffEntry:
    day: date
    name: str
    source: str  # "national" (the holidays package) or "local" (declared by an admin)
    id: uuid.UUID | None = None


@lru_cache(maxsize=64)
def _national_holidays(year: int, language: str) -> dict[date, str]:
    calendar = holidays.country_holidays(
        "ID", years=year, categories=("public", "government"), language=language
    )
    return dict(calendar.items())


def national_holidays(start: date, end: date, language: str = "id") -> dict[date, str]:
    """Indonesia's national holidays and cuti bersama between two dates, inclusive."""
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        for day, name in _national_holidays(year, _HOLIDAY_LANGUAGES.get(language, "id")).items():
            if start <= day <= end:
                found[day] = name
    return found


def local_date(moment: datetime) -> date:
    """The date in Binjai (WIB) at an instant."""
    return moment.astimezone(LOCAL_TIMEZONE).date()


def end_of_local_day(day: date) -> datetime:
    """The last second of a Binjai date, as a UTC instant."""
    return datetime.combine(day, END_OF_DAY, tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


class WorkingCalendar:
    """Working days over a span of dates, loaded once (one query) for many computations."""

    def __init__(
        self, start: date, end: date, local_days_off: Iterable[date] | None = None
    ) -> None:
        """`local_days_off`: those of the span, already read (local_days_off_text); else read."""
        self.start = start
        self.end = end
        self._days_off = set(national_holidays(start, end))
        self._days_off.update(
            db.session.scalars(sa.select(DayOff.day).where(DayOff.day >= start, DayOff.day <= end))
            if local_days_off is None
            else local_days_off
        )

    def is_day_off(self, day: date) -> bool:
        """A national holiday, cuti bersama or local day off, whatever the weekday."""
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the loaded calendar ({self.start}..{self.end})")
        return day in self._days_off

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_day_off(day)

    def nth_working_day_after(self, day: date, count: int) -> date:
        """The `count`th working day after `day` (`day` itself never counts)."""
        current = day
        remaining = count
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` <= `start`)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def calendar_for(start: date, end: date | None = None) -> WorkingCalendar:
    return WorkingCalendar(start, end or start + timedelta(days=_LOOKAHEAD_DAYS))


def is_working_day(day: date) -> bool:
    """Whether public services work on this Binjai date."""
    return calendar_for(day, day).is_working_day(day)


def is_day_off(day: date) -> bool:
    """Whether a Binjai date is a national holiday, cuti bersama or local day off (services
    with weekend hours, such as clinics, close on these but not on every Saturday)."""
    return calendar_for(day, day).is_day_off(day)


def is_national_holiday(day: date) -> bool:
    """Whether a date is a national holiday or cuti bersama (the year's list is memoised)."""
    return day in _national_holidays(day.year, _HOLIDAY_LANGUAGES["id"])


def declared_day_off(day: date) -> sa.Exists:
    """Whether a local day off is declared on `day`, as SQL to read beside another query's rows
    (`is_day_off` without a statement of its own, with `is_national_holiday`)."""
    return sa.exists().where(DayOff.day == day)


def add_working_days(
    start: datetime, days: int, *, calendar: WorkingCalendar | None = None
) -> datetime:
    """The deadline of a step that must finish within `days` working days of `start`;
    `calendar`: one already loaded over deadline_span(start)."""
    if days < 0:
        raise ValueError("a deadline counts forward")
    first = local_date(start)
    due_day = (calendar or calendar_for(first)).nth_working_day_after(first, days)
    return end_of_local_day(due_day)


def deadline_span(start: datetime) -> tuple[date, date]:
    """The dates add_working_days(start, ...) reads the calendar of."""
    first = local_date(start)
    return first, first + timedelta(days=_LOOKAHEAD_DAYS)


def local_days_off_text(
    start: date | sa.ColumnElement[date], end: date | sa.ColumnElement[date]
) -> sa.ScalarSelect[str | None]:
    """The local days off from `start` to `end` as SQL to read beside another statement's row
    (one text of ISO dates separated by commas, or NULL): a WorkingCalendar without a query of
    its own, with parse_days_off."""
    day = sa.cast(DayOff.day, sa.String)
    return (
        sa.select(sa.func.aggregate_strings(day, ","))
        .where(DayOff.day >= start, DayOff.day <= end)
        .scalar_subquery()
    )


def parse_days_off(text: str | None) -> list[date]:
    return [date.fromisoformat(day) for day in text.split(",")] if text else []


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days used between two instants: those after `start`'s local date, up to and
    including `end`'s."""
    first, last = local_date(start), local_date(end)
    if last <= first:
        return 0
    return calendar_for(first, last).working_days_between(first, last)


def extend_by_pause(due_at: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """A deadline moved on by the working days a case spent waiting on someone else (the clock
    stops while an applicant corrects documents or a bill is unpaid, and resumes after)."""
    lost = working_days_between(paused_at, resumed_at)
    if lost == 0:
        return due_at
    due_day = local_date(due_at)
    return end_of_local_day(calendar_for(due_day).nth_working_day_after(due_day, lost))


def days_off(start: date, end: date) -> list[DayOffEntry]:
    """National holidays and local days off between two dates, in date order."""
    language = negotiated_language()
    entries = [
        DayOffEntry(day=day, name=name, source="national")
        for day, name in national_holidays(start, end, language).items()
    ]
    entries.extend(
        DayOffEntry(day=row.day, name=row.name, source="local", id=row.id)
        for row in db.session.scalars(
            sa.select(DayOff).where(DayOff.day >= start, DayOff.day <= end)
        )
    )
    return sorted(entries, key=lambda entry: (entry.day, entry.source))


def declare_day_off(*, day: date, name: str) -> DayOffEntry:
    """Declare a local day off. Deadlines computed from now on skip it; deadlines already set
    keep their date, as the city announced them."""
    # The date's unique constraint answers "already declared" (no SELECT before the INSERT),
    # and the entry is built from the values written (no reload after the commit): an audited
    # write is the INSERT, its audit record and the commit.
    entry = DayOffEntry(day=day, name=name, source="local", id=uuid.uuid4())
    db.session.add(DayOff(id=entry.id, day=day, name=name))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if db.session.scalar(sa.select(DayOff.id).where(DayOff.day == day)) is None:
            raise
        raise conflict("day_off_exists", gettext("This date is already a local day off.")) from None
    return entry


def cancel_day_off(day: date) -> None:
    """Make a local day off a working day again."""
    row = db.session.scalar(sa.select(DayOff).where(DayOff.day == day))
    if row is None:
        raise not_found(gettext("This date is not a local day off."))
    db.session.delete(row)
    db.session.commit()
