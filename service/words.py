"""Every code shown to staff as a translated word, and every time in the staff member's
own zone. Templates use the filters `word`, `staff_time`, `staff_day` and `waited`.

A code with no word here is shown humanised (hyphens as spaces) rather than raw, and
the crawl of staff pages in French fails on any code that slips through.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_datetime, format_time
from flask import Flask, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

DEFAULT_ZONE = "Europe/Brussels"

WORDS: dict[str, dict[str, object]] = {
    "role": {
        "admin": _l("Administrator"), "editor": _l("Editor"), "publisher": _l("Publisher"),
        "therapist": _l("Therapist"), "duty": _l("Duty counsellor"),
    },
    "role-description": {
        "admin": _l("Invites people, sets their roles, reads the audit log and the data inventory."),
        "editor": _l("Writes and changes self-help modules, pages, crisis resources and self-checks."),
        "publisher": _l("Reviews what editors wrote, publishes it or sends it back with a reason."),
        "therapist": _l("Offers appointments, sees their own diary and records how sessions went."),
        "duty": _l("Answers urgent requests for contact and holds the duty roster."),
    },
    "channel": {
        "phone": _l("Call me back"), "call-line": _l("Calls the programme's line"),
        "message": _l("Message only"),
    },
    "time-window": {
        "soon": _l("As soon as possible"), "morning": _l("Morning"), "afternoon": _l("Afternoon"),
        "evening": _l("Evening"),
    },
    "case-state": {"open": _l("Waiting"), "acknowledged": _l("Held"), "closed": _l("Closed")},
    "case-outcome": {
        "talked": _l("We talked"), "referred": _l("Referred to another service"),
        "emergency-services": _l("Emergency services involved"), "no-contact": _l("No contact was possible"),
        "withdrawn": _l("Withdrawn by the visitor"),
    },
    "attempt": {
        "reached": _l("Reached"), "no-answer": _l("No answer"), "wrong-number": _l("Wrong number"),
        "busy": _l("Line busy"),
    },
    "case-event": {
        "created": _l("Request received"), "acknowledged": _l("Claimed"), "attempt": _l("Contact attempt"),
        "escalated": _l("Escalated"), "replied": _l("Message left for the visitor"), "closed": _l("Closed"),
        "taken-over": _l("Taken over"), "risk-flagged": _l("Risk flagged"), "risk-cleared": _l("Risk flag removed"),
        "callback-set": _l("Call-back time set"), "notes-saved": _l("Notes saved"),
    },
    "language": {"en": _l("English"), "fr": _l("French"), "nl": _l("Dutch")},
    "resource-kind": {
        "emergency": _l("Emergency services"), "suicide-prevention": _l("Suicide prevention"),
        "programme": _l("The programme's own line"), "prevention": _l("Prevention and confidential help"),
        "child-protection": _l("Child protection"), "reporting": _l("Reporting images of children"),
    },
    "region": {"be-fr": _l("Belgium (French-speaking)"), "be-nl": _l("Belgium (Dutch-speaking)"), "fr": _l("France"),
               "uk": _l("United Kingdom"), "elsewhere": _l("Elsewhere"), "all": _l("Everywhere")},
    "contact-way": {"call": _l("Call"), "text": _l("Text message")},
    "content-state": {
        "draft": _l("Draft"), "review": _l("In review"), "published": _l("Published"),
        "superseded": _l("Earlier version"),
    },
    "question-kind": {"single": _l("Pick one answer"), "yes_no": _l("Yes or no"),
                      "frequency": _l("How often (never to very often)")},
    "recommendation": {"talk": _l("Talk to a counsellor"), "book": _l("Book an appointment"),
                       "help-now": _l("Help now (crisis)")},
    "content-kind": {
        "module": _l("Self-help module"), "page": _l("Page"), "resources": _l("Crisis resources"),
        "assessment": _l("Self-check"),
    },
    "modality": {"phone": _l("Phone"), "video": _l("Video"), "chat": _l("Chat"), "in-person": _l("In person")},
    "booking-status": {
        "booked": _l("Booked"), "cancelled": _l("Cancelled"), "attended": _l("Attended"), "no-show": _l("Did not come"),
        "unrecorded": _l("Not recorded"),
    },
    "audience": {"visitor": _l("Visitors"), "staff": _l("Staff"), "content": _l("Content")},
    "erasure": {
        "row deleted": _l("The row is deleted"), "columns erased": _l("The details are erased"),
        "reduced to aggregate": _l("Only counts are kept"), "kept while in use": _l("Kept while in use"),
    },
    "object-type": {
        "case": _l("Urgent request"), "staff": _l("Staff member"), "booking": _l("Appointment"),
        "module": _l("Self-help module"), "page": _l("Page"), "resources": _l("Crisis resources"),
        "assessment": _l("Self-check"), "audit": _l("Audit log"), "roster": _l("Duty roster"),
    },
    "audit-action": {
        "booking.contact_viewed": _l("viewed an appointment's phone number"),
        "booking.message_left": _l("left a message for a visitor"),
        "booking.note_viewed": _l("read an appointment's note"),
        "booking.attended": _l("recorded an appointment as attended"),
        "booking.no-show": _l("recorded that the visitor did not come"),
        "booking.cancelled": _l("cancelled an appointment"),
        "case.acknowledged": _l("claimed an urgent request"),
        "case.taken_over": _l("took over an urgent request"),
        "case.attempt": _l("recorded a contact attempt"),
        "case.closed": _l("closed an urgent request"),
        "case.contact_viewed": _l("viewed the contact detail of an urgent request"),
        "case.escalated": _l("escalated an urgent request"),
        "case.replied": _l("left a message on an urgent request"),
        "case.notes_saved": _l("saved notes on an urgent request"),
        "case.risk_changed": _l("changed the risk flag of an urgent request"),
        "case.callback_set": _l("set a call-back time"),
        "case.found_by_code": _l("looked up an urgent request by its code"),
        "roster.shift_added": _l("added a duty shift"),
        "roster.shift_removed": _l("removed a duty shift"),
        "content.draft_saved": _l("saved a draft"),
        "content.draft_started": _l("started a draft"),
        "content.page_created": _l("created a page"),
        "content.published": _l("published a version"),
        "content.rolled_back": _l("restored an earlier version"),
        "content.sent_back": _l("sent a version back to its author"),
        "content.submitted": _l("sent a draft for review"),
        "content.scheduled": _l("chose a time to publish a version"),
        "content.unpublished": _l("took a page or module off the public site"),
        "signin.failed": _l("failed to sign in"),
        "signin.recovery_code_used": _l("signed in with a recovery code"),
        "signin.succeeded": _l("signed in"),
        "signout": _l("signed out"),
        "staff.created": _l("created an account"),
        "staff.disabled": _l("disabled an account"),
        "staff.enabled": _l("enabled an account"),
        "staff.enrolled": _l("completed enrolment"),
        "staff.invited": _l("sent an invitation"),
        "staff.password_changed": _l("changed their password"),
        "staff.recovery_codes_replaced": _l("made new recovery codes"),
        "staff.roles_changed": _l("changed roles"),
        "staff.time_zone_changed": _l("changed their time zone"),
        "audit.exported": _l("exported the audit log"),
    },
}


# Audit detail: the label of each key, and the group its values are words of.
DETAIL_KEYS: dict[str, tuple[object, str | None]] = {
    "result": (_l("result"), "attempt"), "outcome": (_l("outcome"), "case-outcome"), "level": (_l("level"), None),
    "roles": (_l("roles"), "role"), "reason": (_l("reason"), None), "author": (_l("author"), None),
    "previous": (_l("before"), None), "zone": (_l("time zone"), None), "risk": (_l("risk"), "yes-no"),
    "rows": (_l("entries"), None), "username": (_l("username"), None), "at": (_l("at"), None),
    "restored_from": (_l("restored from version"), None), "person": (_l("person"), None), "version": (_l("version"), None),
}
WORDS["yes-no"] = {"True": _l("yes"), "False": _l("no")}


def audit_detail(detail: str) -> str:
    """An audit entry's detail (JSON of staff-side facts) as words: "outcome: We talked"."""
    import json

    if not detail:
        return ""
    try:
        facts = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(facts, dict):
        return str(facts)
    parts = []
    for key, value in facts.items():
        label, group = DETAIL_KEYS.get(key, (key.replace("_", " "), None))
        values = value if isinstance(value, list) else [value]
        shown = ", ".join(word(item, group) if group else str(item) for item in values)
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def word(code: object, group: str) -> str:
    """The translated word for a code in a group (see WORDS)."""
    text = "" if code is None else str(code)
    found = WORDS.get(group, {}).get(text)
    if found is not None:
        return str(found)
    return text.replace("-", " ").replace("_", " ").replace(".", " ")


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """The zone names this machine's tz database knows. Read once per process:
    available_timezones() walks the whole database on disk at every call (some 20 ms)."""
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    try:
        return bool(name) and name in known_zones() and ZoneInfo(name) is not None
    except (ZoneInfoNotFoundError, ValueError):
        return False


