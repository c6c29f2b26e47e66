"""The application factory. Reads as a table of contents: each step is one function."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask

from service import config as configuration


def create_app(config: configuration.Settings | dict | None = None) -> Flask:
    """Build the app. `config` is a Settings, a dict of Settings fields to override the
    environment with (tests), or None to read the environment alone."""
    app = Flask("service", instance_relative_config=True)
    settings = configuration.from_environment(instance_path=app.instance_path)
    if isinstance(config, configuration.Settings):
        settings = config
    elif config:
        settings = replace(settings, **config)
    settings = configuration.complete(settings, app.instance_path)
    app.config.update(PAUSE=settings, SECRET_KEY=settings.secret_key, TESTING=settings.is_testing)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    configure_logger(app)
    register_middleware(app)
    return app


def register_extensions(app: Flask) -> None:
    from service import assets, cache, crypto, i18n, live_bus, onion, routing, security, templating, words
    from service.db import db

    routing.init_app(app)
    db.init_app(app)
    cache.clear()
    crypto.init_app(app)
    security.init_app(app)
    onion.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    assets.init_app(app)
    live_bus.init_app(app)
    words.init_app(app)


def register_blueprints(app: Flask) -> None:
    from booking.staff_views import blueprint as appointments
    from booking.staff_views import calendar_feed
    from booking.views import blueprint as booking
    from content.staff_views import blueprint as staff_content
    from content.views import blueprint as content_pages
    from reports.views import blueprint as reports
    from self_help.check_views import blueprint as check
    from self_help.family_views import blueprint as family
    from self_help.views import blueprint as self_help
    from service.auth.access import check_every_staff_route_is_declared
    from service.auth.views import blueprint as staff
    from service.conversations.live_views import blueprint as live
    from service.conversations.live_views import staff_blueprint as staff_live
    from service.conversations.staff_views import blueprint as staff_messages
    from service.conversations.views import blueprint as conversations
    from service.crisis.duty_views import blueprint as duty
    from service.crisis.views import blueprint as crisis
    from service.mail_views import blueprint as mail
    from service.public import blueprint as public
    from service.visitor.views import blueprint as visitor

    for blueprint in (public, crisis, visitor, self_help, family, check, booking, calendar_feed, content_pages, staff,
                      staff_content, duty, appointments, mail, conversations, staff_messages, live, staff_live,
                      reports):
        app.register_blueprint(blueprint)
    check_every_staff_route_is_declared(app)


def register_errorhandlers(app: Flask) -> None:
    from service import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from service import cli

    cli.init_app(app)


def configure_logger(app: Flask) -> None:
    from service import privacy

    privacy.configure_logging(app)


def register_middleware(app: Flask) -> None:
    from service import errors, security

    security.wrap_wsgi_app(app)
    errors.wrap_wsgi_app(app)
