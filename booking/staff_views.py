"""The therapist's workspace: /staff/appointments (day and week), availability, the
private calendar feed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from booking import availability as availability_form
from booking import services
from booking.calendar import monday_of, week_grid
from booking.models import MODALITIES, Booking
from booking.times import staff_zone
from booking.words import template_words
from service.auth.access import current_staff, requires_roles
from service.auth.forms import ConfirmForm
from service.clock import clock
from service.db import db

blueprint = Blueprint("appointments", __name__, url_prefix="/staff/appointments", template_folder="templates")
calendar_feed = Blueprint("therapist_calendar", __name__)
THERAPIST = ("therapist",)
# Offered in the time-zone field (any IANA zone is accepted).
COMMON_ZONES = ("Europe/Brussels", "Europe/Paris", "Europe/Amsterdam", "Europe/Luxembourg", "Europe/London",
                "Europe/Dublin", "Europe/Berlin", "UTC")
blueprint.context_processor(template_words)


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
    """The day or the week as a calendar grid: sessions, free times and days off."""
    profile = _profile()
    zone = staff_zone(current_staff(), profile)
    view = "day" if request.args.get("view") == "day" else "week"
    today = clock.now().replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).date()
    try:
        chosen = dt.date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        chosen = today
    if abs((chosen - today).days) > 3660:  # a made-up date: the calendar ends near year 1 and 9999
        chosen = today
    days = 1 if view == "day" else 7
    first_day = chosen if view == "day" else monday_of(chosen)
    grid = week_grid(db.session, profile, first_day, clock.now(), zone, days=days)
    return render_template("appointments/overview.html", profile=profile, grid=grid, view=view,
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


def _render_appointment(profile, booking, note, contact, typed_message="", message_error="", status=200):
    zone = staff_zone(current_staff(), profile)
    local = booking.starts_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)) if booking.starts_at else None
    return render_template("appointments/appointment.html", profile=profile, booking=booking, local=local, zone=zone,
                           note=note, contact=contact, can_reveal=services.can_reveal_contact(booking),
                           messages=services.therapist_messages(db.session, booking), typed_message=typed_message,
                           message_error=message_error, outcome_possible=services.can_record_outcome(
                               booking, clock.now()), to_local=lambda moment: moment.replace(tzinfo=dt.UTC)
                           .astimezone(ZoneInfo(zone)), form=ConfirmForm()), status


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
            services.mark(session, current_staff(), booking, request.form.get("status", ""), clock.now())
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
    typed = request.form.get("message", "")
    try:
        with db.transaction() as session:
            services.leave_message(session, current_staff(), _booking_or_404(reference, profile), typed, clock.now())
    except services.BookingError as error:
        # Shown again with what was typed, the problem beside it.
        booking = _booking_or_404(reference, profile)
        with db.transaction() as session:
            note = services.read_note(session, current_staff(), booking)
        return _render_appointment(profile, booking, note, None, typed, str(error), 422)
    flash(_("Your message is sent; the visitor reads it with their booking key."), "success")
    return redirect(url_for(".appointment", reference=reference))


# Availability ----------------------------------------------------------------------------


@blueprint.route("/availability", methods=["GET", "POST"])
@requires_roles(*THERAPIST)
def availability():
    profile = _profile()
    locales = current_app.config["PAUSE"].locales
    typed, problems = availability_form.as_saved(profile), {}
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        typed, changes, problems = availability_form.read(request.form, locales)
        if changes is not None:
            with db.transaction() as session:
                availability_form.save(session, session.merge(profile), changes)
            flash(_("Your availability is saved."), "success")
            return redirect(url_for(".availability"))
    return render_template("appointments/availability.html", profile=profile, typed=typed, problems=problems,
                           weekdays=weekday_names(), modalities=MODALITIES, form=ConfirmForm(),
                           locales=locales, zones=COMMON_ZONES), (422 if problems else 200)


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
    feed_data = services.calendar_feed(db.session, profile, link_for=lambda reference: url_for(
        "appointments.appointment", reference=reference, _external=True))
    response = current_app.response_class(feed_data, mimetype="text/calendar")
    return response
