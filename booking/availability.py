"""The therapist's availability form as a service: what was typed is read into what the
form shows again (kept as typed) and, when nothing is wrong, into the changes to save.
Each problem is keyed by the id of the field it belongs to, so the page places it
beside that field, in the therapist's language, never naming a field by its code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from booking.models import MODALITIES, TherapistProfile
from content.sanitize import clean_source
from service.words import known_zones

# The number fields: name, smallest, largest.
NUMBERS = (("session_minutes", 15, 180), ("buffer_minutes", 0, 120), ("notice_hours", 0, 336),
           ("horizon_days", 1, 365))
MAX_NAME, MAX_INTRODUCTION, MAX_LOCATION = 80, 4000, 200
# Blank rows under each day's windows, so a window can be added without JavaScript.
BLANK_WINDOWS = 1
LONGEST_TIME_OFF = 366


@dataclass
class Typed:
    """The form's values as text, as the therapist typed them (or as saved)."""

    values: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    modalities: list[str] = field(default_factory=list)
    active: bool = False
    windows: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)

    def rows(self, weekday: int) -> list[tuple[str, str]]:
        filled = [row for row in self.windows.get(weekday, []) if row != ("", "")]
        return filled + [("", "")] * BLANK_WINDOWS


@dataclass
class Changes:
    display_name: str
    introduction: str
    location: str
    time_zone: str
    languages: list[str]
    modalities: list[str]
    active: bool
    numbers: dict[str, int]
    windows: list[tuple[int, dt.time, dt.time]]
    removed: set[int]
    days_off: tuple[dt.date, dt.date] | None  # first and last day
    exception: tuple[dt.date, str, dt.time | None, dt.time | None] | None


def as_saved(profile: TherapistProfile) -> Typed:
    windows: dict[int, list[tuple[str, str]]] = {}
    for window in profile.windows:
        windows.setdefault(window.weekday, []).append((window.start.strftime("%H:%M"), window.end.strftime("%H:%M")))
    values = {"display_name": profile.display_name, "introduction": profile.introduction,
              "location": profile.location, "time_zone": profile.time_zone}
    values |= {name: str(getattr(profile, name)) for name, _low, _high in NUMBERS}
    return Typed(values=values, languages=profile.languages.split(), modalities=profile.modalities.split(),
                 active=profile.active, windows=windows)


