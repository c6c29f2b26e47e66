"""Live text sessions: the visitor's side (/live/) and the staff side (/staff/live/).

Each side has the same four parts: the session page (the message box, which keeps what
is typed), a transcript frame that refreshes itself every few seconds without
JavaScript, an event stream (server-sent events) that replaces the frame when
JavaScript runs, and the posts (say, end). The rules are in live.py.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField

from booking.models import Booking, TherapistProfile
from booking.views import MANAGING, visitor_zone
from service.auth.access import current_staff, requires_roles
from service.auth.forms import ConfirmForm
from service.clock import clock
from service.conversations import live
from service.conversations.live_models import ENDED_BY_STAFF, ENDED_BY_VISITOR, WALK_IN, WITHDRAWN, LiveSession
from service.conversations.models import STAFF, VISITOR
from service.conversations.services import InvalidMessage
from service.db import db
from service.live_bus import bus
from service.security import rate_limit
from service.visitor.current import current_key_id, remember_open_key

blueprint = Blueprint("live", __name__, url_prefix="/live", template_folder="templates")
staff_blueprint = Blueprint("staff_live", __name__, url_prefix="/staff/live", template_folder="templates")

# The browser session holds the id of the visitor's live session, never anything else.
LIVE_SESSION = "live_session"
# The frame may be shown only inside our own pages; everything else keeps the strict policy.
FRAME_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                "frame-ancestors 'self'; base-uri 'none'")
# The session page embeds the frame, from our own origin only.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
               "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# How often the frame reloads itself (the acceptance: within 10 seconds).
FRAME_REFRESH_SECONDS = 4


class MessageForm(FlaskForm):
    body = TextAreaField()


class WalkInForm(FlaskForm):
    language = SelectField(choices=[])
    body = TextAreaField()


def _settings():
    return current_app.config["PAUSE"]


def _client_limit() -> str:
    return _settings().live_client_rate_limit


def _participant_limit() -> str:
    return _settings().live_message_rate_limit


def _participant() -> str:
    """The flood limit's key: one side of one session."""
    if request.blueprint == "staff_live":
        return f"live-staff:{(request.view_args or {}).get('live_id')}"
    return f"live-visitor:{session.get(LIVE_SESSION)}"


def _language_names() -> dict[str, str]:
    from babel import Locale

    shown = str(get_locale())
    return {code: Locale.parse(code).get_display_name(shown) for code in _settings().locales}


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _last_event_id() -> int:
    """Where the browser's stream resumes: the Last-Event-ID it sends on reconnecting, or
    the `after` the page gave on the first connection."""
    for value in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        if value and value.isdigit() and len(value) < 19:
            return int(value)
    return 0


def _stream(live_id: int, side: str, zone: str) -> Response:
    app = current_app._get_current_object()
    response = Response(live.event_stream(app, live_id, side, _last_event_id(), zone),
                        mimetype="text/event-stream")
    # nginx: pass each event on at once (deploy/nginx/live.conf also says so).
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _framed(response_text: str) -> Response:
    response = current_app.make_response(response_text)
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _page(response_text: str, status: int = 200) -> Response:
    response = current_app.make_response((response_text, status))
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def _names(side: str, staff_name: str) -> dict[str, str]:
    if side == VISITOR:
        return {VISITOR: _("You"), STAFF: staff_name or _("Counsellor"), live.STATEMENT: "Pause"}
    return {VISITOR: _("Visitor"), STAFF: _("You"), live.STATEMENT: "Pause"}


def _staff_name(live_session: LiveSession) -> str:
    if live_session.booking_id is not None:
        booking = db.session.get(Booking, live_session.booking_id)
        profile = db.session.get(TherapistProfile, booking.therapist_id) if booking else None
        if profile is not None:
            return profile.display_name
    return _("Counsellor")


def _view_of(live_session: LiveSession, side: str, zone: str) -> dict:
    now = clock.now()
    state = live.state_of(db.session, live_session, now)
    return {
        "live_session": live_session, "state": state, "side": side, "zone": zone,
        "place": live.place_in_queue(db.session, live_session) if state == live.WAITING else 0,
        "lines": live.lines_after(db.session, live_session.conversation_id),
        "names": _names(side, _staff_name(live_session)),
        "refresh_seconds": FRAME_REFRESH_SECONDS,
    }


def _local_time(moment: dt.datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).strftime("%H:%M")


@blueprint.app_context_processor
def _helpers() -> dict:
    return {"live_local_time": _local_time,
            "live_session_openable": lambda booking: live.booked_session_is_openable(booking, clock.now())}


