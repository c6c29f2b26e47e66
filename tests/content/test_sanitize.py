"""content/sanitize.py keeps the allow-list and nothing else."""

from __future__ import annotations

import pytest

from content.sanitize import render_markdown, sanitize_html


def test_markdown_keeps_headings_lists_emphasis_links_and_tables():
    html = render_markdown(
        "## Title\n\nSome *soft* and **strong** words.\n\n- one\n- two\n\n"
        "[help](/help-now)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    for fragment in ("<h2>Title</h2>", "<em>soft</em>", "<strong>strong</strong>", "<li>one</li>",
                     '<a href="/help-now" rel="noopener noreferrer">help</a>', "<table>", "<td>1</td>"):
        assert fragment in html


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<iframe src="//example.org"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<form action=//example.org><button>x</button></form>",
    '<div onclick="alert(1)">x</div>',
    "<<script>script>alert(1)<</script>/script>",
])
def test_dangerous_markup_does_not_survive(payload):
    for html in (sanitize_html(payload), render_markdown(payload)):
        lowered = html.lower()
        for forbidden in ("<script", "onerror", "onload", "onclick", "javascript:", "data:", "<iframe",
                          "<svg", "<img", "style=", "<form"):
            assert forbidden not in lowered, (payload, html)


def test_links_always_get_noopener_noreferrer_even_if_the_author_set_rel():
    html = sanitize_html('<a href="/x" rel="opener">x</a>')
    assert html == '<a href="/x" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize("href", ["https://example.org/", "//example.org/x", "http://example.org", "mailto:a@b.c"])
def test_links_to_other_hosts_lose_their_address_but_keep_their_words(href):
    assert sanitize_html(f'<a href="{href}">words</a>') == '<a rel="noopener noreferrer">words</a>'


def test_local_paths_anchors_and_phone_numbers_stay_links():
    for href in ("/help-now", "#top", "tel:112"):
        assert f'href="{href}"' in sanitize_html(f'<a href="{href}">x</a>')
