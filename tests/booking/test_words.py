"""What a visitor reads on the booking pages: languages and kinds of session as words in
the visitor's language, and dates in day-month order (a European service)."""

from __future__ import annotations

import html

import pytest


@pytest.mark.parametrize(("language", "words", "codes"), [
    ("en", ["Speaks: English, French.", "Offers: Phone, Video."], ["Speaks: en", "phone, video"]),
    ("fr", ["anglais, français", "Téléphone, Vidéo"], ["en, fr", "phone, video"]),
])
def test_therapist_details_read_as_words(seeded, therapist, language, words, codes):
    page = html.unescape(seeded.test_client().get("/booking/", headers={"Accept-Language": language})
                         .get_data(as_text=True))
    for word in words:
        assert word in page
    for code in codes:
        assert code not in page


def test_english_dates_put_the_day_before_the_month(seeded, therapist):
    page = seeded.test_client().get("/booking/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Monday 23 November 2026" in page or "Tuesday 24 November 2026" in page
    assert "November 23" not in page and "November 24" not in page
