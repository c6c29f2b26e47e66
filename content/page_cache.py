"""Whole public pages, rendered once per address, language and content generation, and
then served from memory to every visitor the page says nothing about.

Most people read Pause without a key: their session holds at most a CSRF token and a
language choice, and the page they get is the same for all of them. Anyone whose session
holds something of their own (a key, progress, answers under way, a message waiting)
gets the page rendered for them, as before. Forms on a shared page are rendered with a
placeholder where the CSRF token goes, and each response gets the visitor's own token;
a page without forms never makes a session at all.

`SharedPageServer` answers the commonest request of all, a first visit (no session
cookie) to a shared page, before Flask builds a request: the page was
rendered, and its whole response recorded, by the view the first time; the server
only adds the visitor's own token and session cookie. Anything it is not sure of goes
to Flask."""

from __future__ import annotations

import contextlib
import functools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, Serializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy.exc import SQLAlchemyError

from content import cache
from service.db import db
from service.i18n import current_locale, locale_for_browser
from service.onion import is_onion_environ
from service.privacy import log_request_line
from service.security import SignerOnceSerializer

# Session fields that say nothing about the visitor: a token, and preferences for the
# language, the time zone and the region. A page that shows any of them puts it in its key.
IMPERSONAL_SESSION_FIELDS = frozenset({"csrf_token", "locale", "zone", "region"})
_CSRF_PLACEHOLDER = "csrf-placeholder-" + secrets.token_urlsafe(18)


def says_nothing_about_visitor() -> bool:
    return request.method == "GET" and set(session.keys()) <= IMPERSONAL_SESSION_FIELDS


def shared_page(view: Callable | None = None, *, varies_with: Callable[[], Hashable] | None = None,
                still_current: Callable[[str, Hashable], bool] | None = None):
    """Serve the view's page from the cache to visitors it says nothing about. A page that
    shows more than published content (the booking page's free times) names what else it
    varies with, and is cached for each value of that. If it can also tell, outside any
    request, whether a value it varied with still holds (`still_current(database, value)`,
    with no query to the database), SharedPageServer may answer it too."""
    if view is None:
        return functools.partial(shared_page, varies_with=varies_with, still_current=still_current)

    @functools.wraps(view)
    def serve(**view_args):
        # The key is made of bounded things only: the path of a page that exists, the
        # language and what `varies_with` normalises. An address with a query the page
        # does not declare is answered without the cache, so no one can fill it with junk.
        if not says_nothing_about_visitor() or (request.args and varies_with is None):
            return view(**view_args)
        try:
            depends_on = varies_with() if varies_with else None
            key = ("page", request.path, current_locale(), depends_on)
            full_key, body = cache.lookup(db.engine, key)
        except SQLAlchemyError:
            # The database is down: a page that needs none (the home page) still answers.
            db.session.rollback()
            return view(**view_args)
        if body is cache.MISSING:
            with _one_rendering_at_a_time(full_key):
                # Whoever waited here finds the page the first thread just rendered.
                body = cache.get(full_key)
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
        response = _with_own_token(current_app.response_class(body, mimetype="text/html"))
        if (varies_with is None and not request.args) or still_current is not None:
            # What SharedPageServer needs to answer the next first visit here by itself.
            request.environ[_READY_PAGE_NOTE] = _Rendering(full_key[0], full_key[1], request.url_rule.rule, body,
                                                           g.get("csrf_token"), depends_on, still_current)
        return response

    return serve


_rendering: dict[tuple, threading.Lock] = {}
_rendering_guard = threading.Lock()


@contextlib.contextmanager
def _one_rendering_at_a_time(full_key: tuple) -> Iterator[None]:
    """When a page falls out of date (a publish, or a new minute for the free times), the
    threads asking for it at that moment wait for one of them to render it instead of all
    rendering it at once, which made every one of them late."""
    with _rendering_guard:
        lock = _rendering.setdefault(full_key, threading.Lock())
    try:
        with lock:
            yield
    finally:
        with _rendering_guard:
            if not lock.locked():
                _rendering.pop(full_key, None)


