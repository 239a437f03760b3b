"""Times shown to people are Danish local time, summer and winter (issue 13, point 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from indgang_runtime.local_time import danish_time, danish_today


def test_winter_is_utc_plus_one() -> None:
    assert danish_time(datetime(2026, 12, 2, 9, 2, tzinfo=UTC)) == "02.12.2026 kl. 10.02"


def test_summer_is_utc_plus_two_and_naive_is_utc() -> None:
    moment = datetime(2026, 7, 1, 22, 30, 5)
    assert danish_time(moment, seconds=True) == "02.07.2026 kl. 00.30.05"
    assert danish_time(moment, day=False) == "kl. 00.30"


def test_the_municipalitys_day_turns_at_danish_midnight() -> None:
    # Winter (UTC+1): 23:30 UTC is already tomorrow in Copenhagen; 22:59 is not.
    assert danish_today(datetime(2026, 12, 3, 23, 30, tzinfo=UTC)) == date(2026, 12, 4)
    assert danish_today(datetime(2026, 12, 3, 22, 59, tzinfo=UTC)) == date(2026, 12, 3)
    # Summer (UTC+2): from 22:00 UTC.
    assert danish_today(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == date(2026, 7, 2)
    assert danish_today(datetime(2026, 7, 1, 21, 59)) == date(2026, 7, 1)  # naive = UTC
