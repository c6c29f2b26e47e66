"""No client address, user agent, referrer, query string or key reaches a log line."""

from __future__ import annotations

import logging

from service.privacy import DevelopmentServerFilter, redact
from tests.conftest import csrf_token_from
from tests.service.test_anonymous_keys import create_key_through_the_page

ADDRESS = "203.0.113.77"
ADDRESS6 = "2001:db8::7:77"
AGENT = "CanaryBrowser/9.9 (unique-agent-marker)"
REFERRER = "https://referrer.example/secret-origin"
QUERY_MARKER = "query-marker-5521"


def browse_everything(app, client, address: str) -> str:
    headers = {"User-Agent": AGENT, "Referer": REFERRER, "X-Forwarded-For": address}
    environ = {"REMOTE_ADDR": address}
    for path in ("/", "/self-help/", "/self-help/understanding-your-thoughts",
                 "/self-help/understanding-your-thoughts/noticing-patterns", "/help-now", "/about", "/privacy",
                 "/confidentiality", "/healthz", "/missing-page", "/key/"):
        client.get(path, query_string={"q": QUERY_MARKER}, headers=headers, environ_base=environ)
    key = create_key_through_the_page(client)
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    client.post("/key/open", data={"csrf_token": token, "key": key}, headers=headers, environ_base=environ)
    client.post("/key/open", data={"csrf_token": token, "key": "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"}, headers=headers,
                environ_base=environ)
    return key


def test_a_full_browsing_run_logs_method_route_status_and_duration_only(seeded, captured_logs):
    for address in (ADDRESS, ADDRESS6):
        client = seeded.test_client()
        key = browse_everything(seeded, client, address)
        output = "\n".join(captured_logs)
        assert "GET /self-help/<slug:module_slug>/<slug:step_slug> 200" in output
        for secret in (address, AGENT, "unique-agent-marker", REFERRER, "secret-origin", QUERY_MARKER, key,
                       key.replace("-", ""), "ZZZZ-ZZZZ"):
            assert secret not in output, secret


def test_a_method_the_client_made_up_is_not_repeated_in_the_request_line(seeded, captured_logs):
    # Request lines skip the search for addresses, so nothing a client chooses may reach them.
    seeded.test_client().open("/", method="203.0.113.77")
    output = "\n".join(captured_logs)
    assert "OTHER <unmatched> 405" in output and ADDRESS not in output


def test_the_redaction_filter_removes_addresses_a_library_might_log():
    assert redact("connection from 198.51.100.4 and 2001:db8:0:0:1::2 refused") == (
        "connection from [address] and [address] refused")


def test_development_server_access_lines_are_dropped_and_error_lines_lose_the_address():
    server_filter = DevelopmentServerFilter()
    access = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '192.0.2.1 - - [22/Nov/2026 10:00:00] "GET /?q=x HTTP/1.1" 200 -', None, None)
    error = logging.LogRecord("werkzeug", logging.ERROR, __file__, 1,
                              "192.0.2.1 - - [22/Nov/2026 10:00:00] code 400, message Bad request", None, None)
    assert server_filter.filter(access) is False
    assert server_filter.filter(error) is True and error.msg == "code 400, message Bad request"
