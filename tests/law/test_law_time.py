"""Local dates and the hold clock across DST changes, weekends and holidays, in each pack's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import polars as pl
import pytest

from accord.law import hold_until, list_packs, load_pack
from accord.law.vector import local_date_pl

UTC = timezone.utc


def _instants() -> list[datetime]:
    """Every 15 minutes over the 2024 and 1995 DST changes and the New Year, plus midnight edges."""
    days = [date(2024, 3, 9), date(2024, 11, 2), date(1995, 4, 1), date(1995, 10, 28), date(2024, 12, 31)]
    out = []
    for d in days:
        start = datetime.combine(d, datetime.min.time(), UTC)
        out += [start + timedelta(minutes=15 * i) for i in range(4 * 72)]
    return out


@pytest.mark.parametrize("pack_id", list_packs())
def test_vectorised_local_date_equals_zoneinfo(pack_id):
    pack = load_pack(pack_id)
    ts = _instants()
    got = pl.DataFrame({"t": ts}, schema={"t": pl.Datetime("us", "UTC")}).select(local_date_pl(pl.col("t"), pack.tz)).to_series().to_list()
    want = [t.astimezone(pack.tz).date() for t in ts]
    assert got == want


def test_clock_modes_differ_over_a_weekend_and_agree_midweek():
    fed = load_pack("federal_baseline")
    friday = datetime(2024, 6, 14, 22, 0, tzinfo=UTC)  # Fri 18:00 EDT
    assert hold_until(friday, fed, date(2024, 6, 14), mode="clock_hours").isoformat() == "2024-06-16T18:00:00-04:00"
    # 6 h of Friday, Juneteenth is Wednesday 19 June: Mon 24 h + Tue 18 h
    assert hold_until(friday, fed, date(2024, 6, 14), mode="excluding_weekends_holidays").isoformat() == "2024-06-18T18:00:00-04:00"
    tuesday = datetime(2024, 6, 18, 14, 0, tzinfo=UTC)  # Tue 10:00 EDT; Wednesday is Juneteenth
    assert hold_until(tuesday, fed, date(2024, 6, 18), mode="excluding_weekends_holidays").isoformat() == "2024-06-21T10:00:00-04:00"
    monday = datetime(2024, 6, 10, 14, 0, tzinfo=UTC)
    assert hold_until(monday, fed, date(2024, 6, 10), mode="clock_hours") == hold_until(monday, fed, date(2024, 6, 10), mode="excluding_weekends_holidays")


def test_release_on_a_holiday_starts_counting_the_next_working_day():
    nypd = load_pack("nyc_nypd")  # excluding weekends and holidays, federal + New York State calendar
    july4 = datetime(2024, 7, 4, 15, 0, tzinfo=UTC)
    assert hold_until(july4, nypd, date(2024, 7, 4)).isoformat() == "2024-07-09T00:00:00-04:00"


def test_naive_time_is_refused():
    from accord.errors import InputError

    with pytest.raises(InputError, match="release_eligible_at"):
        hold_until(datetime(2024, 1, 1, 12), load_pack("texas"), date(2024, 1, 1))
