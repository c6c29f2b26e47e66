"""At least 80 XSS payloads, saved through the editor: none survives sanitising."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from content import publishing
from content.models import ContentVersion
from content.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, clean_source, is_local_link, render_markdown
from service.db import db
from tests.conftest import csrf_token_from, sign_in
from tests.content.test_publishing import ITEM, editor_form_data

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text().splitlines() if line.strip()]


class ElementCollector(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def unsafe_parts(html: str) -> list[str]:
    """What in this HTML could run script, load anything, or leave the site; [] if none."""
    collector = ElementCollector()
    collector.feed(html)
    collector.close()
    problems = []
    for tag, attributes in collector.elements:
        if tag not in ALLOWED_TAGS:
            problems.append(f"element {tag}")
        for name, value in attributes.items():
            if name not in ALLOWED_ATTRIBUTES.get(tag, []):
                problems.append(f"attribute {name} on {tag}")
            if name == "href" and not is_local_link(value or ""):
                problems.append(f"link to {value}")
    return problems


def test_the_corpus_has_at_least_80_payloads():
    assert len(PAYLOADS) >= 80


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives_storing_and_rendering(payload):
    stored = clean_source(payload)
    assert not re.search(r"<\s*[a-z!]", stored, re.IGNORECASE), stored
    for html in (render_markdown(stored), render_markdown(payload)):
        assert unsafe_parts(html) == [], (payload, html)


def test_payloads_saved_through_the_editor_are_stored_and_published_harmless(seeded, make_staff):
    editor, publisher = seeded.test_client(), seeded.test_client()
    sign_in(editor, make_staff("ed", roles=("editor",)))
    sign_in(publisher, make_staff("pub", roles=("publisher",)))
    page = editor.get(ITEM).get_data(as_text=True)
    edit_url = editor.post(f"{ITEM}/draft", data={"csrf_token": csrf_token_from(page)}).headers["Location"]
    data = editor_form_data(editor.get(edit_url).get_data(as_text=True))
    data.update({"steps-0-en-body": "\n\n".join(PAYLOADS), "steps-0-fr-body": "\n\n".join(reversed(PAYLOADS)),
                 "texts-en-title": PAYLOADS[6] + " title", "action": "submit"})
    assert editor.post(edit_url, data=data).status_code == 302
    with seeded.app_context():
        draft = db.session.scalar(select(ContentVersion).where(ContentVersion.state == "review"))
        stored = draft.document
        number = draft.number
    assert not re.search(r"<\s*[a-z!]", stored, re.IGNORECASE), "no markup is stored"
    page = publisher.get(ITEM).get_data(as_text=True)
    publisher.post(f"{ITEM}/versions/{number}/publish", data={"csrf_token": csrf_token_from(page)})
    with seeded.app_context():
        assert publishing.published_version(db.session, "module", "understanding-your-thoughts").number == number
    for language in ("en", "fr"):
        html = seeded.test_client().get("/self-help/understanding-your-thoughts/thoughts-are-not-actions",
                                        headers={"Accept-Language": language}).get_data(as_text=True)
        article = html.split('<article class="prose">')[1].split("</article>")[0].split("</h1>", 1)[1]
        assert unsafe_parts(article) == [], language