def zone_choices() -> list[str]:
    """The zones offered in the account page: the regions' own first, then every other."""
    return list(_zone_choices())


@lru_cache(maxsize=1)
def _zone_choices() -> tuple[str, ...]:
    first = ["Europe/Brussels", "Europe/Paris", "Europe/Amsterdam", "Europe/London", "UTC"]
    rest = sorted(name for name in known_zones() if "/" in name and name not in first
                  and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))
    return (*first, *rest)


def staff_zone(staff=None) -> ZoneInfo:
    """The signed-in staff member's zone (or the given one's), else the programme's."""
    if staff is None and has_request_context():
        staff = g.get("pause_staff")
    name = getattr(staff, "time_zone", None) or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def to_local(value: dt.datetime, staff=None) -> dt.datetime:
    """A stored (naive UTC) time in the staff member's zone."""
    return value.replace(tzinfo=dt.UTC).astimezone(staff_zone(staff))


def from_local(value: dt.datetime, staff=None) -> dt.datetime:
    """A time typed by a staff member in their zone, as stored (naive UTC)."""
    return value.replace(tzinfo=staff_zone(staff)).astimezone(dt.UTC).replace(tzinfo=None)


def local_today(now: dt.datetime, staff=None) -> dt.date:
    return to_local(now, staff).date()


