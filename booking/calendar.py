"""The therapist's week as a calendar grid: for each day and hour, the sessions booked,
the times still free, and whether the day is off. Plain data for a server-rendered
table; times in the zone the staff member reads them in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from booking import services
from booking.models import Booking, TherapistProfile

# The grid shows at least these hours, more when sessions or free times fall outside.
FIRST_HOUR, LAST_HOUR = 8, 18


@dataclass(frozen=True)
class Entry:
    kind: str  # "session" or "free"
    starts: dt.datetime  # local, aware
    ends: dt.datetime
    booking: Booking | None = None


@dataclass
class Day:
    date: dt.date
    off: str = ""  # "" | "whole" | "part"
    off_times: list[tuple[dt.time, dt.time]] = field(default_factory=list)
    extra_times: list[tuple[dt.time, dt.time]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


@dataclass
class WeekGrid:
    days: list[Day]
    hours: list[int]
    zone: str

    def cell(self, day: Day, hour: int) -> list[Entry]:
        return [entry for entry in day.entries if entry.starts.hour == hour]

    @property
    def sessions(self) -> int:
        return sum(entry.kind == "session" for day in self.days for entry in day.entries)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_grid(session: Session, profile: TherapistProfile, first_day: dt.date, now: dt.datetime, zone: str,
              days: int = 7) -> WeekGrid:
    local_zone = ZoneInfo(zone)
    dates = [first_day + dt.timedelta(days=offset) for offset in range(days)]
    grid_days = {date: Day(date) for date in dates}
    for item in profile.exceptions:
        for date in dates:
            covered = item.day <= date <= (item.last_day or item.day)
            if not covered:
                continue
            if item.kind == "off" and (item.start is None or item.end is None):
                grid_days[date].off = "whole"
            elif item.kind == "off":
                grid_days[date].off = grid_days[date].off or "part"
                grid_days[date].off_times.append((item.start, item.end))
            elif item.start is not None and item.end is not None:
                grid_days[date].extra_times.append((item.start, item.end))

    def local(moment: dt.datetime) -> dt.datetime:
        return moment.replace(tzinfo=dt.UTC).astimezone(local_zone)

    start = dt.datetime.combine(first_day, dt.time(0), local_zone).astimezone(dt.UTC).replace(tzinfo=None)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(0), local_zone).astimezone(dt.UTC)\
        .replace(tzinfo=None)
    for booking in services.appointments_between(session, profile, start, end):
        if booking.status == "cancelled":
            continue
        starts = local(booking.starts_at)
        if starts.date() in grid_days:
            grid_days[starts.date()].entries.append(Entry("session", starts, local(booking.ends_at), booking))
    for slot in services.free_slots_for(session, profile, as_of=now):
        starts = local(slot.starts_at)
        if starts.date() in grid_days:
            grid_days[starts.date()].entries.append(Entry("free", starts, local(slot.ends_at)))
    hours = {entry.starts.hour for day in grid_days.values() for entry in day.entries}
    first_hour = min([FIRST_HOUR, *hours])
    last_hour = max([LAST_HOUR - 1, *hours])
    for day in grid_days.values():
        day.entries.sort(key=lambda entry: entry.starts)
    return WeekGrid(days=list(grid_days.values()), hours=list(range(first_hour, last_hour + 1)), zone=zone)
