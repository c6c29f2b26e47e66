"""The onion service (deploy/tor/torrc): the same portal, reached through Tor at
`PAUSE_ONION_HOST` over plain HTTP, which Tor already encrypts end to end.

Under the onion address the portal sends no HSTS and never redirects to https (there is
no certificate for it), and its session cookie carries no `Secure` flag and so no
`__Host-` prefix, which both need an https origin. Every link of ours is relative, so a
page read through Tor never leads back to the clear web. The HTTPS site tells Tor Browser
that the onion address exists with `Onion-Location`."""

from __future__ import annotations

from flask import Flask, Response, current_app, has_request_context, request

# Used instead of "__Host-pause" under the onion address: a cookie Tor Browser keeps on an
# http onion origin. Another name, so that a browser never mixes the two.
ONION_SESSION_COOKIE = "pause-onion"


def is_onion_request() -> bool:
    """True for a request that came through the onion service: plain HTTP, for the host
    name the deployment configured (Tor Browser sends it as Host)."""
    onion_host = current_app.config["PAUSE"].onion_host
    if not onion_host or not has_request_context() or request.is_secure:
        return False
    return request.host.split(":", 1)[0].lower() == onion_host


def is_onion_environ(environ: dict, onion_host: str) -> bool:
    """The same question before Flask has built a request (WSGI middleware)."""
    if not onion_host or environ.get("wsgi.url_scheme") == "https":
        return False
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return host.split(":", 1)[0].lower() == onion_host


def session_cookie_name(app: Flask) -> str:
    return ONION_SESSION_COOKIE if is_onion_request() else app.config["SESSION_COOKIE_NAME"]


def session_cookie_secure(app: Flask) -> bool:
    return False if is_onion_request() else bool(app.config["SESSION_COOKIE_SECURE"])


def announce_onion_address(response: Response) -> Response:
    """On the HTTPS site, where the same page is under the onion address."""
    onion_host = current_app.config["PAUSE"].onion_host
    if onion_host and request.is_secure:
        # full_path ends in "?" when there is no query; the address keeps only the path then.
        path = request.full_path if request.query_string else request.path
        response.headers["Onion-Location"] = f"http://{onion_host}{path}"
    return response


def init_app(app: Flask) -> None:
    app.after_request(announce_onion_address)
