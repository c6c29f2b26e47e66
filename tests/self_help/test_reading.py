"""A visitor reads the modules without any account; progress lives in the session."""

from __future__ import annotations

import re

from tests.conftest import csrf_token_from

MODULE = "understanding-your-thoughts"


def test_catalogue_lists_the_modules_for_oneself_in_order(seeded):
    page = seeded.test_client().get("/self-help/").get_data(as_text=True)
    slugs = re.findall(r'<h2><a href="/self-help/([a-z0-9-]+)">', page)
    assert slugs == [
        "understanding-your-thoughts",
        "managing-urges-and-risky-situations",
        "staying-safe-online",
        "coping-with-shame-and-low-mood",
        "building-a-good-life",
        "getting-professional-help",
        "managing-sexual-fantasies",
        "living-safely-around-children",
        "if-the-police-contact-you",
        "for-young-people",
    ]
    # The module for family and friends has its own track (/family).
    assert "supporting-someone-close" not in slugs


def test_module_page_lists_steps_and_starts_at_the_first(seeded):
    page = seeded.test_client().get(f"/self-help/{MODULE}").get_data(as_text=True)
    assert page.count(f'href="/self-help/{MODULE}/') >= 5
    assert "0 of 5 steps done" in page


def test_step_has_previous_and_next_and_a_position(seeded):
    client = seeded.test_client()
    first = client.get(f"/self-help/{MODULE}/thoughts-are-not-actions").get_data(as_text=True)
    assert "Step 1 of 5" in first
    assert 'rel="prev"' not in first
    assert f'rel="next" href="/self-help/{MODULE}/where-thoughts-come-from"' in first
    last = client.get(f"/self-help/{MODULE}/letting-thoughts-pass").get_data(as_text=True)
    assert "Step 5 of 5" in last and 'rel="next"' not in last


def test_marking_steps_done_moves_on_and_counts_progress_in_the_session(seeded):
    client = seeded.test_client()
    page = client.get(f"/self-help/{MODULE}/thoughts-are-not-actions").get_data(as_text=True)
    response = client.post(f"/self-help/{MODULE}/thoughts-are-not-actions/done",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.headers["Location"] == f"/self-help/{MODULE}/where-thoughts-come-from"
    assert "1 of 5 steps done" in client.get("/self-help/").get_data(as_text=True)
    # A new browser (no session) has no progress: nothing was stored on the server.
    assert "1 of 5 steps done" not in seeded.test_client().get("/self-help/").get_data(as_text=True)


def test_the_last_step_leads_back_to_the_module_with_a_word_of_encouragement(seeded):
    client = seeded.test_client()
    page = client.get(f"/self-help/{MODULE}/letting-thoughts-pass").get_data(as_text=True)
    response = client.post(f"/self-help/{MODULE}/letting-thoughts-pass/done",
                           data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "You have reached the end of this module" in response.get_data(as_text=True)


def test_unknown_module_or_step_and_traversal_are_not_found(seeded):
    client = seeded.test_client()
    for path in ("/self-help/nope", f"/self-help/{MODULE}/nope", "/self-help/..%2F..%2Fetc%2Fpasswd",
                 f"/self-help/{MODULE}/..%2Fx", "/self-help/UPPER", f"/self-help/{MODULE}/a.b"):
        assert client.get(path).status_code == 404, path


def test_steps_are_read_in_french(seeded):
    page = seeded.test_client().get(f"/self-help/{MODULE}/thoughts-are-not-actions",
                                    headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Étape 1 sur 5" in page or "Étape 1 de 5" in page


def test_without_a_key_exercises_invite_to_use_a_key_and_nothing_is_kept(seeded):
    client = seeded.test_client()
    page = client.get(f"/self-help/{MODULE}/noticing-patterns").get_data(as_text=True)
    assert 'href="/key/"' in page
    response = client.post(f"/self-help/{MODULE}/noticing-patterns/answer",
                           data={"csrf_token": csrf_token_from(page), "text": "my private reflection"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Answers are kept only with a key" in body
