from datetime import date

from indgang_routing.domain.calendar import add_working_days


def test_skips_weekend() -> None:
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon


def test_skips_danish_christmas() -> None:
    # 24 Dec 2026 is a Thursday; 25 and 26 Dec are public holidays (26th a Saturday).
    assert add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 28)


def test_skips_easter() -> None:
    # Maundy Thursday 2 Apr, Good Friday 3 Apr, Easter Monday 6 Apr 2026.
    assert add_working_days(date(2026, 4, 1), 1) == date(2026, 4, 7)
