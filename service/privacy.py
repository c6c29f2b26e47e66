"""What the service must never keep: client addresses, user agents, referrers, query strings
and anonymous keys. This module owns logging and the one place a client address is read.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sys
import time

from flask import Flask, current_app, g, request

REQUEST_LOGGER = "pause.request"

# Defence in depth: even if some library logs an address, it does not reach the output.
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# An IPv6 address has "::" or at least three colons, which a clock time (12:30:05) never has.
_IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{0,4}:){3,})[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"
)
# Werkzeug's development server starts every line with "<address> - - [<date>] ".
_WERKZEUG_PREFIX = re.compile(r"^\S+ - - \[[^\]]*\] ")


def redact(message: str) -> str:
    return _IPV6.sub("[address]", _IPV4.sub("[address]", message))


class RedactingFilter(logging.Filter):
    """Rewrites every record so no client address can be written out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "pause_request_line", False):
            return True  # made only of a known method, a route pattern and numbers
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class DevelopmentServerFilter(logging.Filter):
    """Drops the development server's access lines (ours replace them) and strips the
    client address from its error lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not _WERKZEUG_PREFIX.match(record.msg):
            return True
        if record.levelno <= logging.INFO:
            return False
        record.msg = _WERKZEUG_PREFIX.sub("", record.msg)
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    # Replace, not add: a second app in the same process (tests) must not double the output.
    for existing in [h for h in root.handlers if getattr(h, "_pause", False)]:
        root.removeHandler(existing)
    handler._pause = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("werkzeug",):
        logger = logging.getLogger(name)
        if not any(isinstance(f, DevelopmentServerFilter) for f in logger.filters):
            logger.addFilter(DevelopmentServerFilter())
    app.logger.handlers.clear()
    app.logger.propagate = True

    app.before_request(_start_timer)
    app.after_request(_log_request)
    # Flask's own line for an unhandled exception names the raw path, which can hold a
    # secret (an enrolment token, a calendar feed's); ours names the route pattern.
    app.log_exception = _log_exception_with_route  # type: ignore[method-assign]


def route_pattern() -> str:
    """The route pattern of the current request, never its path."""
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def _log_exception_with_route(exc_info) -> None:
    method = request.method if request.method in _KNOWN_METHODS else "OTHER"
    logging.getLogger("service").error("Exception on %s [%s]", route_pattern(), method, exc_info=exc_info)


_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REQUEST_LINE = {"pause_request_line": True}


def _start_timer() -> None:
    g.pause_request_started = time.perf_counter()


def _log_request(response):
    started = g.get("pause_request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    # The route pattern, never the path: paths of static files or 404s are not personal,
    # but a pattern is enough and cannot carry anything a visitor typed.
    route = route_pattern()
    log_request_line(request.method, route, response.status_code, duration_ms)
    return response


_request_logger = logging.getLogger(REQUEST_LOGGER)


def log_request_line(method: str, route: str, status: int, duration_ms: float) -> None:
    """The one line a request leaves: method, route pattern, status and duration."""
    # A method name is the one thing here a client chooses; an unknown one is not repeated,
    # so the line needs no search for addresses (which cost a third of writing it).
    method = method if method in _KNOWN_METHODS else "OTHER"
    _request_logger.info("%s %s %s %.1fms", method, route, status, duration_ms, extra=_REQUEST_LINE)


def client_fingerprint() -> str:
    """A keyed hash of the client address, for throttling only, never stored or logged.

    Keyed with the secret key so the value cannot be reversed by trying every address.
    """
    address = (request.remote_addr or "unknown").encode()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, address, hashlib.sha256).hexdigest()[:24]
