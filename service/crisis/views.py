"""The "Help now" path, reachable from every page: resources by region, and a request
to be contacted urgently, checked later with a case code."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from wtforms.fields.choices import SelectChoice

from service.crisis import services
from service.crisis.forms import ContactRequestForm, StatusForm
from service.crisis.models import REGIONS
from service.db import db
from service.i18n import current_locale
from service.security import rate_limit
from service.visitor.services import MalformedKey

blueprint = Blueprint("crisis", __name__, template_folder="templates")

# Before the visitor chooses a region, the lines for their language: never their address.
# One entry per language; a language not listed shows the lines for "elsewhere".
REGIONS_BY_LANGUAGE = {
    "fr": ("be-fr", "fr"),
    "en": ("uk", "be-fr", "be-nl"),
    "nl": ("be-nl",),
}
# The order kinds are listed in, within a region.
KIND_ORDER = ("programme", "emergency", "suicide-prevention", "prevention", "child-protection", "reporting")
# The lines shown with crisis help in the self-check: every kind but where to report images.
CRISIS_KINDS = KIND_ORDER[:-1]


def shown_regions() -> tuple[str, ...]:
    """The region the visitor chose, or the regions of their language."""
    chosen = session.get("region")
    if chosen in REGIONS:
        return (chosen,)
    return REGIONS_BY_LANGUAGE.get(current_locale(), ("elsewhere",))


def current_region() -> str:
    return shown_regions()[0]


def region_resources(region: str) -> list[services.ResourceView] | None:
    """The resources for a region. When the database cannot answer, the crisis page still
    shows its guidance, 112 and the lines last read (or shipped): see service.fallback."""
    from service import fallback

    locale, default = current_locale(), current_app.config["PAUSE"].default_locale
    try:
        resources = services.resources_for(db.session, region, locale, default)
    except SQLAlchemyError:
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass  # the connection is gone; the session is closed at teardown
        g.lines_from_memory = True
        return fallback.resources_without_database(region, locale, default)
    fallback.remember(region, locale, resources)
    return resources


def visitor_resources(kinds: tuple[str, ...] = KIND_ORDER) -> list[services.ResourceView] | None:
    """The resources of the shown regions, each once, in kind order (None: no database)."""
    found: dict[str, services.ResourceView] = {}
    for region in shown_regions():
        resources = region_resources(region)
        if resources is None:
            return None
        for resource in resources:
            if resource.kind in kinds:
                found.setdefault(resource.slug, resource)
    return sorted(found.values(), key=lambda resource: kinds.index(resource.kind))


@blueprint.get("/help-now")
def help_now():
    chosen = request.args.get("region")
    if chosen is not None:
        if chosen not in REGIONS:
            abort(404)
        session["region"] = chosen
    regions = shown_regions()
    by_region = []
    for region in regions:
        resources = region_resources(region)
        by_region.append((region, None if resources is None else sorted(
            (resource for resource in resources if resource.kind != "reporting"),
            key=lambda resource: KIND_ORDER.index(resource.kind))))
    every = visitor_resources()
    return render_template(
        "crisis/help_now.html", region=regions[0], regions=REGIONS, region_chosen="region" in session,
        shown_regions=regions, by_region=by_region,
        boxes=None if every is None else {kind: [resource for resource in every if resource.kind in kinds]
                                          for kind, kinds in (("danger", ("child-protection",)),
                                                              ("harm", ("programme", "prevention")),
                                                              ("life", ("suicide-prevention",)),
                                                              ("report", ("reporting",)))})


def _programme_line():
    try:
        return services.programme_line(db.session, current_locale(), current_app.config["PAUSE"].default_locale)
    except SQLAlchemyError:
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass  # the connection is gone; the session is closed at teardown
        return None


@blueprint.route("/help-now/contact", methods=["GET", "POST"])
@rate_limit("5 per hour", methods=["POST"])
def contact():
    form = ContactRequestForm()
    line = _programme_line()
    if line is None:  # "call the programme's line" only when staff have configured one
        form.channel.choices = [choice for choice in form.channel.choices if choice.value != "call-line"]
    form.language.choices = [SelectChoice(code, code) for code in current_app.config["PAUSE"].locales]
    if request.method == "GET":
        form.language.data = current_locale()
    problems: dict[str, str] = {}
    if request.method == "POST":
        # CSRF is checked before the view; every field is checked by the service.
        try:
            request_data = services.validate_request(form.channel.data, form.contact.data, form.time_window.data,
                                                     form.language.data, form.message.data,
                                                     current_app.config["PAUSE"].locales,
                                                     tuple(choice.value for choice in form.channel.choices))
        except services.InvalidRequest as invalid:
            problems = invalid.problems
        else:
            with db.transaction() as session_:
                case, code = services.open_case(session_, request_data,
                                                current_app.config["PAUSE"].base_url + url_for("duty.queue"))
                window = case.time_window
                if request_data["channel"] == "message":
                    _open_thread_for(session_, case, request_data["message"])
            return render_template("crisis/contact_opened.html", code=code, channel=request_data["channel"],
                                   window=window, line=line)
    return render_template("crisis/contact.html", form=form, problems=problems, line=line), \
        (422 if problems else 200)


def _open_thread_for(session_, case, message: str) -> None:
    """The "message" option is a thread: the visitor's words become its first message
    (kept there only), and they answer the counsellor with their case code, or their key
    if one is open in this browser."""
    from service.conversations.services import open_from_urgent_case
    from service.visitor.current import current_key_id

    case.sealed_message = None
    open_from_urgent_case(session_, case, message, current_key_id(),
                          current_app.config["PAUSE"].conversation_reply_promise_days)


@blueprint.route("/help-now/contact/status", methods=["GET", "POST"])
@rate_limit("10 per minute;60 per hour", methods=["POST"])  # before any hash is computed
def status():
    form = StatusForm()
    found, error = None, None
    if request.method == "POST" and form.validate_on_submit():
        try:
            found = services.find_case(db.session, form.code.data)
        except MalformedKey:
            error = _("That is not a case code: it has 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX.")
        else:
            if found is None:
                error = _("We found no request with that code. Check each character and try again.")
    elif request.method == "POST":
        error = _("Please type your case code.")
    thread = None
    if found is not None:
        from service.conversations.services import for_urgent_case
        from service.conversations.views import CASE_SESSION_FIELD

        thread = for_urgent_case(db.session, found.id)
        if thread is not None:
            # The code was typed in this session: the thread may be read and answered here.
            session[CASE_SESSION_FIELD] = found.id
    reply = None
    if found is not None and found.sealed_reply:
        from service import crypto

        reply = crypto.unseal(found.sealed_reply)
    notice = services.notification_state(db.session, found) if found is not None else None
    return render_template("crisis/status.html", form=form, case=found, reply=reply, error=error, notice=notice,
                           thread=thread, line=_programme_line() if found is not None else None), \
        (422 if error else 200)
