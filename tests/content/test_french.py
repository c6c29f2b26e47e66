"""The French review: wording fixed in the catalogue and the shipped content, one name
for the self-check, staff words, plurals and the calendar file's default title."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from content.seeding import SEED_FOLDER
from tests.content.test_typography import TRANSLATIONS

WRONG = ("agir sur", "subi un tort", "Je l'ai bien mérité", "de plus nouveau", "que nous savons mal",
         "une ligne que le personnel ne peut pas franchir", "réfléchi à qui je pourrais",
         "pensées de mettre fin à votre vie", "auto-questionnaire", "Oubliez-moi", "YYYY-MM-DD", "Escalade",
         "n'avez pas agi", "n'avez jamais agi")


def french_catalogue():
    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def french_content() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(SEED_FOLDER.rglob("*.toml")))


def french_strings() -> str:
    return "\n".join(message.string if isinstance(message.string, str) else "\n".join(message.string)
                     for message in french_catalogue() if message.id)


@pytest.mark.parametrize("phrase", WRONG)
def test_the_reviewed_phrases_are_gone(phrase):
    assert phrase not in french_content() and phrase not in french_strings()


def test_staff_words():
    strings = {message.id: message.string for message in french_catalogue() if isinstance(message.id, str)}
    assert strings["Forget me"] == "M'oublier"
    assert strings["New password again"] == "Confirmer le nouveau mot de passe"
    assert strings["Escalation"] == "Relance"
    assert "AAAA-MM-JJ" in strings["From (YYYY-MM-DD)"]


def test_plural_forms_go_through_ngettext():
    plurals = {message.id[0]: message.string for message in french_catalogue() if isinstance(message.id, tuple)}
    assert plurals["%(num)d question"] == ("%(num)d question", "%(num)d questions")
    assert len(plurals["%(done)d of %(total)d step done"]) == 2


def test_the_calendar_files_default_title_is_in_the_visitors_language(app):
    from booking.services import NEUTRAL_TITLE

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert str(NEUTRAL_TITLE) == "Rendez-vous"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert str(NEUTRAL_TITLE) == "Appointment"