def _with_own_token(response):
    if response.is_streamed or response.direct_passthrough:
        return response
    body = response.get_data(as_text=True)
    if _CSRF_PLACEHOLDER in body:
        response.set_data(body.replace(_CSRF_PLACEHOLDER, generate_csrf()))
    return response


_READY_PAGE_NOTE = "pause.shared_page"
# The pages of a site, in each language and scheme: a few hundred at most. The bound only
# guards against a mistake; the keys are paths that exist, never what a client makes up.
MAX_READY_PAGES = 2048
# Addresses with a query (the booking page's choices) are what a client writes, so they
# are kept apart, the least recently asked for going first: junk queries can only push
# each other (and at worst a real one) back to Flask, never grow the memory used.
MAX_READY_QUERIES = 256


@dataclass(frozen=True)
class _Rendering:
    """What the view knows of a shared page it just answered."""

    database: str
    generation: tuple[int, int]
    route: str
    body: str  # with the CSRF placeholder, if the page has forms
    token: str | None  # the token this visitor got in place of the placeholder
    depends_on: Hashable = None  # what else than published content the page shows
    still_current: Callable[[str, Hashable], bool] | None = None


@dataclass(frozen=True)
class _ReadyPage:
    """A shared page's whole response, as Flask made it, less the visitor's own parts."""

    database: str
    generation: tuple[int, int]
    route: str
    status: str
    headers: tuple[tuple[str, str], ...]  # without Content-Length and Set-Cookie
    body_parts: tuple[bytes, ...]  # the body, split where each visitor's token goes
    cookie_attributes: str  # "; HttpOnly; Path=/; ...", as Flask wrote them
    depends_on: Hashable = None
    still_current: Callable[[str, Hashable], bool] | None = None

    def is_current(self) -> bool:
        return cache.confirmed_generation(self.database) == self.generation and (
            self.still_current is None or self.still_current(self.database, self.depends_on))


class _QuickSerializer(SignerOnceSerializer):
    """Signs exactly what the serializer it is made `like` signs, in its format, with its
    keys: with one signer, and a payload of a few dozen random characters is not run
    through zlib on the chance that it shrinks (uncompressed is a valid form too)."""

    @classmethod
    def like(cls, model: URLSafeTimedSerializer) -> URLSafeTimedSerializer:
        quick = cls(model.secret_keys, salt=model.salt, serializer=model.serializer,
                    signer_kwargs=model.signer_kwargs)
        # What it makes must read back with the model, or the model signs instead.
        sample = secrets.token_hex(20)
        return quick if model.loads(quick.dumps(sample)) == sample else model

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


