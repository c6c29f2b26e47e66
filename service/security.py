"""Headers, cookies, CSRF and rate limits that every response and form gets."""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from service.privacy import client_fingerprint

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture", "encrypted-media",
        "geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment",
        "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "serial", "usb",
        "xr-spatial-tracking",
    )
)
HSTS = "max-age=31536000; includeSubDomains"

csrf = CSRFProtect()
limiter = Limiter(
    key_func=client_fingerprint,
    headers_enabled=False,
    # A broken Redis must not take the portal down: limits fall back to this process.
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


def rate_limit(limit_value, **options):
    """`limiter.limit`, and a mark on the view that it has a limit. Every limit in Pause is
    declared on its view this way (a test checks), so requests to any other view skip the
    limiter altogether (see `_check_only_limited_views`)."""
    limit = limiter.limit(limit_value, **options)

    def decorate(view):
        limited = limit(view)
        limited.rate_limited = True
        return limited

    return decorate


def shared_rate_limit(limit_value, scope: str, **options):
    """`limiter.shared_limit` (one allowance across several views), marked like rate_limit."""
    limit = limiter.shared_limit(limit_value, scope, **options)

    def decorate(view):
        limited = limit(view)
        limited.rate_limited = True
        return limited

    return decorate


def _check_only_limited_views(app: Flask) -> None:
    """Flask-Limiter weighs meta limits, exemption scopes and decorated limits for every
    request, a fifth of the cost of a form post. Pause declares no default, application
    or blueprint limits, so for a view without `rate_limit` the answer is always "no
    limit" and the check is not started."""
    hooks = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit
    position = hooks.index(check)

    def check_if_the_view_is_limited() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "rate_limited", False):
            check()

    hooks[position] = check_if_the_view_is_limited


def init_app(app: Flask) -> None:
    settings = app.config["PAUSE"]
    app.config.update(
        SESSION_COOKIE_NAME="__Host-pause" if settings.is_production else "pause",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        # A visitor may read for an hour before posting an answer; the token lives as
        # long as the (browser-session) cookie instead of expiring under them.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,  # checks the Referer, which no-referrer never sends
        MAX_CONTENT_LENGTH=settings.max_content_length,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        # A frozen Redis costs a request at most 0.2 s, once: no retries, then the limits
        # fall back to this process (as when Redis is stopped) until it answers again.
        RATELIMIT_STORAGE_OPTIONS=redis_options() if settings.redis_url else {},
        RATELIMIT_ENABLED=True,
    )
    from service import sessions

    sessions.init_app(app)
    app.before_request(refuse_null_characters)
    app.before_request(refuse_cross_site_posts)
    csrf.init_app(app)
    limiter.init_app(app)
    _check_only_limited_views(app)
    app.after_request(add_security_headers)


def redis_options() -> dict:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_timeout": 0.2, "socket_connect_timeout": 0.2, "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 0}


def wrap_wsgi_app(app: Flask) -> None:
    """The proxy fix, so that the scheme (and so HSTS) is the visitor's."""
    settings = app.config["PAUSE"]
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_cross_site_posts() -> None:
    """A second lock beside the CSRF token (README, "Sessions and caching"): a form sent
    from another site is refused by what the browser says of it. Browsers send
    Sec-Fetch-Site and Origin with every form; with Referrer-Policy no-referrer the Origin
    may be "null", which says nothing, so only a named other origin is refused."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise CSRFError("The form came from another site.")
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin not in (request.host_url.rstrip("/"),
                                                      current_app.config["PAUSE"].base_url):
        # The public address counts too: behind nginx the Host header carries no port.
        raise CSRFError("The form came from another site.")


def refuse_null_characters() -> None:
    """No field of any form or address may hold a NUL character: no visitor types one,
    PostgreSQL cannot store one, and refusing it here keeps every later check simple."""
    # A GET's body is never read (request.values holds only the query for GET), so it is
    # not parsed here either.
    if "\x00" in request.path:
        abort(400)
    sources = (request.args,) if request.method in ("GET", "HEAD") else (request.args, request.form)
    for values in sources:
        for name, value in values.items(multi=True):  # every value of a repeated field
            if "\x00" in name or "\x00" in value:
                abort(400)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    # A view may narrow or widen framing for itself (the live transcript frame, shown
    # only inside our own pages); every other response gets the strict policy.
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers.setdefault("X-Frame-Options", "DENY")
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    if not request.path.startswith("/static/"):
        # Pages may show progress or answers; nothing a visitor sees is kept by caches
        # or the browser's back-forward store.
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response