def _time(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text) if text else None
    except ValueError:
        return None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def read(form, locales: tuple[str, ...] | list[str]) -> tuple[Typed, Changes | None, dict[str, str]]:
    """Reads a posted form (a MultiDict). Returns what to show again, the changes (None
    when something is wrong) and the problems by field id."""
    text = {name: (form.get(name) or "").strip() for name in (
        "display_name", "location", "time_zone", "off-from", "off-to", "exception-day", "exception-kind",
        "exception-start", "exception-end", *(name for name, _low, _high in NUMBERS))}
    text["introduction"] = (form.get("introduction") or "").replace("\r\n", "\n")
    typed = Typed(values=text, languages=[code for code in form.getlist("languages") if code in locales],
                  modalities=[item for item in form.getlist("modalities") if item in MODALITIES],
                  active=form.get("active") == "y",
                  removed={int(value) for value in form.getlist("remove-exception") if value.isdigit()})
    problems: dict[str, str] = {}

    if len(text["display_name"]) > MAX_NAME:
        problems["display_name"] = str(_l("Please keep the name to %(limit)d characters.", limit=MAX_NAME))
    elif typed.active and not text["display_name"]:
        problems["display_name"] = str(_l("Please give the name visitors will see before opening for booking."))
    if len(text["introduction"]) > MAX_INTRODUCTION:
        problems["introduction"] = str(_l("The introduction is %(length)d characters long; the most it can be is "
                                          "%(limit)d.", length=len(text["introduction"]), limit=MAX_INTRODUCTION))
    if len(text["location"]) > MAX_LOCATION:
        problems["location"] = str(_l("Please keep the location to %(limit)d characters.", limit=MAX_LOCATION))
    if text["time_zone"] not in known_zones():
        problems["time_zone"] = str(_l("Please choose a time zone from the list, such as Europe/Brussels."))

    numbers: dict[str, int] = {}
    for name, low, high in NUMBERS:
        value = text[name]
        if value.isdigit() and low <= int(value) <= high:
            numbers[name] = int(value)
        else:
            problems[name] = str(_l("Please give a whole number from %(low)d to %(high)d.", low=low, high=high))

    windows = []
    for weekday in range(7):
        rows: list[tuple[str, str]] = []
        taken: list[tuple[dt.time, dt.time]] = []
        index = 0
        while f"window-{weekday}-{index}-start" in form or f"window-{weekday}-{index}-end" in form:
            start_text = (form.get(f"window-{weekday}-{index}-start") or "").strip()
            end_text = (form.get(f"window-{weekday}-{index}-end") or "").strip()
            if start_text or end_text:
                rows.append((start_text, end_text))
            index += 1
        # Shown again without the blank rows, so problems are keyed by the filled row's place.
        typed.windows[weekday] = rows
        for index, (start_text, end_text) in enumerate(rows):
            where = f"window-{weekday}-{index}"
            start, end = _time(start_text), _time(end_text)
            if start is None or end is None:
                problems[where] = str(_l("Please give a start and an end as hours and minutes, like 09:00 and "
                                         "12:00."))
            elif start >= end:
                problems[where] = str(_l("The end must come after the start."))
            elif any(start < other_end and other_start < end for other_start, other_end in taken):
                problems[where] = str(_l("This overlaps another window on the same day."))
            else:
                taken.append((start, end))
                windows.append((weekday, start, end))

    days_off = None
    first, last = _date(text["off-from"]), _date(text["off-to"])
    if text["off-from"] or text["off-to"]:
        if first is None or (text["off-to"] and last is None):
            problems["off-from"] = str(_l("Please give dates like 2026-12-24."))
        elif last is not None and last < first:
            problems["off-from"] = str(_l("The last day off must be on or after the first."))
        elif last is not None and (last - first).days >= LONGEST_TIME_OFF:
            problems["off-from"] = str(_l("Please give at most a year of days off at a time."))
        else:
            days_off = (first, last or first)

    exception = None
    if text["exception-day"] or text["exception-start"] or text["exception-end"]:
        day = _date(text["exception-day"])
        kind = text["exception-kind"] if text["exception-kind"] in ("off", "extra") else "off"
        start, end = _time(text["exception-start"]), _time(text["exception-end"])
        if day is None:
            problems["exception-day"] = str(_l("Please give a date like 2026-12-24."))
        elif (text["exception-start"] and start is None) or (text["exception-end"] and end is None):
            problems["exception-day"] = str(_l("Please give times as hours and minutes, like 09:00."))
        elif kind == "extra" and (start is None or end is None or start >= end):
            problems["exception-day"] = str(_l("Extra hours need a start and, after it, an end."))
        elif kind == "off" and (start is None) != (end is None):
            problems["exception-day"] = str(_l("A part-day off needs both a start and an end; leave both empty "
                                               "for the whole day."))
        elif start is not None and end is not None and start >= end:
            problems["exception-day"] = str(_l("The end must come after the start."))
        else:
            exception = (day, kind, start, end)

    if not typed.languages:
        problems["languages"] = str(_l("Please choose at least one language."))
    if not typed.modalities:
        problems["modalities"] = str(_l("Please choose at least one kind of session."))
    if problems:
        return typed, None, problems
    return typed, Changes(display_name=text["display_name"], introduction=clean_source(text["introduction"]),
                          location=text["location"], time_zone=text["time_zone"], languages=typed.languages,
                          modalities=typed.modalities, active=typed.active, numbers=numbers, windows=windows,
                          removed=typed.removed, days_off=days_off, exception=exception), {}


def save(session, profile: TherapistProfile, changes: Changes) -> None:
    """Applies the changes to a profile in the caller's unit of work."""
    from booking import services

    profile.display_name, profile.introduction = changes.display_name, changes.introduction
    profile.location, profile.time_zone = changes.location, changes.time_zone
    profile.languages, profile.modalities = " ".join(changes.languages), " ".join(changes.modalities)
    profile.active = changes.active
    for name, value in changes.numbers.items():
        setattr(profile, name, value)
    services.set_windows(session, profile, changes.windows)
    profile.exceptions = [item for item in profile.exceptions if item.id not in changes.removed]
    if changes.days_off:
        first, last = changes.days_off
        services.add_exception(session, profile, first, "off", None, None, last)
    if changes.exception:
        services.add_exception(session, profile, *changes.exception)