def _locale() -> str:
    from service.i18n import current_locale

    return current_locale() if has_request_context() else "en"


def staff_time(value: dt.datetime | None, form: str = "medium", staff=None) -> str:
    """A stored time as the staff member reads it: their zone, their language."""
    if value is None:
        return "—"
    local = to_local(value, staff)
    if form == "time":
        return format_time(local, "HH:mm", locale=_locale())
    return format_datetime(local, "EEE d MMM y, HH:mm", locale=_locale())


def staff_day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    return format_date(value, "EEE d MMM y", locale=_locale())


def duration(delta: dt.timedelta) -> str:
    """12 min, 3 h 05, 4 days: short, in the staff member's language."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(minutes)d min", minutes=minutes)
    if minutes < 48 * 60:
        return _("%(hours)d h %(minutes)02d", hours=minutes // 60, minutes=minutes % 60)
    return _("%(days)d days", days=minutes // (24 * 60))


def waited(since: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """"waiting 12 min" for something that started at `since`."""
    from service.clock import clock

    if since is None:
        return "—"
    return _("waiting %(duration)s", duration=duration((now or clock.now()) - since))


def age(since: dt.datetime | dt.date | None, now: dt.datetime | None = None) -> str:
    """How old something is, in words ("3 days")."""
    from service.clock import clock

    if since is None:
        return "—"
    now = now or clock.now()
    if isinstance(since, dt.datetime):
        return duration(now - since)
    return duration(dt.datetime.combine(now.date(), dt.time()) - dt.datetime.combine(since, dt.time()))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["word"] = word
    app.jinja_env.filters["staff_time"] = staff_time
    app.jinja_env.filters["staff_day"] = staff_day
    app.jinja_env.filters["waited"] = waited
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["audit_detail"] = audit_detail
