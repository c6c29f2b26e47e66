"""Whole public pages, rendered once per address, language and content generation, and
then served from memory to every visitor the page says nothing about.

Most people read Pause without a key: their session holds at most a CSRF token and a
language choice, and the page they get is the same for all of them. Anyone whose session
holds something of their own (a key, progress, answers under way, a message waiting)
gets the page rendered for them, as before. Forms on a shared page are rendered with a
placeholder where the CSRF token goes, and each response gets the visitor's own token;
a page without forms never makes a session at all."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Hashable

from flask import current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import SQLAlchemyError

from content import cache
from service.db import db
from service.i18n import current_locale

# Session fields that say nothing about the visitor: a token, and preferences for the
# language, the time zone and the region. A page that shows any of them puts it in its key.
IMPERSONAL_SESSION_FIELDS = frozenset({"csrf_token", "locale", "zone", "region"})
_CSRF_PLACEHOLDER = "csrf-placeholder-" + secrets.token_urlsafe(18)


def says_nothing_about_visitor() -> bool:
    return request.method == "GET" and set(session.keys()) <= IMPERSONAL_SESSION_FIELDS


def shared_page(view: Callable | None = None, *, varies_with: Callable[[], Hashable] | None = None):
    """Serve the view's page from the cache to visitors it says nothing about. A page that
    shows more than published content (the booking page's free times) names what else it
    varies with, and is cached for each value of that."""
    if view is None:
        return functools.partial(shared_page, varies_with=varies_with)

    @functools.wraps(view)
    def serve(**view_args):
        # The key is made of bounded things only: the path of a page that exists, the
        # language and what `varies_with` normalises. An address with a query the page
        # does not declare is answered without the cache, so no one can fill it with junk.
        if not says_nothing_about_visitor() or (request.args and varies_with is None):
            return view(**view_args)
        try:
            key = ("page", request.path, current_locale(), varies_with() if varies_with else None)
            full_key, body = cache.lookup(db.engine, key)
        except SQLAlchemyError:
            # The database is down: a page that needs none (the home page) still answers.
            db.session.rollback()
            return view(**view_args)
        if body is cache.MISSING:
            g.csrf_token = _CSRF_PLACEHOLDER
            try:
                response = current_app.make_response(view(**view_args))
            finally:
                g.pop("csrf_token", None)
            if response.status_code != 200 or response.mimetype != "text/html" or response.is_streamed:
                return _with_own_token(response)
            body = response.get_data(as_text=True)
            cache.store(full_key, body)
        return _with_own_token(current_app.response_class(body, mimetype="text/html"))

    # Read-only and answered from memory: no rate limit applies (service.security).
    serve.shares_rendered_page = True
    return serve


def _with_own_token(response):
    if response.is_streamed or response.direct_passthrough:
        return response
    body = response.get_data(as_text=True)
    if _CSRF_PLACEHOLDER in body:
        response.set_data(body.replace(_CSRF_PLACEHOLDER, generate_csrf()))
    return response
