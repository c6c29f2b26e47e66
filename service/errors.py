"""Error pages: short, translated, never a stack trace, never what the visitor typed
(but for the urgent-contact form, whose content is given back to them to send again).

Every database error, whatever layer it surfaces in, is the translated 503 with 112 and
the crisis lines. Below Flask, `LastResort` answers for anything that escapes Flask
itself (a failing error page, a teardown), so no visitor ever gets the server's plain
"Internal Server Error", without our headers or an emergency number."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
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
# Forms whose content the 503 page gives back, so nothing the visitor wrote is lost.
KEPT_FORMS = {"crisis.contact"}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(CSRFError, render_csrf_error)
    # OperationalError, DBAPIError, the pool's TimeoutError, a transaction that could not
    # be rolled back on a dead connection: all mean "the database is not answering".
    app.register_error_handler(SQLAlchemyError, render_database_unavailable)
    app.register_error_handler(InternalServerError, render_server_error)


def render_http_error(error: HTTPException):
    code = error.code or 500
    if code >= 500 and code != 503:
        return render_server_error(error)
    if code == 503:
        return render_unavailable()
    return render_template(PAGES.get(code, "errors/bad_request.html"), code=code), code


def render_csrf_error(_error: CSRFError):
    return render_template("errors/expired_form.html"), 400


def render_database_unavailable(error: Exception):
    # The class name only: a driver message can quote the statement and its values.
    log.error("database unavailable: %s", type(error).__name__)
    return render_unavailable()


def render_unavailable():
    from service import fallback
    from service.crisis.views import shown_regions
    from service.i18n import current_locale

    settings = current_app.config["PAUSE"]
    lines = fallback.phone_lines(shown_regions(), current_locale(), settings.default_locale)
    kept = None
    if request.method == "POST" and request.endpoint in KEPT_FORMS:
        kept = _kept_contact_form()
    return render_template("errors/unavailable.html", lines=lines, kept=kept), 503


def _kept_contact_form():
    """The urgent-contact form as the visitor filled it in, to send again later."""
    from wtforms.fields.choices import SelectChoice

    from service.crisis.forms import ContactRequestForm

    form = ContactRequestForm()
    form.channel.choices = [choice for choice in form.channel.choices if choice.value != "call-line"]
    form.language.choices = [SelectChoice(code, code) for code in current_app.config["PAUSE"].locales]
    return form


def render_server_error(error: Exception):
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, SQLAlchemyError):
        return render_database_unavailable(original)
    log.error("server error: %s", type(original).__name__)
    return render_template("errors/server_error.html"), 500


class LastResort:
    """The outermost WSGI layer: if the app itself fails (an error page that cannot be
    rendered, a teardown that raises), the visitor still gets the translated 503 in
    their language, with 112, the crisis lines and every security header. The pages
    are rendered once, when the app starts, so answering needs nothing that can fail."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.locales = app.config["PAUSE"].locales
        self.default_locale = app.config["PAUSE"].default_locale
        self.pages = {locale: _prerender(app, locale) for locale in self.locales}

    def __call__(self, environ, start_response):
        # The app's start_response is held back until the app has returned: Flask runs its
        # teardown after starting the response, and a teardown that fails must still be
        # able to replace that response with ours.
        held: dict = {"status": None, "write": None, "passthrough": False}

        def hold(status, headers, exc_info=None):
            if held["passthrough"] or held["write"] is not None:
                return start_response(status, headers, exc_info)
            held["status"] = (status, headers)

            def write(data: bytes):  # the legacy write(): the response must start now
                if held["write"] is None:
                    held["write"] = start_response(*held["status"])
                return held["write"](data)

            return write

        try:
            result = self.wsgi_app(environ, hold)
        except Exception as error:  # noqa: BLE001 - the last line: every failure gets an answer
            if held["write"] is not None:
                raise  # part of the body is out already: nothing can be said instead
            log.error("unhandled error: %s", type(error).__name__)
            return self.answer(environ, start_response)
        if held["status"] is not None and held["write"] is None:
            start_response(*held["status"])
        held["passthrough"] = True  # an app that starts its response while iterating
        return result

    def answer(self, environ, start_response, exc_info=None):
        from service.i18n import locale_for_browser

        locale = locale_for_browser(environ.get("HTTP_ACCEPT_LANGUAGE"), self.locales, self.default_locale)
        body, headers = self.pages[locale]
        headers = [*headers, ("Content-Length", str(len(body)))]
        if environ.get("wsgi.url_scheme") == "https":
            from service.security import HSTS

            headers.append(("Strict-Transport-Security", HSTS))
        start_response("503 Service Unavailable", headers, exc_info)
        return [body]


def _prerender(app: Flask, locale: str) -> tuple[bytes, list[tuple[str, str]]]:
    from service.security import add_security_headers

    try:
        with app.test_request_context("/", headers={"Accept-Language": locale}):
            response = app.make_response(render_unavailable())
            response = add_security_headers(response)
            headers = [(name, value) for name, value in response.headers.items()
                       if name.lower() not in ("content-length", "set-cookie", "vary")]
            return response.get_data(), headers
    except Exception as error:  # noqa: BLE001 - a page of plain words is still an answer
        log.error("the 503 page could not be prepared: %s", type(error).__name__)
        body = (b"<!doctype html><html><head><meta charset=\"utf-8\"><title>Pause</title></head><body>"
                b"<h1>The service is unavailable for a moment</h1>"
                b"<p>If you need help now, call <a href=\"tel:112\">112</a>.</p></body></html>")
        return body, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                      ("Content-Security-Policy", "default-src 'none'"), ("X-Content-Type-Options", "nosniff"),
                      ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")]


def wrap_wsgi_app(app: Flask) -> None:
    """Called last, so it is outside every other layer."""
    app.wsgi_app = LastResort(app, app.wsgi_app)
