"""Languages: negotiated from Accept-Language, switchable on every page, remembered in
the session only (never in a long-lived cookie of its own)."""

from __future__ import annotations

import functools

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

babel = Babel()

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands"}


def select_locale() -> str:
    settings = current_app.config["PAUSE"]
    if not has_request_context():
        return settings.default_locale  # commands and jobs
    chosen = session.get("locale")
    if chosen in settings.locales:
        return chosen
    return locale_for_browser(request.headers.get("Accept-Language"), settings.locales, settings.default_locale)


# Browsers send a handful of distinct headers; the cache keeps parsing off the hot path
# and its bound keeps made-up headers from growing it.
@functools.lru_cache(maxsize=512)
def locale_for_browser(accept_language: str | None, locales: tuple[str, ...], default: str) -> str:
    """The language a visitor with no choice in their session reads in: the best match
    for their browser's Accept-Language among ours, else the default."""
    return parse_accept_header(accept_language, LanguageAccept).best_match(locales) or default


def current_locale() -> str:
    return str(get_locale() or current_app.config["PAUSE"].default_locale)


def init_app(app: Flask) -> None:
    settings = app.config["PAUSE"]
    app.config.update(
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE="Europe/Brussels",
        BABEL_TRANSLATION_DIRECTORIES="translations",
    )
    babel.init_app(app, locale_selector=select_locale)
