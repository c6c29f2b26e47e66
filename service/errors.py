"""Error pages: short, translated, never a stack trace, never what the visitor typed."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PAGES = {
    400: "errors/bad_request.html",
    403: "errors/forbidden.html",
    404: "errors/not_found.html",
    405: "errors/bad_request.html",
    413: "errors/too_large.html",
    429: "errors/too_many.html",
    503: "errors/unavailable.html",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(OperationalError, render_database_unavailable)
    app.register_error_handler(DBAPIError, render_database_unavailable)
    app.register_error_handler(InternalServerError, render_server_error)


def render_http_error(error: HTTPException):
    code = error.code or 500
    if code >= 500 and code != 503:
        return render_server_error(error)
    return render_template(PAGES.get(code, "errors/bad_request.html"), code=code), code


def render_csrf_error(_error: CSRFError):
    return render_template("errors/expired_form.html"), 400


def render_database_unavailable(error: Exception):
    # The class name only: a driver message can quote the statement and its values.
    log.error("database unavailable: %s", type(error).__name__)
    return render_template("errors/unavailable.html"), 503


def render_server_error(error: Exception):
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, (OperationalError, DBAPIError)):
        return render_database_unavailable(original)
    log.error("server error: %s", type(original).__name__)
    return render_template("errors/server_error.html"), 500
