"""The hold clock: how long past release a detainer may keep someone (8 CFR 287.7(d); I-247A).

Two modes, chosen by a pack parameter because the sources disagree (DOMAIN.md §6.1 R3-R5,
§9 Q8): ``clock_hours`` counts elapsed hours; ``excluding_weekends_holidays`` counts
only hours that fall on local working days of the pack's zone, skipping Saturdays,
Sundays and holidays from the maintained ``holidays`` calendar. Hours are real elapsed
hours (a DST change moves the wall-clock answer by an hour); days are local days.

>>> from accord.law.pack import load_pack
>>> from datetime import date, datetime, timezone
>>> fed = load_pack("federal_baseline")
>>> t = datetime(2024, 3, 9, 17, 0, tzinfo=timezone.utc)  # Sat 12:00 EST, the day before DST starts
>>> hold_until(t, fed, date(2024, 3, 9), mode="clock_hours").isoformat()
'2024-03-11T13:00:00-04:00'
>>> hold_until(t, fed, date(2024, 3, 9), mode="excluding_weekends_holidays").isoformat()
'2024-03-13T00:00:00-04:00'
>>> fri = datetime(2024, 8, 30, 20, 0, tzinfo=timezone.utc)  # Friday 16:00 EDT before Labor Day
>>> hold_until(fri, fed, date(2024, 8, 30), mode="excluding_weekends_holidays").isoformat()
'2024-09-04T16:00:00-04:00'
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from accord.errors import InputError

if TYPE_CHECKING:
    from .pack import Pack

MODES = ("clock_hours", "excluding_weekends_holidays")


def hold_until(release_eligible_at: datetime, pack: Pack, as_of: date, *, mode: str | None = None) -> datetime:
    """Latest moment a hold may last, in the pack's zone; ``mode`` overrides the pack's parameter."""
    if release_eligible_at.tzinfo is None:
        raise InputError("must be timezone-aware", field="release_eligible_at")
    return clock_until(release_eligible_at, pack.params_at(as_of), pack.tz, mode=mode)


def clock_until(release_eligible_at: datetime, params: dict, tz: ZoneInfo, *, mode: str | None = None) -> datetime:
    """:func:`hold_until` with the pack's parameters already resolved (the engine's fast path)."""
    mode = mode or params.get("hold_clock_mode", "clock_hours")
    hours = float(params.get("hold_hours", 48))
    if mode == "clock_hours":
        return (release_eligible_at + timedelta(hours=hours)).astimezone(tz)
    if mode != "excluding_weekends_holidays":
        raise InputError(f"unknown hold clock mode {mode!r}; one of {', '.join(MODES)}", field="hold_clock_mode")
    return _working_hours_after(release_eligible_at, hours, tz, params.get("holiday_calendar", "US"))


def _working_hours_after(start: datetime, hours: float, tz: ZoneInfo, calendar: str) -> datetime:
    """Walk local days from ``start``, spending the hours only on working days."""
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(tz)
    while True:
        day = cursor.date()
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        if _working_day(day, calendar):
            # elapsed real time to the next local midnight (UTC arithmetic handles DST)
            left_today = next_midnight.astimezone(ZoneInfo("UTC")) - cursor.astimezone(ZoneInfo("UTC"))
            if remaining <= left_today:
                return (cursor.astimezone(ZoneInfo("UTC")) + remaining).astimezone(tz)
            remaining -= left_today
        cursor = next_midnight


def _working_day(day: date, calendar: str) -> bool:
    return day.weekday() < 5 and day not in _calendar(calendar, day.year)


@lru_cache(maxsize=256)
def _calendar(calendar: str, year: int) -> holidays.HolidayBase:
    """``US`` = federal holidays; ``US-NY`` adds the state's (a pack parameter picks)."""
    country, _, subdiv = calendar.partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None, years=year)
