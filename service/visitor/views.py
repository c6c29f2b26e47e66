"""Create, open, close and forget an anonymous key. Keys are always posted, never put
in an address."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from service import sessions
from service.db import db
from service.security import rate_limit
from service.visitor import services
from service.visitor.current import close_key, current_key_id, key_opened, remember_open_key
from service.visitor.forms import ConfirmForm, OpenKeyForm

blueprint = Blueprint("visitor", __name__, url_prefix="/key", template_folder="templates")


def _open_limit() -> str:
    return current_app.config["PAUSE"].key_open_rate_limit


def _create_limit() -> str:
    return current_app.config["PAUSE"].key_create_rate_limit


@blueprint.get("/")
def overview():
    return render_template(
        "visitor/overview.html", key_open=current_key_id() is not None, open_form=OpenKeyForm(), confirm_form=ConfirmForm()
    )


@blueprint.post("/new")
@rate_limit(_create_limit, methods=["POST"])
def create():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for(".overview"))
    with db.transaction() as session_:
        key, plain = services.create_key(session_)
        key_id = key.id
    remember_open_key(key_id)
    key_opened.send(current_app._get_current_object(), key_id=key_id)
    # Shown in this answer only: not stored, not redirected through a URL or the session.
    return render_template("visitor/created.html", plain_key=plain)


@blueprint.post("/open")
@rate_limit(_open_limit, methods=["POST"])  # checked before any hash is computed
def open_key():
    form = OpenKeyForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session_:
                key = services.find_key(session_, form.key.data)
                key_id = key.id if key else None
        except services.MalformedKey:
            form.key.errors.append(_("That is not a key: a key has 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX."))
        else:
            if key_id is None:
                form.key.errors.append(_("We found no key like that. Check each character and try again."))
            else:
                remember_open_key(key_id)
                key_opened.send(current_app._get_current_object(), key_id=key_id)
                flash(_("Your key is open. Your progress and answers are kept."), "success")
                return redirect(url_for(".overview"))
    return render_template(
        "visitor/overview.html", key_open=False, open_form=form, confirm_form=ConfirmForm()
    ), 422 if form.errors else 200


@blueprint.post("/close")
def close():
    if ConfirmForm().validate_on_submit():
        close_key()
        flash(_("Your key is closed in this browser. Your saved work stays until you forget the key."), "success")
    return redirect(url_for(".overview"))


@blueprint.get("/forget")
def confirm_forget():
    if current_key_id() is None:
        return redirect(url_for(".overview"))
    return render_template("visitor/forget.html", confirm_form=ConfirmForm())


@blueprint.post("/forget")
def forget():
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".overview"))
    key_id = current_key_id()
    if key_id is not None:
        with db.transaction() as session_:
            services.forget_key(session_, key_id)
    sessions.end()
    response = current_app.make_response(render_template("visitor/forgotten.html"))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
