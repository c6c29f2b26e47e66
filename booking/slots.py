"""Free appointment slots, from a therapist's weekly hours, exceptions and bookings.

Pure functions: no database, no clock (now is passed in). Availability is written in
the therapist's local wall-clock time; everything returned is UTC (naive), so a slot
at 09:00 in Brussels is 08:00 UTC in winter and 07:00 UTC in summer, and a local time
that does not exist on the spring-forward day simply yields no slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class Rules:
    session_minutes: int = 50
    buffer_minutes: int = 10  # free time kept between two sessions
    notice_hours: int = 12  # no slot starts sooner than this after now
    horizon_days: int = 42  # no slot starts later than this after now


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int  # 0 = Monday ... 6 = Sunday
    start: dt.time  # local time in the therapist's zone
    end: dt.time


@dataclass(frozen=True)
class DateException:
    day: dt.date  # local date in the therapist's zone
    kind: str  # "off" or "extra"
    start: dt.time | None = None  # None with "off": the whole day off
    end: dt.time | None = None
    last_day: dt.date | None = None  # whole days off from `day` to this date

    def covers(self, day: dt.date) -> bool:
        return self.day <= day <= (self.last_day or self.day)


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime  # UTC, naive
    ends_at: dt.datetime  # UTC, naive


def overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime,
             gap: dt.timedelta = dt.timedelta(0)) -> bool:
    """True if [a_start, a_end) and [b_start, b_end) come closer than `gap`."""
    return a_start < b_end + gap and b_start < a_end + gap


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    result = []
    for start, end in intervals:
        if cut[1] <= start or end <= cut[0]:
            result.append((start, end))
            continue
        if start < cut[0]:
            result.append((start, cut[0]))
        if cut[1] < end:
            result.append((cut[1], end))
    return result


def working_intervals(day: dt.date, windows: list[WeeklyWindow], exceptions: list[DateException]) \
        -> list[tuple[int, int]]:
    """Working time on one local date, as (start, end) minutes after local midnight: the
    weekly windows, minus time off, plus extra hours (an extra on a day off still counts:
    it was added for that day on purpose)."""
    intervals = _merge([(_minutes(window.start), _minutes(window.end)) for window in windows
                        if window.weekday == day.weekday() and window.start < window.end])
    todays = [item for item in exceptions if item.covers(day)]
    for item in todays:
        if item.kind == "off":
            if item.start is None or item.end is None:
                intervals = []
            else:
                intervals = _subtract(intervals, (_minutes(item.start), _minutes(item.end)))
    extras = [(_minutes(item.start), _minutes(item.end)) for item in todays
              if item.kind == "extra" and item.start is not None and item.end is not None and item.start < item.end]
    return _merge(intervals + extras)


def _to_utc(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime | None:
    """The UTC moment of a local wall-clock time, or None if that time does not exist
    (the hour skipped when clocks go forward). Ambiguous times take their first
    occurrence (fold=0)."""
    local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return as_utc.replace(tzinfo=None)


def free_slots(time_zone: str, windows: list[WeeklyWindow], exceptions: list[DateException], rules: Rules,
               busy: list[tuple[dt.datetime, dt.datetime]], now: dt.datetime) -> list[Slot]:
    """Every bookable slot, sorted by start."""
    zone = ZoneInfo(time_zone)
    earliest = now + dt.timedelta(hours=rules.notice_hours)
    latest = now + dt.timedelta(days=rules.horizon_days)
    session = dt.timedelta(minutes=rules.session_minutes)
    buffer = dt.timedelta(minutes=rules.buffer_minutes)
    step = rules.session_minutes + rules.buffer_minutes
    first_day = now.replace(tzinfo=UTC).astimezone(zone).date()
    last_day = latest.replace(tzinfo=UTC).astimezone(zone).date()
    found: set[Slot] = set()
    day = first_day
    while day <= last_day:
        for start, end in working_intervals(day, windows, exceptions):
            minute = start
            while minute + rules.session_minutes <= end:
                starts_at = _to_utc(day, minute, zone)
                minute += step
                if starts_at is None or not earliest <= starts_at <= latest:
                    continue
                ends_at = starts_at + session
                if any(overlaps(starts_at, ends_at, taken_start, taken_end, buffer) for taken_start, taken_end in busy):
                    continue
                found.add(Slot(starts_at, ends_at))
        day += dt.timedelta(days=1)
    return sorted(found, key=lambda slot: slot.starts_at)


def local_day_slots(slots: list[Slot], time_zone: str) -> dict[dt.date, list[tuple[Slot, dt.datetime]]]:
    """Slots grouped by local date in `time_zone` (the visitor's), each with its local
    start, days in order."""
    zone = ZoneInfo(time_zone)
    days: dict[dt.date, list[tuple[Slot, dt.datetime]]] = {}
    for slot in sorted(slots, key=lambda slot: slot.starts_at):
        local = slot.starts_at.replace(tzinfo=UTC).astimezone(zone)
        days.setdefault(local.date(), []).append((slot, local))
    return dict(sorted(days.items()))
