"""Free slots: buffers, notice, horizon, exceptions, busy times, and daylight saving."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from booking.slots import DateException, Rules, Slot, WeeklyWindow, free_slots, local_day_slots, overlaps

BRUSSELS = "Europe/Brussels"
NINE_TO_TWELVE = [WeeklyWindow(weekday, dt.time(9), dt.time(12)) for weekday in range(7)]
NO_NOTICE = Rules(notice_hours=0, horizon_days=1)


def starts(slots: list[Slot]) -> list[str]:
    return [slot.starts_at.strftime("%Y-%m-%d %H:%M") for slot in slots]


def day_slots(day: dt.date, windows=NINE_TO_TWELVE, exceptions=(), rules=NO_NOTICE, busy=(), zone=BRUSSELS):
    """The slots of one local day, asked for at midnight UTC of that day."""
    now = dt.datetime.combine(day, dt.time(0)) - dt.timedelta(hours=2)
    return [slot for slot in free_slots(zone, list(windows), list(exceptions), rules, list(busy), now)
            if slot.starts_at.date() == day]


def test_a_winter_morning_in_brussels_gives_three_slots_an_hour_apart_in_utc():
    # 50-minute sessions and 10-minute breaks: 09:00, 10:00, 11:00 local = 08:00, 09:00, 10:00 UTC.
    assert starts(day_slots(dt.date(2026, 12, 1))) == ["2026-12-01 08:00", "2026-12-01 09:00", "2026-12-01 10:00"]


def test_longer_buffers_space_the_slots():
    rules = Rules(session_minutes=50, buffer_minutes=40, notice_hours=0, horizon_days=1)
    assert starts(day_slots(dt.date(2026, 12, 1), rules=rules)) == ["2026-12-01 08:00", "2026-12-01 09:30"]


def test_a_slot_must_fit_before_the_window_ends():
    windows = [WeeklyWindow(1, dt.time(9), dt.time(10, 45))]  # 1 December 2026 is a Tuesday
    assert starts(day_slots(dt.date(2026, 12, 1), windows=windows)) == ["2026-12-01 08:00"]


def test_minimum_notice_removes_slots_too_soon():
    now = dt.datetime(2026, 12, 1, 8, 30)  # 09:30 in Brussels
    slots = free_slots(BRUSSELS, NINE_TO_TWELVE, [], Rules(notice_hours=1, horizon_days=1), [], now)
    assert starts(slots)[:1] == ["2026-12-01 10:00"]


def test_the_horizon_removes_slots_too_far_ahead():
    now = dt.datetime(2026, 12, 1, 0, 0)
    slots = free_slots(BRUSSELS, NINE_TO_TWELVE, [], Rules(notice_hours=0, horizon_days=2), [], now)
    assert starts(slots)[-1] == "2026-12-02 10:00"
    assert all(slot.starts_at <= now + dt.timedelta(days=2) for slot in slots)


def test_a_whole_day_off():
    exceptions = [DateException(dt.date(2026, 12, 1), "off")]
    assert day_slots(dt.date(2026, 12, 1), exceptions=exceptions) == []


def test_an_off_interval_cuts_a_window_in_two():
    exceptions = [DateException(dt.date(2026, 12, 1), "off", dt.time(10), dt.time(11))]
    assert starts(day_slots(dt.date(2026, 12, 1), exceptions=exceptions)) == ["2026-12-01 08:00", "2026-12-01 10:00"]


def test_extra_hours_on_a_day_without_a_window():
    sunday = dt.date(2026, 12, 6)
    exceptions = [DateException(sunday, "extra", dt.time(14), dt.time(16))]
    windows = [WeeklyWindow(0, dt.time(9), dt.time(12))]
    assert starts(day_slots(sunday, windows=windows, exceptions=exceptions)) == ["2026-12-06 13:00",
                                                                                  "2026-12-06 14:00"]


def test_busy_times_remove_overlapping_slots_and_those_within_the_buffer():
    # A booking 09:00-09:50 UTC (10:00 local) blocks itself; with a 10-minute buffer the
    # neighbours at 08:00 and 10:00 UTC (ending 08:50, starting 10:00) stay free.
    busy = [(dt.datetime(2026, 12, 1, 9, 0), dt.datetime(2026, 12, 1, 9, 50))]
    assert starts(day_slots(dt.date(2026, 12, 1), busy=busy)) == ["2026-12-01 08:00", "2026-12-01 10:00"]
    # A booking 08:55-09:45 UTC comes within the buffer of the 08:00 slot (ends 08:50).
    busy = [(dt.datetime(2026, 12, 1, 8, 55), dt.datetime(2026, 12, 1, 9, 45))]
    assert starts(day_slots(dt.date(2026, 12, 1), busy=busy)) == ["2026-12-01 10:00"]


def test_spring_forward_in_brussels_gives_no_slot_at_a_time_that_does_not_exist():
    day = dt.date(2027, 3, 28)  # 02:00 local jumps to 03:00
    windows = [WeeklyWindow(day.weekday(), dt.time(1), dt.time(4))]
    rules = Rules(session_minutes=50, buffer_minutes=10, notice_hours=0, horizon_days=2)
    slots = free_slots(BRUSSELS, windows, [], rules, [], dt.datetime(2027, 3, 27, 0, 0))
    # 01:00 local is winter time (UTC+1), 02:00 does not exist, 03:00 is summer time (UTC+2).
    assert starts(slots) == ["2027-03-28 00:00", "2027-03-28 01:00"]
    assert [slot.starts_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(BRUSSELS)).hour for slot in slots] == [1, 3]


def test_fall_back_in_brussels_uses_the_first_of_two_identical_local_times():
    day = dt.date(2027, 10, 31)  # 03:00 local goes back to 02:00
    windows = [WeeklyWindow(day.weekday(), dt.time(2), dt.time(3)), WeeklyWindow(day.weekday(), dt.time(9),
                                                                                   dt.time(10))]
    rules = Rules(notice_hours=0, horizon_days=2)
    slots = free_slots(BRUSSELS, windows, [], rules, [], dt.datetime(2027, 10, 30, 0, 0))
    # 02:00 local happens twice; the first time is still summer time (UTC+2): 00:00 UTC.
    # 09:00 local that day is winter time (UTC+1): 08:00 UTC.
    assert starts(slots) == ["2027-10-31 00:00", "2027-10-31 08:00"]


def test_a_summer_morning_is_two_hours_ahead_of_utc():
    assert starts(day_slots(dt.date(2027, 7, 1)))[0] == "2027-07-01 07:00"


def test_a_london_therapist_seen_from_brussels():
    windows = [WeeklyWindow(1, dt.time(22), dt.time(23, 59))]  # Tuesday evening in London
    now = dt.datetime(2026, 11, 30, 0, 0)
    slots = free_slots("Europe/London", windows, [], Rules(notice_hours=0, horizon_days=7), [], now)
    assert starts(slots) == ["2026-12-01 22:00", "2026-12-01 23:00"]
    by_day = local_day_slots(slots, BRUSSELS)
    # 22:00 in London is 23:00 in Brussels the same day; 23:00 is midnight, the next day.
    assert [(day.isoformat(), [local.strftime("%H:%M") for _slot, local in items]) for day, items in by_day.items()] \
        == [("2026-12-01", ["23:00"]), ("2026-12-02", ["00:00"])]


def test_overlaps_with_and_without_a_gap():
    nine, ten, eleven = (dt.datetime(2026, 12, 1, hour) for hour in (9, 10, 11))
    assert overlaps(nine, ten, dt.datetime(2026, 12, 1, 9, 30), eleven)
    assert not overlaps(nine, ten, ten, eleven)
    assert overlaps(nine, ten, dt.datetime(2026, 12, 1, 10, 5), eleven, gap=dt.timedelta(minutes=10))
    assert not overlaps(nine, ten, dt.datetime(2026, 12, 1, 10, 10), eleven, gap=dt.timedelta(minutes=10))


def test_extra_hours_on_a_day_off_still_count():
    day = dt.date(2026, 12, 1)
    exceptions = [DateException(day, "off"), DateException(day, "extra", dt.time(14), dt.time(15))]
    assert starts(day_slots(day, exceptions=exceptions)) == ["2026-12-01 13:00"]
