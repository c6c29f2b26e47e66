"""Languages: negotiated from Accept-Language, switchable on every page, remembered in
the session only (never in a long-lived cookie of its own)."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale

babel = Babel()

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands"}


def select_locale() -> str:
    settings = current_app.config["PAUSE"]
    if not has_request_context():
        return settings.default_locale  # commands and jobs
    chosen = session.get("locale")
    if chosen in settings.locales:
        return chosen
    return request.accept_languages.best_match(settings.locales) or settings.default_locale


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
