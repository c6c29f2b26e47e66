"""Anonymous booking: /booking/ to choose and book, /booking/manage to see, move or
cancel with the booking key. Keys are always posted, never put in an address."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from booking import services
from booking.forms import BookingForm, ManageForm
from booking.models import MODALITIES, Booking, TherapistProfile
from content.sanitize import render_markdown
from service.clock import clock
from service.db import db
from service.hashing import anonymous_key_digest
from service.i18n import current_locale
from service.routing import number_or_none
from service.security import rate_limit
from service.visitor.current import current_key_id
from service.visitor.forms import ConfirmForm
from service.visitor.services import MalformedKey, normalise_key

blueprint = Blueprint("booking", __name__, url_prefix="/booking", template_folder="templates")

ZONES = ("Europe/Brussels", "Europe/Paris", "Europe/Amsterdam", "Europe/London", "Europe/Dublin", "UTC")
JUST_BOOKED = "just_booked"
MANAGING = "managing_booking"
SLOT_FORMAT = "%Y%m%dT%H%M"


def visitor_zone() -> str:
    chosen = request.args.get("zone") or session.get("zone")
    if chosen in ZONES:
        session["zone"] = chosen
        return chosen
    return "Europe/Brussels"


def _cutoff() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["PAUSE"].booking_change_cutoff_hours)


def _choices() -> tuple[str, str]:
    language = request.args.get("language", current_locale())
    modality = request.args.get("modality", "")
    return (language if language in current_app.config["PAUSE"].locales else current_locale(),
            modality if modality in MODALITIES else "")


# Free times are shown a week at a time: six weeks of one therapist's times made a page
# of 35 KB, and every page must stay under 60 KB however many therapists there are.
LAST_WEEK = 8


def chosen_week() -> int:
    week = request.args.get("week", 0, type=int)
    return week if 0 <= week <= LAST_WEEK else 0


def offers(language: str, modality: str, zone: str, excluding: Booking | None = None,
           as_of: dt.datetime | None = None, week: int = 0) -> dict:
    """Each matching therapist with their free slots in the chosen week, grouped by the
    visitor's local day, and whether there are free times before or after it."""
    today = (as_of or clock.now()).replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).date()
    first_day = today + dt.timedelta(weeks=week)
    last_day = first_day + dt.timedelta(days=6)
    result = []
    later = False
    for profile in services.therapists(db.session, language, modality or None):
        if excluding is not None and profile.id != excluding.therapist_id:
            continue
        week_of = services.week_of_free_times(db.session, profile, first_day, as_of or clock.now(), zone,
                                              excluding_booking=excluding.id if excluding else None)
        if not week_of["any"]:
            continue
        this_week, next_day = week_of["days"], week_of["next_day"]
        later = later or next_day is not None
        result.append({"profile": profile, "days": this_week, "introduction": render_markdown(profile.introduction),
                       "next_week": (next_day - today).days // 7 if next_day and not this_week else None})
    return {"offers": result, "week": week, "first_day": first_day, "last_day": last_day,
            "earlier": week > 0, "later": later and week < LAST_WEEK}


@blueprint.get("/")
def choose():
    language, modality = _choices()
    zone = visitor_zone()
    # The times still free at the end of this minute: nginx may share the page that long.
    as_of = clock.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return render_template("booking/choose.html", **offers(language, modality, zone, as_of=as_of, week=chosen_week()),
                           language=language, modality=modality, modalities=MODALITIES, zone=zone, zones=ZONES,
                           slot_format=SLOT_FORMAT, book_address=url_for(".book"),
                           week_link=lambda week: url_for(".choose", language=language, modality=modality or None,
                                                          zone=zone, week=week or None))


def _slot_from_request():
    therapist_id = number_or_none(request.values.get("therapist"))
    try:
        starts_at = dt.datetime.strptime(request.values.get("start", ""), SLOT_FORMAT)
    except ValueError:
        abort(404)
    profile = db.session.get(TherapistProfile, therapist_id) if therapist_id is not None else None
    if profile is None:
        abort(404)
    return profile, starts_at


@blueprint.route("/book", methods=["GET", "POST"])
@rate_limit("10 per hour", methods=["POST"])
def book():
    profile, starts_at = _slot_from_request()
    language, modality = _choices()
    modality = request.values.get("modality") or modality or profile.modalities.split()[0]
    form = BookingForm()
    problems: dict[str, str] = {}
    if request.method == "POST":
        try:
            booking_request = services.validate_request(profile, modality, request.form.get("language", language),
                                                        form.note.data, form.contact.data, form.reminder_email.data)
        except services.InvalidBooking as invalid:
            problems = invalid.problems
        else:
            key_id = current_key_id() if form.use_my_key.data else None
            attempt_key = services.key_for_attempt(current_app.config["SECRET_KEY"], form.attempt.data or "")
            attempt_digest = anonymous_key_digest(normalise_key(attempt_key)) if attempt_key and not key_id else None
            already = services.booking_of_attempt(db.session, attempt_digest, key_id, profile.id, starts_at) \
                if attempt_key else None
            if already is not None:
                # The same form, posted again: its booking was made, its answer lost.
                session[JUST_BOOKED] = already.id
                return render_template("booking/booked.html", booking=already, plain_key=None if key_id else
                                       attempt_key, profile=profile, zone=visitor_zone(), form=ConfirmForm())
            try:
                with db.transaction() as session_:
                    booking, plain_key = services.book(session_, profile.id, starts_at, booking_request, key_id,
                                                       form.calendar_title.data or "", plain_key=attempt_key,
                                                       key_digest=attempt_digest,
                                                       from_relative=bool(form.from_relative.data))
                    booking_id = booking.id
            except services.SlotTaken:
                flash(_("This time was just taken by someone else. Here are the times still free."), "info")
                return redirect(url_for(".choose", language=booking_request["language"], modality=modality))
            session[JUST_BOOKED] = booking_id
            return render_template("booking/booked.html", booking=db.session.get(Booking, booking_id),
                                   plain_key=plain_key, profile=profile, zone=visitor_zone(), form=ConfirmForm())
    still_free = any(slot.starts_at == starts_at for slot in services.free_slots_for(db.session, profile))
    if not still_free:
        flash(_("This time was just taken by someone else. Here are the times still free."), "info")
        return redirect(url_for(".choose", language=language, modality=modality))
    local_start = starts_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(visitor_zone()))
    if not form.attempt.data:
        import secrets

        form.attempt.data = secrets.token_urlsafe(24)
    return render_template("booking/book.html", profile=profile, starts_at=starts_at, local_start=local_start,
                           modality=modality, language=language, form=form, problems=problems,
                           key_open=current_key_id() is not None, slot_format=SLOT_FORMAT,
                           introduction=render_markdown(profile.introduction)), (422 if problems else 200)


@blueprint.post("/appointment.ics")
def calendar():
    """The .ics of the booking just made (or being managed), posted so no key or id is in
    the address; neutral unless the visitor chose a title."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    booking_id = session.get(JUST_BOOKED) or session.get(MANAGING)
    booking = db.session.get(Booking, booking_id) if booking_id else None
    if booking is None or booking.starts_at is None:
        abort(404)
    profile = db.session.get(TherapistProfile, booking.therapist_id)
    data = services.calendar_file(booking, profile, services.calendar_title(booking),
                                  _("Reference %(reference)s.", reference=booking.reference))
    response = current_app.response_class(data, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


def _managed() -> Booking | None:
    booking_id = session.get(MANAGING)
    booking = db.session.get(Booking, booking_id) if booking_id else None
    if booking is None:
        session.pop(MANAGING, None)
    return booking


def _render_manage(form=None, error=None, status=200):
    booking = _managed()
    key_bookings = []
    key_id = current_key_id()
    if key_id is not None:
        key_bookings = services.bookings_of_anonymous_key(db.session, key_id)
    profile = db.session.get(TherapistProfile, booking.therapist_id) if booking else None
    return render_template("booking/manage.html", form=form or ManageForm(), booking=booking, profile=profile,
                           error=error, zone=visitor_zone(), confirm_form=ConfirmForm(), key_bookings=key_bookings,
                           messages=services.therapist_messages(db.session, booking) if booking else [],
                           can_change=booking is not None and services.can_change(booking, clock.now())), status


@blueprint.get("/manage")
def manage():
    return _render_manage()


@blueprint.post("/manage")
@rate_limit("10 per minute;60 per hour", methods=["POST"])  # before any hash is computed
def open_booking():
    form = ManageForm()
    if not form.validate_on_submit():
        return _render_manage(form, _("Please type your booking key."), 422)
    try:
        booking = services.find_by_key(db.session, form.key.data)
    except MalformedKey:
        return _render_manage(form, _("That is not a booking key: it has 20 letters and digits, like "
                                      "ABCD-EFGH-JKMN-PQRS-TVWX."), 422)
    if booking is None:
        return _render_manage(form, _("We found no appointment with that key. Check each character and try "
                                      "again."), 422)
    session[MANAGING] = booking.id
    return redirect(url_for(".manage"))


@blueprint.post("/manage/open/<int:booking_id>")
def open_with_anonymous_key(booking_id: int):
    """A key holder's own bookings are listed when their key is open."""
    key_id = current_key_id()
    booking = db.session.get(Booking, booking_id)
    if not ConfirmForm().validate_on_submit() or key_id is None or booking is None or \
            booking.anonymous_key_id != key_id:
        abort(404)
    session[MANAGING] = booking.id
    return redirect(url_for(".manage"))


@blueprint.post("/manage/cancel")
def cancel():
    booking = _managed()
    if booking is None or not ConfirmForm().validate_on_submit():
        return redirect(url_for(".manage"))
    try:
        with db.transaction() as session_:
            services.cancel(session_, session_.merge(booking), _cutoff())
    except services.BookingError as error:
        flash(str(error), "error")
    else:
        flash(_("Your appointment is cancelled. The time is free for someone else."), "success")
    return redirect(url_for(".manage"))


@blueprint.route("/manage/move", methods=["GET", "POST"])
def move():
    booking = _managed()
    if booking is None:
        return redirect(url_for(".manage"))
    zone = visitor_zone()
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            new_start = dt.datetime.strptime(request.form.get("start", ""), SLOT_FORMAT)
        except ValueError:
            flash(_("Please choose one of the free times."), "error")
            return redirect(url_for(".move"))
        try:
            with db.transaction() as session_:
                services.move(session_, session_.merge(booking), new_start, _cutoff())
        except services.SlotTaken:
            flash(_("This time was just taken by someone else. Here are the times still free."), "info")
            return redirect(url_for(".move"))
        except services.BookingError as error:
            flash(str(error), "error")
            return redirect(url_for(".manage"))
        flash(_("Your appointment has moved."), "success")
        return redirect(url_for(".manage"))
    return render_template("booking/move.html", booking=booking, zone=zone, zones=ZONES, form=ConfirmForm(),
                           **offers(booking.language, booking.modality, zone, excluding=booking, week=chosen_week()),
                           slot_format=SLOT_FORMAT,
                           week_link=lambda week: url_for(".move", zone=zone, week=week or None))


@blueprint.post("/manage/close")
def close():
    if ConfirmForm().validate_on_submit():
        session.pop(MANAGING, None)
        session.pop(JUST_BOOKED, None)
    return redirect(url_for(".manage"))
