"""Headers, cookies, CSRF and rate limits that every response and form gets."""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
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

class KeyOnceSigner(TimestampSigner):
    """itsdangerous's TimestampSigner, deriving the key from each secret once instead of
    for every value it signs or checks (two HMACs a request, for the same answer)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived = self.__dict__.setdefault("_derived_keys", {})
        if secret_key not in derived:
            derived[secret_key] = super().derive_key(secret_key)
        return derived[secret_key]


class SignerOnceSerializer(URLSafeTimedSerializer):
    """URLSafeTimedSerializer with one KeyOnceSigner for its own salt, made once. Signers
    hold nothing but keys, so the threads of a worker share it. Same format, same keys."""

    default_signer = KeyOnceSigner

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        if salt is not None and salt != self.salt:
            return super().make_signer(salt)
        signer = self.__dict__.get("_signer")
        if signer is None:
            signer = self._signer = super().make_signer()
        return signer


class VisitorSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session for visitors, with its signing serializer (and its
    signer) made once per app instead of twice per request."""

    def get_signing_serializer(self, app: Flask):
        serializer = app.extensions.get("pause_session_serializer")
        if serializer is None:
            flask_made = super().get_signing_serializer(app)
            serializer = app.extensions["pause_session_serializer"] = SignerOnceSerializer(
                flask_made.secret_keys, salt=flask_made.salt, serializer=flask_made.serializer,
                signer_kwargs=flask_made.signer_kwargs)
        return serializer


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
        RATELIMIT_ENABLED=True,
    )
    app.session_interface = VisitorSessionInterface()
    app.before_request(refuse_null_characters)
    csrf.init_app(app)
    limiter.init_app(app)
    _check_only_limited_views(app)
    app.after_request(add_security_headers)


def wrap_wsgi_app(app: Flask) -> None:
    """Shared pages answered before Flask, behind the proxy fix so that the scheme (and
    so HSTS) is the visitor's. Called last, once the session and CSRF are configured."""
    from content.page_cache import SharedPageServer

    settings = app.config["PAUSE"]
    app.wsgi_app = app.extensions["pause_shared_pages"] = SharedPageServer(app, app.wsgi_app)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)


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
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["X-Frame-Options"] = "DENY"
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
