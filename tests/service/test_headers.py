"""Every page carries the security headers, in both languages, and links nowhere else."""

from __future__ import annotations

import re

import pytest

from service.security import CONTENT_SECURITY_POLICY

PUBLIC_PAGES = [
    "/",
    "/self-help/",
    "/self-help/understanding-your-thoughts",
    "/self-help/understanding-your-thoughts/thoughts-are-not-actions",
    "/help-now",
    "/healthz",
    "/about",
    "/privacy",
    "/confidentiality",
    "/key/",
]
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']((?:https?:)?//[^"']+)""", re.IGNORECASE)


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in headers["Permissions-Policy"]
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_page_answers_with_security_headers_in_each_language(seeded, path, language):
    client = seeded.test_client()
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200
    assert_security_headers(response)
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in html
        quick_exit = seeded.config["PAUSE"].quick_exit_url
        assert [url for url in EXTERNAL.findall(html) if url != quick_exit] == []
        assert "<title>Pause</title>" in html


def test_hsts_is_sent_over_https_only(seeded):
    client = seeded.test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_error_pages_carry_the_headers_too(seeded):
    response = seeded.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)


def test_static_files_have_content_hashed_names_kept_a_year_and_keep_the_policy(seeded):
    import hashlib
    import re
    from pathlib import Path

    client = seeded.test_client()
    page = client.get("/").get_data(as_text=True)
    address = re.search(r'href="(/static/css/pause\.([0-9a-f]{12})\.css)"', page)
    assert address, "the style sheet is linked under a content-hashed name"
    on_disk = (Path(seeded.static_folder) / "css" / "pause.css").read_bytes()
    assert address[2] == hashlib.sha256(on_disk).hexdigest()[:12]
    with client.get(address[1]) as response:
        assert response.status_code == 200 and response.data == on_disk
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    # Any other name, the plain one included, is not found: nothing is cached under a wrong name.
    for wrong in ("/static/css/pause.css", "/static/css/pause.000000000000.css", "/static/css/../css/pause.css"):
        assert client.get(wrong).status_code == 404, wrong


def test_every_form_needs_its_csrf_token(seeded):
    client = seeded.test_client()
    module, step = "understanding-your-thoughts", "thoughts-are-not-actions"
    for path in ("/key/new", "/key/open", "/key/close", "/key/forget",
                 f"/self-help/{module}/{step}/done", f"/self-help/{module}/noticing-patterns/answer"):
        response = client.post(path, data={"key": "x", "text": "x"})
        assert response.status_code == 400, path
        assert "This form has expired" in response.get_data(as_text=True)
