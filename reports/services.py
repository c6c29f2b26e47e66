"""The programme's monthly figures, from aggregate daily counters only (never a row
about a person, never finer than a day). A count under 5 is shown as "fewer than 5".

Bookings are counted by a job that sets, for each recent day, how many sessions of
each kind ended in each way: an outcome can still be corrected for a while, so those
counts are recomputed rather than incremented."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import counters

SMALL = 5  # counts under this are not shown
RECOUNT_DAYS = 35


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    keys: list[tuple[str, str]]  # (key, label), in order
    months: list[str]  # "YYYY-MM"
    values: dict[tuple[str, str], int]  # (month, key) -> count

    def value(self, month: str, key: str) -> int:
        return self.values.get((month, key), 0)

    def total(self, key: str) -> int:
        return sum(self.value(month, key) for month in self.months)


def shown(value: int) -> str:
    """A count as published: under 5 (but not none) is "fewer than 5"."""
    if 0 < value < SMALL:
        return str(_l("fewer than 5"))
    return str(value)


def is_suppressed(value: int) -> bool:
    return 0 < value < SMALL


def months_between(first: dt.date, last: dt.date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_start(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{text[:7]}-01")
    except ValueError:
        return None


def period(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """[first day of the first month, first day after the last month)."""
    until = dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return dt.date(first.year, first.month, 1), until


def _figure(name: str, title, months: list[str], values: dict, labels: dict[str, str] | None = None,
            order: tuple[str, ...] = ()) -> Figure:
    keys = sorted({key for _month, key in values} | set(order),
                  key=lambda key: (order.index(key) if key in order else len(order), key))
    labels = labels or {}
    return Figure(name, str(title), [(key, labels.get(key, key)) for key in keys], months, values)


def self_checks(session: Session, since: dt.date, until: dt.date, months: list[str], locale: str) -> Figure:
    from self_help.models import Assessment, AssessmentCount

    names, bands = {}, {}
    for row in session.scalars(select(Assessment)):
        definition = json.loads(row.definition)
        names[row.slug] = (definition.get("title") or {}).get(locale) or row.slug
        for scale in definition.get("scales", []):
            ordered = sorted((band for band in definition.get("bands", []) if band.get("scale") == scale.get("id")),
                             key=lambda band: band.get("min", 0))
            for index, band in enumerate(ordered):
                bands[(row.slug, scale.get("id"), index)] = (band.get("title") or {}).get(locale) or str(index + 1)
    values: dict[tuple[str, str], int] = {}
    labels = {}
    for day, slug, scale, band, number in session.execute(select(
            AssessmentCount.day, AssessmentCount.assessment_slug, AssessmentCount.scale, AssessmentCount.band,
            AssessmentCount.count).where(AssessmentCount.day >= since, AssessmentCount.day < until)):
        key = f"{slug}:{scale}:{band}"
        labels[key] = str(_l("%(assessment)s: band %(number)d, “%(band)s”", assessment=names.get(slug, slug),
                             number=band + 1, band=bands.get((slug, scale, band), band + 1)))
        month = day.strftime("%Y-%m")
        values[(month, key)] = values.get((month, key), 0) + number
    return _figure("self-checks", _l("Self-checks by assessment and band"), months, values, labels)


def _counter_figure(session: Session, name: str, title, since: dt.date, until: dt.date, months: list[str],
                    group: str | None = None, order: tuple[str, ...] = ()) -> Figure:
    from service.words import word

    values = counters.totals(session, name, since, until)
    labels = {key: word(key, group) if group else str(title) for _month, key in values}
    labels.update({key: word(key, group) for key in order} if group else {})
    return _figure(name, title, months, values, labels, order)


def bookings(session: Session, since: dt.date, until: dt.date, months: list[str]) -> Figure:
    from service.words import word

    values = counters.totals(session, "bookings", since, until)
    labels = {}
    for _month, key in values:
        kind, _sep, outcome = key.partition(":")
        labels[key] = f"{word(kind, 'modality')}: {word(outcome, 'booking-status')}"
    return _figure("bookings", _l("Bookings by kind and outcome"), months, values, labels)


def threads(session: Session, since: dt.date, until: dt.date, months: list[str]) -> Figure:
    values: dict[tuple[str, str], int] = {}
    for name in ("threads-opened", "threads-answered-in-time", "threads-answered-late"):
        for (month, _key), number in counters.totals(session, name, since, until).items():
            values[(month, name)] = values.get((month, name), 0) + number
    labels = {"threads-opened": str(_l("Threads opened")),
              "threads-answered-in-time": str(_l("Answered within the promised time")),
              "threads-answered-late": str(_l("Answered later than promised"))}
    return _figure("threads", _l("Message threads"), months, values, labels,
                   ("threads-opened", "threads-answered-in-time", "threads-answered-late"))


FIRST_CONTACT_LABELS = {
    "under-15-min": _l("Under 15 minutes"), "15-60-min": _l("15 to 60 minutes"), "1-4-h": _l("1 to 4 hours"),
    "4-24-h": _l("4 to 24 hours"), "over-24-h": _l("Over 24 hours"),
}


def figures(session: Session, first: dt.date, last: dt.date, locale: str) -> list[Figure]:
    from service.crisis.services import OUTCOMES

    since, until = period(first, last)
    months = months_between(since, last)
    first_contact = counters.totals(session, "urgent-first-contact", since, until)
    return [
        self_checks(session, since, until, months, locale),
        _counter_figure(session, "steps-completed", _l("Self-help steps completed"), since, until, months),
        bookings(session, since, until, months),
        _counter_figure(session, "urgent-closed", _l("Urgent requests by outcome"), since, until, months,
                        "case-outcome", OUTCOMES),
        _figure("urgent-first-contact", _l("Urgent requests: time to first contact"), months, first_contact,
                {key: str(label) for key, label in FIRST_CONTACT_LABELS.items()}, tuple(FIRST_CONTACT_LABELS)),
        threads(session, since, until, months),
        _counter_figure(session, "live-sessions-held", _l("Live sessions held"), since, until, months),
    ]


def recount_bookings(session: Session, today: dt.date, days: int = RECOUNT_DAYS) -> int:
    """Sets the bookings counters of the last `days` days from the appointments, by day,
    kind and outcome (the rows outlive this window, reduced; the counts outlive them)."""
    from booking.models import Booking

    since = today - dt.timedelta(days=days)
    rows = session.execute(select(Booking.session_day, Booking.modality, Booking.status, func.count())
                           .where(Booking.session_day >= since, Booking.session_day <= today)
                           .group_by(Booking.session_day, Booking.modality, Booking.status)).all()
    # Days whose bookings all disappeared still need their counts set to nothing.
    existing = session.execute(select(counters.DailyCount).where(counters.DailyCount.name == "bookings",
                                                                 counters.DailyCount.day >= since)).scalars()
    for row in existing:
        row.count = 0
    session.flush()
    for day, modality, status, number in rows:
        counters.set_count(session, "bookings", day, f"{modality}:{status}", number)
    return len(rows)
