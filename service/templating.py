"""What every template can use: the current language, the quick-exit address, the
language switcher's links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for

from service.i18n import LANGUAGE_NAMES, current_locale


def language_links() -> list[dict]:
    here = request.path if request.method == "GET" and request.url_rule is not None else "/"
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
            "href": url_for("public.choose_language", code=code) + "?" + urlencode({"next": here}),
            "current": code == current_locale(),
        }
        for code in current_app.config["PAUSE"].locales
    ]


def _translations():
    """flask_babel's catalogue for this request, looked up once per locale instead of for
    each of the 20 to 30 strings of a page (half the time of rendering one). Kept beside
    flask_babel's own per-request state and keyed by its locale object, so
    `force_locale` (mail in another language) still gets its own catalogue."""
    import flask_babel

    state = flask_babel._get_current_context()
    if state is None:
        return flask_babel.get_translations()
    memo = getattr(state, "pause_translations", None)
    if memo is None or memo[0] is not getattr(state, "babel_locale", None):
        translations = flask_babel.get_translations()
        memo = state.pause_translations = (getattr(state, "babel_locale", None), translations)
    return memo[1]


def init_app(app: Flask) -> None:
    from markupsafe import Markup

    from content.sanitize import render_markdown

    app.jinja_env.install_gettext_callables(
        gettext=lambda text: _translations().ugettext(text),
        ngettext=lambda singular, plural, number: _translations().ungettext(singular, plural, number),
        pgettext=lambda context, text: _translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, number: _translations().unpgettext(context, singular, plural,
                                                                                        number),
        newstyle=True,
    )
    # Sanitised by render_markdown (bleach allow-list), hence safe to mark.
    app.jinja_env.filters["markdown"] = lambda text: Markup(render_markdown(text or ""))  # noqa: S704  # nosec B704
    @app.context_processor
    def shared_template_values() -> dict:
        return {
            "current_locale": current_locale(),
            "quick_exit_url": current_app.config["PAUSE"].quick_exit_url,
            "language_links": language_links,
            "has_endpoint": lambda name: name in current_app.view_functions,
            "utc": dt.UTC,
            "zoneinfo": ZoneInfo,
        }