class SharedPageServer:
    """WSGI middleware in front of Flask (behind ProxyFix, so the scheme is the visitor's).

    A GET with no session cookie is a first visit: it is answered from a `_ReadyPage`
    when there is one for the address (with its query, as sent), scheme and language,
    the content generation it was made from is the one this process confirmed within the
    last second, and whatever else it showed is still current (the page's own
    `still_current`; pages without one are only recorded for addresses without a query).
    Otherwise Flask answers, and if its view said the page is shared (and the response is
    one this server can reproduce exactly), the response is recorded for the next visit.

    The token and cookie made here are Flask-WTF's and Flask's own formats, made with the
    app's own serializers; a page is only recorded after the token and cookie Flask made
    for it were read back with them, so a change in either library disables this server
    rather than break a form."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        settings = app.config["PAUSE"]
        self.wsgi_app = wsgi_app
        self.locales, self.default_locale = settings.locales, settings.default_locale
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        self.onion_host = settings.onion_host
        self.session_serializer = app.session_interface.get_signing_serializer(app)
        self.csrf_serializer = URLSafeTimedSerializer(
            app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token")
        self.make_cookie = _QuickSerializer.like(self.session_serializer).dumps
        self.make_token = _QuickSerializer.like(self.csrf_serializer).dumps
        self.csrf_field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self.pages: dict[tuple[str, str, str, str, str], _ReadyPage] = {}
        self.queried_pages: OrderedDict[tuple[str, str, str, str, str], _ReadyPage] = OrderedDict()
        self.queried_pages_lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (environ["REQUEST_METHOD"] != "GET" or self.cookie_name in environ.get("HTTP_COOKIE", "")
                or is_onion_environ(environ, self.onion_host)):
            # Onion visitors get another cookie (service/onion.py); Flask answers them.
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        query = environ.get("QUERY_STRING", "")
        key = (environ["wsgi.url_scheme"], environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), query,
               locale_for_browser(environ.get("HTTP_ACCEPT_LANGUAGE"), self.locales, self.default_locale))
        ready = self.queried_pages.get(key) if query else self.pages.get(key)
        if ready is not None and ready.is_current():
            return self._answer(ready, start_response, started)

        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def note_answer(status: str, headers: list[tuple[str, str]], exc_info=None):
            answered.append((status, headers))
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, note_answer)
        rendering = environ.get(_READY_PAGE_NOTE)
        if rendering is not None and answered:
            ready = self._ready_page(rendering, *answered[-1])
            if ready is not None:
                self._keep(key, query, ready)
        return body

    def _keep(self, key: tuple, query: str, ready: _ReadyPage) -> None:
        if not query:
            if key in self.pages or len(self.pages) < MAX_READY_PAGES:
                self.pages[key] = ready
            return
        with self.queried_pages_lock:
            self.queried_pages[key] = ready
            self.queried_pages.move_to_end(key)
            while len(self.queried_pages) > MAX_READY_QUERIES:
                self.queried_pages.popitem(last=False)

    def _ready_page(self, rendering: _Rendering, status: str, headers: list[tuple[str, str]]) -> _ReadyPage | None:
        """The response Flask just sent, as a `_ReadyPage`, or None if it is not one this
        server can send again exactly (another status, a cookie it does not understand)."""
        if not status.startswith("200 "):
            return None
        cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        kept = tuple((name, value) for name, value in headers if name.lower() not in ("set-cookie", "content-length"))
        pieces = rendering.body.split(_CSRF_PLACEHOLDER)
        cookie_attributes = ""
        if len(pieces) > 1 or cookies:
            # A page with forms: Flask made a session holding the raw token and nothing
            # else, and the page got that token signed. Both must read back here.
            if len(cookies) != 1 or rendering.token is None:
                return None
            name_value, _, attributes = cookies[0].partition(";")
            name, _, value = name_value.partition("=")
            try:
                stored = self.session_serializer.loads(value)
                raw_token = self.csrf_serializer.loads(rendering.token)
            except BadSignature:
                return None
            if name != self.cookie_name or stored != {self.csrf_field: raw_token}:
                return None
            cookie_attributes = ";" + attributes
        return _ReadyPage(rendering.database, rendering.generation, rendering.route, status, kept,
                          tuple(piece.encode() for piece in pieces), cookie_attributes, rendering.depends_on,
                          rendering.still_current)

    def _answer(self, ready: _ReadyPage, start_response: Callable, started: float) -> Iterable[bytes]:
        headers = list(ready.headers)
        if len(ready.body_parts) > 1:
            # A raw token like the 40 hex digits Flask-WTF's generate_csrf makes.
            raw_token = secrets.token_hex(20)
            body = self.make_token(raw_token).encode().join(ready.body_parts)
            cookie = self.make_cookie({self.csrf_field: raw_token})
            headers.append(("Set-Cookie", f"{self.cookie_name}={cookie}{ready.cookie_attributes}"))
        else:
            body = ready.body_parts[0]
        headers.append(("Content-Length", str(len(body))))
        start_response(ready.status, headers)
        log_request_line("GET", ready.route, 200, (time.perf_counter() - started) * 1000)
        return [body]
