"""The therapist's workspace: /staff/appointments (day and week), availability, the
private calendar feed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from booking import services
from booking.models import MODALITIES, Booking
from content.sanitize import clean_source
from service.auth.access import current_staff, requires_roles
from service.auth.forms import ConfirmForm
from service.clock import clock
from service.db import db
from service.text_limits import too_long

blueprint = Blueprint("appointments", __name__, url_prefix="/staff/appointments", template_folder="templates")
calendar_feed = Blueprint("therapist_calendar", __name__)
THERAPIST = ("therapist",)


def weekday_names() -> list[str]:
    """Monday to Sunday in the reader's language (Babel's calendar data)."""
    days = get_locale().days["format"]["wide"]
    return [days[index] for index in range(7)]


def _profile():
    with db.transaction() as session:
        return services.profile_for_staff(session, current_staff())


def _booking_or_404(reference: str, profile) -> Booking:
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference,
                                                      Booking.therapist_id == profile.id))
    if booking is None:
        abort(404)
    return booking


@blueprint.get("/")
@requires_roles(*THERAPIST)
def overview():
    profile = _profile()
    zone = ZoneInfo(profile.time_zone)
    view = request.args.get("view", "week")
    try:
        first_day = dt.date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        first_day = clock.now().replace(tzinfo=dt.UTC).astimezone(zone).date()
    days = 1 if view == "day" else 7
    start = dt.datetime.combine(first_day, dt.time(0), zone).astimezone(dt.UTC).replace(tzinfo=None)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(0), zone).astimezone(dt.UTC)\
        .replace(tzinfo=None)
    bookings = services.appointments_between(db.session, profile, start, end)
    by_day: dict[dt.date, list] = {first_day + dt.timedelta(days=offset): [] for offset in range(days)}
    for booking in bookings:
        local = booking.starts_at.replace(tzinfo=dt.UTC).astimezone(zone)
        by_day.setdefault(local.date(), []).append((booking, local))
    return render_template("appointments/overview.html", profile=profile, by_day=by_day, view=view,
                           first_day=first_day, previous=first_day - dt.timedelta(days=days),
                           following=first_day + dt.timedelta(days=days))


@blueprint.get("/<reference>")
@requires_roles(*THERAPIST)
def appointment(reference: str):
    profile = _profile()
    booking = _booking_or_404(reference, profile)
    with db.transaction() as session:
        note = services.read_note(session, current_staff(), booking)
    return _render_appointment(profile, booking, note, None)


def _render_appointment(profile, booking, note, contact):
    local = booking.starts_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(profile.time_zone)) \
        if booking.starts_at else None
    return render_template("appointments/appointment.html", profile=profile, booking=booking, local=local,
                           note=note, contact=contact, can_reveal=services.can_reveal_contact(booking),
                           message=services.therapist_message(booking), form=ConfirmForm())


@blueprint.post("/<reference>/reveal")
@requires_roles(*THERAPIST)
def reveal(reference: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    profile = _profile()
    booking = _booking_or_404(reference, profile)
    try:
        with db.transaction() as session:
            contact = services.reveal_contact(session, current_staff(), booking)
    except services.BookingError as error:
        flash(str(error), "error")
        return redirect(url_for(".appointment", reference=reference))
    return _render_appointment(profile, booking, None, contact)


@blueprint.post("/<reference>/status")
@requires_roles(*THERAPIST)
def status(reference: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    profile = _profile()
    try:
        with db.transaction() as session:
            booking = _booking_or_404(reference, profile)
            services.mark(session, current_staff(), booking, request.form.get("status", ""),
                          request.form.get("message", ""))
    except services.BookingError as error:
        flash(str(error), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for(".appointment", reference=reference))


@blueprint.post("/<reference>/message")
@requires_roles(*THERAPIST)
def message(reference: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    profile = _profile()
    try:
        with db.transaction() as session:
            services.leave_message(session, current_staff(), _booking_or_404(reference, profile),
                                   request.form.get("message", ""))
    except services.BookingError as error:
        flash(str(error), "error")
        return redirect(url_for(".appointment", reference=reference))
    flash(_("Your message is saved; the visitor sees it with their booking key."), "success")
    return redirect(url_for(".appointment", reference=reference))


# Availability ----------------------------------------------------------------------------


def _time(value: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        return None


@blueprint.route("/availability", methods=["GET", "POST"])
@requires_roles(*THERAPIST)
def availability():
    profile = _profile()
    problems: list[str] = []
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        problems = _save_availability(profile)
        if not problems:
            flash(_("Your availability is saved."), "success")
            return redirect(url_for(".availability"))
    return render_template("appointments/availability.html", profile=profile, problems=problems,
                           weekdays=weekday_names(), modalities=MODALITIES, form=ConfirmForm(),
                           locales=current_app.config["PAUSE"].locales), (422 if problems else 200)


def _save_availability(profile) -> list[str]:
    form = request.form
    problems = []
    zone = form.get("time_zone", profile.time_zone)
    if zone not in available_timezones():
        problems.append(_("Choose a time zone such as Europe/Brussels."))
    numbers = {}
    for name, low, high in (("session_minutes", 15, 180), ("buffer_minutes", 0, 120), ("notice_hours", 0, 336),
                            ("horizon_days", 1, 365)):
        try:
            numbers[name] = int(form.get(name, ""))
            if not low <= numbers[name] <= high:
                raise ValueError
        except ValueError:
            problems.append(_("%(field)s must be a whole number from %(low)d to %(high)d.", field=name, low=low,
                              high=high))
    windows = []
    for weekday in range(7):
        for start_text, end_text in zip(form.getlist(f"window-{weekday}-start"), form.getlist(f"window-{weekday}-end"),
                                        strict=False):
            if not start_text and not end_text:
                continue
            start, end = _time(start_text), _time(end_text)
            if start is None or end is None or start >= end:
                problems.append(_("%(day)s: a window needs a start before its end, like 09:00 and 12:00.",
                                  day=weekday_names()[weekday]))
            else:
                windows.append((weekday, start, end))
    exception_day = form.get("exception-day", "")
    exception = None
    if exception_day:
        try:
            day = dt.date.fromisoformat(exception_day)
        except ValueError:
            problems.append(_("The date must look like 2026-12-24."))
        else:
            kind = form.get("exception-kind", "off")
            start, end = _time(form.get("exception-start", "")), _time(form.get("exception-end", ""))
            if kind == "extra" and (start is None or end is None or start >= end):
                problems.append(_("Extra hours need a start before their end."))
            elif kind == "off" and (start is None) != (end is None):
                problems.append(_("A part-day off needs both a start and an end; leave both empty for the whole day."))
            else:
                exception = (day, kind if kind in ("off", "extra") else "off", start, end)
    languages = [code for code in form.getlist("languages") if code in current_app.config["PAUSE"].locales]
    modalities = [item for item in form.getlist("modalities") if item in MODALITIES]
    if not languages or not modalities:
        problems.append(_("Choose at least one language and one kind of session."))
    for what, name, limit in ((_("Your name"), "display_name", 80), (_("Your introduction"), "introduction", 4000),
                              (_("The address"), "location", 200)):
        problem = too_long(what, (form.get(name) or "").strip(), limit)
        if problem:
            problems.append(problem)
    if problems:
        return problems
    with db.transaction() as session:
        profile = session.merge(profile)
        profile.display_name = (form.get("display_name") or profile.display_name).strip()
        profile.introduction = clean_source(form.get("introduction", ""))[:4000]  # cleaning only shortens it
        profile.location = form.get("location", "").strip()
        profile.time_zone, profile.languages, profile.modalities = zone, " ".join(languages), " ".join(modalities)
        profile.active = form.get("active") == "y"
        for name, value in numbers.items():
            setattr(profile, name, value)
        services.set_windows(session, profile, windows)
        removed = {int(value) for value in form.getlist("remove-exception") if value.isdigit()}
        profile.exceptions = [item for item in profile.exceptions if item.id not in removed]
        if exception:
            services.add_exception(session, profile, *exception)
    return []


@blueprint.post("/calendar")
@requires_roles(*THERAPIST)
def calendar_token():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    profile = _profile()
    with db.transaction() as session:
        profile = session.merge(profile)
        if request.form.get("action") == "revoke":
            profile.calendar_token_digest = None
            token = None
        else:
            token = services.new_calendar_token(session, profile)
    if token is None:
        flash(_("The calendar address no longer works."), "success")
        return redirect(url_for(".availability"))
    return render_template("appointments/calendar_link.html",
                           link=url_for("therapist_calendar.feed", token=token, _external=True))


@calendar_feed.get("/calendar/<token>.ics")
def feed(token: str):
    """A therapist's private feed: the secret address is the credential, so it is
    revocable and holds nothing about visitors."""
    profile = services.profile_by_calendar_token(db.session, token)
    if profile is None:
        abort(404)
    response = current_app.response_class(services.calendar_feed(db.session, profile), mimetype="text/calendar")
    return response
