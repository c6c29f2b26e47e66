"""The "Help now" path, reachable from every page: resources by region, and a request
to be contacted urgently, checked later with a case code."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, session, url_for
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

REGION_BY_LOCALE = {"fr": "fr", "nl": "be-nl", "en": "uk"}


def current_region() -> str:
    chosen = session.get("region")
    if chosen in REGIONS:
        return chosen
    return "elsewhere"


def region_resources(region: str) -> list[services.ResourceView] | None:
    """The resources for a region, or None when the database cannot answer: the crisis
    page must still show its guidance and 112 then."""
    try:
        return services.resources_for(db.session, region, current_locale(), current_app.config["PAUSE"].default_locale)
    except SQLAlchemyError:
        db.session.rollback()
        return None


@blueprint.get("/help-now")
def help_now():
    chosen = request.args.get("region")
    if chosen is not None:
        if chosen not in REGIONS:
            abort(404)
        session["region"] = chosen
    region = current_region()
    return render_template("crisis/help_now.html", region=region, regions=REGIONS,
                           region_chosen="region" in session, resources=region_resources(region))


@blueprint.route("/help-now/contact", methods=["GET", "POST"])
@rate_limit("5 per hour", methods=["POST"])
def contact():
    form = ContactRequestForm()
    form.language.choices = [SelectChoice(code, code) for code in current_app.config["PAUSE"].locales]
    if request.method == "GET":
        form.language.data = current_locale()
    problems: dict[str, str] = {}
    if request.method == "POST":
        # CSRF is checked before the view; every field is checked by the service.
        try:
            request_data = services.validate_request(form.channel.data, form.contact.data, form.time_window.data,
                                                     form.language.data, form.message.data,
                                                     current_app.config["PAUSE"].locales)
        except services.InvalidRequest as invalid:
            problems = invalid.problems
        else:
            with db.transaction() as session_:
                case, code = services.open_case(session_, request_data,
                                                current_app.config["PAUSE"].base_url + url_for("duty.queue"))
                window = case.time_window
            return render_template("crisis/contact_opened.html", code=code, channel=request_data["channel"],
                                   window=window)
    return render_template("crisis/contact.html", form=form, problems=problems), (422 if problems else 200)


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
    reply = None
    if found is not None and found.sealed_reply:
        from service import crypto

        reply = crypto.unseal(found.sealed_reply)
    return render_template("crisis/status.html", form=form, case=found, reply=reply, error=error), \
        (422 if error else 200)
