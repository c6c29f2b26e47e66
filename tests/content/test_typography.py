"""French typography by rule: a non-breaking space before : ; ? ! in the French catalogue,
the shipped French content and what staff save. Languages without the rule (English,
Dutch) are not checked for it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from content.documents import json_ready
from content.seeding import SEED_FOLDER
from content.typography import NBSP, RULES, ordinary_spaces_before_marks, typeset, typeset_document, typeset_toml

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "service" / "translations"


def test_the_french_rule_puts_a_non_breaking_space_before_the_four_marks_and_leaves_the_rest():
    assert typeset("Attention : oui ; non ? Vite !", "fr") == f"Attention{NBSP}: oui{NBSP}; non{NBSP}? Vite{NBSP}!"
    assert typeset("À 18:00, voir https://example.org/?a=1", "fr") == "À 18:00, voir https://example.org/?a=1"
    assert typeset("Wait : no", "en") == "Wait : no"
    assert typeset("Let op : nee", "nl") == "Let op : nee", "Dutch has no such rule"


def test_a_saved_document_is_typeset_under_its_french_keys_only():
    document = {"slug": "a-b", "texts": {"en": {"title": "Why ?"}, "fr": {"title": "Pourquoi ?"}},
                "questions": [{"id": "q1", "text": {"en": "Now ?", "fr": "Maintenant ?"}}]}
    typeset = typeset_document(document)
    assert typeset["texts"]["fr"]["title"] == f"Pourquoi{NBSP}?" and typeset["texts"]["en"]["title"] == "Why ?"
    assert typeset["questions"][0]["text"]["fr"] == f"Maintenant{NBSP}?"


def test_toml_comments_keys_and_other_languages_are_left_alone():
    text = "# Note : English\nen = \"Why ?\"\nfr = \"Pourquoi ?\"\nfr = '''\nLigne : un\n'''\nen = \"After : x\""
    assert typeset_toml(text, None) == (f"# Note : English\nen = \"Why ?\"\nfr = \"Pourquoi{NBSP}?\"\n"
                                        f"fr = '''\nLigne{NBSP}: un\n'''\nen = \"After : x\"")


def french_texts(value, locale=None):
    """Every string under a language with rules, in a parsed seed document."""
    if isinstance(value, str):
        if locale:
            yield locale, value
    elif isinstance(value, list):
        for item in value:
            yield from french_texts(item, locale)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from french_texts(item, key if key in RULES else locale)


def seed_texts():
    for path in sorted(SEED_FOLDER.rglob("*.toml")):
        data = json_ready(tomllib.loads(path.read_text(encoding="utf-8")))
        locale = path.name.split(".")[-2] if path.name.count(".") == 2 else None
        if locale is not None:
            for text in french_texts(data, locale if locale in RULES else None):
                yield path.name, text
        else:
            for text in french_texts(data):
                yield path.name, text


@pytest.mark.parametrize("locale", sorted(RULES))
def test_no_ordinary_space_before_the_marks_in_the_catalogue(locale):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    found = []
    for message in catalogue:
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        for string in strings:
            found += ordinary_spaces_before_marks(string, locale)
    assert found == [], f"run `make typography`: {found[:5]}"


def test_no_ordinary_space_before_the_marks_in_the_shipped_content():
    found = [(name, spot) for name, (locale, text) in seed_texts()
             for spot in ordinary_spaces_before_marks(text, locale)]
    assert found == [], f"run `make typography`: {found[:5]}"


def test_the_check_finds_what_it_is_for():
    assert ordinary_spaces_before_marks("Oui : non", "fr") == ["Oui :"]
    assert ordinary_spaces_before_marks("Oui : non", "nl") == []
