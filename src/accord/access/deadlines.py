"""When a notice is due: N calendar days or N business days after the request, local time.

A period of days is counted from the day after the request (the request day is excluded) and
ends at the last second of the final day in the custodian's time zone. Business days skip
weekends and the public holidays of the custodian's state (the ``holidays`` package).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=16)
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


def is_business_day(day: date, country: str = "US", subdivision: str | None = None) -> bool:
    """
    >>> is_business_day(date(2024, 4, 15), "US", "MA")   # Patriots' Day
    False
    >>> is_business_day(date(2024, 4, 16), "US", "MA")
    True
    """
    return day.weekday() < 5 and day not in _calendar(country, subdivision)


def last_day(start: date, days: int, business: bool, country: str = "US", subdivision: str | None = None) -> date:
    """The last day of a period of ``days`` (business) days after ``start``.

    >>> last_day(date(2024, 4, 11), 3, True, "US", "MA")   # Thu; Fri, (weekend, Patriots' Day), Tue, Wed
    datetime.date(2024, 4, 17)
    >>> last_day(date(2019, 12, 31), 3, False)
    datetime.date(2020, 1, 3)
    """
    if not business:
        return start + timedelta(days=days)
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(day, country, subdivision):
            left -= 1
    return day


def due_by(requested_at: datetime, days: int, business: bool, tz: ZoneInfo,
           country: str = "US", subdivision: str | None = None) -> datetime:
    """The UTC instant a notice is due: end of the period's last local day."""
    return _due_after(requested_at.astimezone(tz).date(), days, business, tz, country, subdivision)


@lru_cache(maxsize=8192)
def _due_after(day: date, days: int, business: bool, tz: ZoneInfo, country: str, subdivision: str | None) -> datetime:
    """Memoised by local request day: every request made that day owes the notice by the same instant."""
    end = last_day(day, days, business, country, subdivision)
    return datetime.combine(end, time(23, 59, 59), tz).astimezone(timezone.utc)
