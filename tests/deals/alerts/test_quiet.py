from datetime import UTC, datetime, time

from deals.alerts.quiet import quiet_until


def utc(h, m=0, day=1):
    return datetime(2026, 3, day, h, m, tzinfo=UTC)


def test_inside_an_overnight_window_it_waits_until_the_morning():
    until = quiet_until(now=utc(23), start=time(22), end=time(7), tz="UTC")
    assert until == utc(7, day=2)


def test_after_midnight_inside_the_window_it_waits_until_the_same_morning():
    assert quiet_until(now=utc(3), start=time(22), end=time(7), tz="UTC") == utc(7)


def test_outside_the_window_it_is_not_quiet():
    assert quiet_until(now=utc(12), start=time(22), end=time(7), tz="UTC") is None
    assert quiet_until(now=utc(7), start=time(22), end=time(7), tz="UTC") is None


def test_the_window_is_in_the_persons_time_zone():
    # 21:30 UTC is 22:30 in Berlin (winter, UTC+1): quiet until 07:00 Berlin = 06:00 UTC.
    until = quiet_until(now=utc(21, 30), start=time(22), end=time(7), tz="Europe/Berlin")
    assert until.astimezone(UTC) == utc(6, day=2)


def test_no_window_or_an_empty_one_is_never_quiet():
    assert quiet_until(now=utc(3), start=None, end=None, tz="UTC") is None
    assert quiet_until(now=utc(3), start=time(5), end=time(5), tz="UTC") is None


def test_a_daytime_window():
    assert quiet_until(now=utc(13), start=time(12), end=time(14), tz="UTC") == utc(14)