def _said(live_session: LiveSession, side: str, staff=None, back: str = ""):
    """Both sides' posts: the message, kept and announced, or the text shown again."""
    form = MessageForm()
    if not form.validate_on_submit():
        abort(400)
    problem = None
    try:
        with db.transaction() as session_:
            live.say(session_, session_.merge(live_session), side, form.body.data or "",
                     session_.merge(staff) if staff else None, clock.now())
    except InvalidMessage as error:
        problem = "; ".join(error.problems.values())
    except live.LiveError as error:
        problem = str(error)
    else:
        bus().wake(live_session.id)
    if _wants_json():
        return (jsonify(problem=problem), 422) if problem else ("", 204)
    if problem:
        flash(problem, "error")
        session["live_unsent"] = (form.body.data or "")[:8000] if side == VISITOR else ""
    return redirect(back)


def _ended(live_session: LiveSession, by: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session_:
        live.end(session_, session_.merge(live_session), by, clock.now())
    bus().wake(live_session.id)


# The visitor's side ---------------------------------------------------------------------


def _visitor_session() -> LiveSession | None:
    live_id = session.get(LIVE_SESSION)
    live_session = db.session.get(LiveSession, live_id) if live_id else None
    if live_id and live_session is None:
        session.pop(LIVE_SESSION, None)
    return live_session


def _visitor_session_or_404() -> LiveSession:
    live_session = _visitor_session()
    if live_session is None:
        abort(404)
    return live_session


@blueprint.get("/")
def session_page():
    live_session = _visitor_session()
    if live_session is None:
        return redirect(url_for(".walk_in"))
    form = MessageForm()
    unsent = session.pop("live_unsent", "")
    if unsent:
        form.body.data = unsent
    return _page(render_template("conversations/live_session.html", form=form, confirm_form=ConfirmForm(),
                                 urls=_visitor_urls(), **_view_of(live_session, VISITOR, visitor_zone())))


def _visitor_urls() -> dict[str, str]:
    return {"frame": url_for(".frame"), "events": url_for(".events"), "say": url_for(".say"),
            "end": url_for(".end"), "page": url_for(".session_page")}


@blueprint.get("/frame")
def frame():
    live_session = _visitor_session_or_404()
    return _framed(render_template("conversations/live_frame.html", urls=_visitor_urls(),
                                   **_view_of(live_session, VISITOR, visitor_zone())))


@blueprint.get("/events")
def events():
    live_session = _visitor_session_or_404()
    return _stream(live_session.id, VISITOR, visitor_zone())


@blueprint.post("/say")
@rate_limit(_client_limit, methods=["POST"])
@rate_limit(_participant_limit, key_func=_participant, methods=["POST"])
def say():
    return _said(_visitor_session_or_404(), VISITOR, back=url_for(".session_page"))


@blueprint.post("/end")
def end():
    live_session = _visitor_session_or_404()
    by = WITHDRAWN if live_session.kind == WALK_IN and live_session.picked_up_at is None else ENDED_BY_VISITOR
    _ended(live_session, by)
    return redirect(url_for(".session_page"))


@blueprint.post("/open")
def open_booked():
    """From the appointment page (opened with the booking key or the anonymous key)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    booking_id = session.get(MANAGING)
    booking = db.session.get(Booking, booking_id) if booking_id else None
    if booking is None:
        return redirect(url_for("booking.manage"))
    try:
        with db.transaction() as session_:
            live_session = live.open_booked_session(session_, session_.merge(booking), clock.now())
            live_id = live_session.id
    except live.LiveError as error:
        flash(str(error), "info")
        return redirect(url_for("booking.manage"))
    session[LIVE_SESSION] = live_id
    return redirect(url_for(".session_page"))


@blueprint.route("/walk-in", methods=["GET", "POST"])
@rate_limit("10 per hour", methods=["POST"])
def walk_in():
    names = _language_names()
    form = WalkInForm()
    form.language.choices = list(names.items())
    if request.method == "GET":
        form.language.data = str(get_locale()) if str(get_locale()) in names else _settings().default_locale
    problem = None
    if request.method == "POST":
        if not form.validate_on_submit():
            problem = _("Please choose a language.")
        else:
            try:
                with db.transaction() as session_:
                    live_id = live.join_walk_in(session_, form.language.data, form.body.data or "",
                                                current_key_id(), clock.now()).id
            except InvalidMessage as error:
                problem = "; ".join(error.problems.values())
            else:
                session[LIVE_SESSION] = live_id
                bus().wake(live_id)
                return redirect(url_for(".session_page"))
    now = clock.now()
    hours = live.staffed_hours(db.session)
    return render_template("conversations/live_walk_in.html", form=form, problem=problem, names=names,
                           hours=hours, staffed={code: live.is_staffed(db.session, code, now) for code in names},
                           weekdays=_weekday_names(), current=_visitor_session()), (422 if problem else 200)


@blueprint.post("/transcript")
def transcript():
    live_session = _visitor_session_or_404()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    lines = live.lines_after(db.session, live_session.conversation_id)
    text = live.transcript_text(lines, visitor_zone(), _names(VISITOR, _staff_name(live_session)))
    response = current_app.response_class(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="conversation.txt"'
    return response


@blueprint.post("/erase")
def erase():
    """The visitor's "erase it now": allowed once the session has ended."""
    live_session = _visitor_session_or_404()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session_:
        merged = session_.merge(live_session)
        live.end(session_, merged, ENDED_BY_VISITOR, clock.now())
        live.erase_transcript(session_, merged, clock.now())
    bus().wake(live_session.id)
    session.pop(LIVE_SESSION, None)
    flash(_("The conversation is erased."), "success")
    return redirect(url_for(".walk_in"))


@blueprint.post("/keep-as-thread")
def keep_as_thread():
    """A walk-in nobody could take: what the visitor wrote becomes a message thread owned
    by their anonymous key (made now, and shown once, if they have none open)."""
    from service.visitor.services import create_key

    live_session = _visitor_session_or_404()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    new_key = None
    try:
        with db.transaction() as session_:
            key_id = current_key_id()
            if key_id is None:
                key, new_key = create_key(session_)
                key_id = key.id
            thread = live.move_to_thread(session_, session_.merge(live_session), key_id, clock.now())
            public_id = thread.public_id
    except live.LiveError as error:
        flash(str(error), "info")
        return redirect(url_for(".session_page"))
    remember_open_key(key_id)
    session.pop(LIVE_SESSION, None)
    bus().wake(live_session.id)
    return render_template("conversations/live_kept.html", new_key=new_key, thread_url=_thread_url(public_id))


def _thread_url(public_id: str) -> str:
    for endpoint in ("talk.thread", "conversations.thread", "talk.conversation"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, public_id=public_id)
    return url_for("visitor.overview")


@blueprint.post("/leave")
def leave():
    """Forget the session in this browser (after it ended)."""
    if ConfirmForm().validate_on_submit():
        session.pop(LIVE_SESSION, None)
    return redirect(url_for(".walk_in"))


def _weekday_names() -> list[str]:
    days = get_locale().days["format"]["wide"]
    return [days[index] for index in range(7)]


# The staff side -------------------------------------------------------------------------

STAFF_ROLES = ("therapist", *live.WALK_IN_ROLES)


def _staff_session_or_404(live_id: int) -> LiveSession:
    """Only the session's own staff member: the therapist of the booking, or the
    counsellor who picked the walk-in up."""
    live_session = db.session.get(LiveSession, live_id)
    staff = current_staff()
    if live_session is None or live_session.staff_id != staff.id:
        abort(404)
    return live_session


def _staff_urls(live_id: int) -> dict[str, str]:
    return {"frame": url_for(".frame", live_id=live_id), "events": url_for(".events", live_id=live_id),
            "say": url_for(".say", live_id=live_id), "end": url_for(".end", live_id=live_id),
            "page": url_for(".session_page", live_id=live_id)}


def zone_of(staff) -> str:
    from sqlalchemy import select

    profile = db.session.scalar(select(TherapistProfile).where(TherapistProfile.staff_id == staff.id))
    return profile.time_zone if profile is not None else "Europe/Brussels"


@staff_blueprint.get("/")
@requires_roles(*live.WALK_IN_ROLES)
def queue():
    staff = current_staff()
    from sqlalchemy import select

    mine = list(db.session.scalars(select(LiveSession).where(LiveSession.staff_id == staff.id,
                                                             LiveSession.ended_at.is_(None))
                                   .order_by(LiveSession.opened_at)))
    return render_template("conversations/live_queue.html", entries=live.walk_in_queue(db.session, clock.now()),
                           mine=mine, names=_language_names(), zone=zone_of(staff), confirm_form=ConfirmForm())


@staff_blueprint.post("/<int:live_id>/pick-up")
@requires_roles(*live.WALK_IN_ROLES)
def pick_up(live_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session_:
        taken = live.pick_up(session_, session_.merge(current_staff()), live_id, clock.now())
    if not taken:
        flash(_("Someone else has just taken this chat, or the visitor has left."), "info")
        return redirect(url_for(".queue"))
    bus().wake(live_id)
    return redirect(url_for(".session_page", live_id=live_id))


@staff_blueprint.post("/appointment/<reference>")
@requires_roles("therapist")
def open_appointment(reference: str):
    from sqlalchemy import select

    if not ConfirmForm().validate_on_submit():
        abort(400)
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    if booking is None or not live.therapist_may_open(db.session, current_staff(), booking):
        abort(404)
    try:
        with db.transaction() as session_:
            live_id = live.open_booked_session(session_, session_.merge(booking), clock.now()).id
    except live.LiveError as error:
        flash(str(error), "info")
        return redirect(url_for("appointments.overview"))
    return redirect(url_for(".session_page", live_id=live_id))


@staff_blueprint.get("/<int:live_id>", endpoint="session_page")
@requires_roles(*STAFF_ROLES)
def staff_session_page(live_id: int):
    live_session = _staff_session_or_404(live_id)
    return _page(render_template("conversations/live_session.html", form=MessageForm(),
                                 confirm_form=ConfirmForm(), urls=_staff_urls(live_id), staff_layout=True,
                                 **_view_of(live_session, STAFF, zone_of(current_staff()))))


@staff_blueprint.get("/<int:live_id>/frame", endpoint="frame")
@requires_roles(*STAFF_ROLES)
def staff_frame(live_id: int):
    live_session = _staff_session_or_404(live_id)
    return _framed(render_template("conversations/live_frame.html", urls=_staff_urls(live_id),
                                   **_view_of(live_session, STAFF, zone_of(current_staff()))))


@staff_blueprint.get("/<int:live_id>/events", endpoint="events")
@requires_roles(*STAFF_ROLES)
def staff_events(live_id: int):
    live_session = _staff_session_or_404(live_id)
    return _stream(live_session.id, STAFF, zone_of(current_staff()))


@staff_blueprint.post("/<int:live_id>/say", endpoint="say")
@rate_limit(_participant_limit, key_func=_participant, methods=["POST"])
@requires_roles(*STAFF_ROLES)
def staff_say(live_id: int):
    live_session = _staff_session_or_404(live_id)
    return _said(live_session, STAFF, current_staff(), back=url_for(".session_page", live_id=live_id))


@staff_blueprint.post("/<int:live_id>/end", endpoint="end")
@requires_roles(*STAFF_ROLES)
def staff_end(live_id: int):
    live_session = _staff_session_or_404(live_id)
    _ended(live_session, ENDED_BY_STAFF)
    return redirect(url_for(".session_page", live_id=live_id))


@staff_blueprint.route("/hours", methods=["GET", "POST"])
@requires_roles("admin")
def hours():
    """Admins set, per language, the weekly hours in which walk-in chat is answered
    (one window a day, Brussels time)."""
    names = _language_names()
    problems: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        chosen: dict[str, list] = {}
        for code in names:
            chosen[code] = []
            for weekday in range(7):
                field = f"{code}-{weekday}"
                start_text = typed[field + "-start"] = request.form.get(field + "-start", "").strip()
                end_text = typed[field + "-end"] = request.form.get(field + "-end", "").strip()
                if not start_text and not end_text:
                    continue
                try:
                    start, end_ = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
                    if len(start_text) > 5 or len(end_text) > 5:
                        raise ValueError
                except ValueError:
                    problems[field] = _("Write both times as hours and minutes, for example 09:00 and 17:30.")
                    continue
                if not start < end_:
                    problems[field] = _("The end must come after the start.")
                    continue
                chosen[code].append((weekday, start, end_))
        if not problems:
            with db.transaction() as session_:
                for code, windows in chosen.items():
                    live.set_staffed_hours(session_, code, windows)
            flash(_("The chat hours are saved."), "success")
            return redirect(url_for(".hours"))
    else:
        for window in live.staffed_hours(db.session):
            typed[f"{window.language}-{window.weekday}-start"] = window.start.strftime("%H:%M")
            typed[f"{window.language}-{window.weekday}-end"] = window.end.strftime("%H:%M")
    return render_template("conversations/live_hours.html", names=names, weekdays=_weekday_names(), typed=typed,
                           problems=problems, confirm_form=ConfirmForm()), (422 if problems else 200)
