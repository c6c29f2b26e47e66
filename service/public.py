"""The home page, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from sqlalchemy.exc import SQLAlchemyError

from service import sessions
from service.db import db
from service.fallback import answers_without_database
from service.routing import local_path_or

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
@answers_without_database
def home():
    return render_template("home.html")


@blueprint.get("/language/<code>")
def choose_language(code: str):
    if code not in current_app.config["PAUSE"].locales:
        abort(404)
    session["locale"] = code
    return redirect(local_path_or_home(request.args.get("next", "")))


@blueprint.get("/exit")
def quick_exit():
    """Quick exit: the visit ends here, on the server, before the browser leaves for the
    neutral site. A plain link (JavaScript off); with JavaScript on, pause.js goes here
    with location.replace so the page left is not in the history either. A GET that
    changes something, on purpose: a link is what works everywhere, and all another
    site could do with it is end a visit, which is what the visitor wants it for."""
    sessions.end()
    response = redirect(current_app.config["PAUSE"].quick_exit_url)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@blueprint.get("/healthz")
def healthz():
    try:
        db.ping()
    except SQLAlchemyError:
        return render_template("errors/unavailable.html"), 503
    return {"status": "ok"}


def local_path_or_home(target: str) -> str:
    """Only a path on this site: never another host, so the switch cannot be used to
    send a visitor elsewhere."""
    return local_path_or(target, "/")
