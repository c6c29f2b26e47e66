"""The shipped content: complete in both languages, idempotent to load."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from content.seeding import SEED_FOLDER, SeedError, check_module_translations, read_seed_files
from self_help.models import Exercise, Module, ModuleText, Step, StepText
from service.config import shipped_locales
from service.db import db
from service.models import metadata

LOCALES = shipped_locales()  # English and every language with a catalogue (fr, nl)
SHIPPED_MODULES = len(read_seed_files(SEED_FOLDER / "modules"))
# The topics the foundation lacked (issue 19), each in every language.
NEW_TOPICS = ("managing-sexual-fantasies", "living-safely-around-children", "if-the-police-contact-you",
              "for-young-people", "supporting-someone-close")


def snapshot(app) -> dict[str, list]:
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{table.name}"'))), key=repr)
            for table in metadata.sorted_tables
        }


def test_seed_command_run_twice_leaves_the_same_rows(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    after_first = snapshot(app)
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "0 items created" in second.output
    assert snapshot(app) == after_first
    assert len(after_first["modules"]) == SHIPPED_MODULES >= 11


@pytest.mark.parametrize("locale", LOCALES)
def test_every_module_has_four_steps_and_an_exercise_in_every_language(seeded, locale):
    with seeded.app_context():
        session = db.session
        modules = session.scalars(select(Module)).all()
        assert len(modules) == SHIPPED_MODULES
        for module in modules:
            assert session.scalar(select(func.count()).select_from(ModuleText).where(
                ModuleText.module_id == module.id, ModuleText.locale == locale)) == 1
            steps = session.scalars(select(Step).where(Step.module_id == module.id)).all()
            assert len(steps) >= 4, module.slug
            assert session.scalar(select(func.count()).select_from(Exercise).where(
                Exercise.step_id.in_([step.id for step in steps]))) >= 1, module.slug
            for step in steps:
                assert session.scalar(select(func.count()).select_from(StepText).where(
                    StepText.step_id == step.id, StepText.locale == locale)) == 1


@pytest.mark.parametrize("topic", NEW_TOPICS)
def test_the_new_topics_meet_the_content_rules_in_every_language(topic):
    versions = read_seed_files(SEED_FOLDER / "modules")[topic]
    assert set(versions) == set(LOCALES)
    for data in versions.values():
        assert len(data["steps"]) >= 4
        assert sum(1 for step in data["steps"] if step.get("exercise")) >= 1
        text = " ".join(step["body"] for step in data["steps"])
        # Help now and confidentiality's limits are never more than a link away.
        assert "/help-now" in text and "/confidentiality" in text


def test_the_family_module_is_for_family_and_friends_and_the_others_are_not():
    modules = read_seed_files(SEED_FOLDER / "modules")
    audiences = {slug: {data.get("audience", "self") for data in versions.values()} for slug, versions in modules.items()}
    assert audiences.pop("supporting-someone-close") == {"family-and-friends"}
    assert all(audience == {"self"} for audience in audiences.values())


@pytest.mark.parametrize("locale", LOCALES)
def test_at_least_five_thousand_words_per_language(locale):
    words = 0
    for versions in read_seed_files(SEED_FOLDER / "modules").values():
        data = versions[locale]
        parts = [data["title"], data["summary"]]
        for step in data["steps"]:
            parts += [step["title"], step["body"]]
            exercise = step.get("exercise") or {}
            parts += [exercise.get("prompt", "")] + exercise.get("items", [])
        # Words are runs of letters, so Markdown symbols do not count.
        words += len(re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", " ".join(parts)))
    assert words >= 5000


def test_no_shipped_text_links_to_another_site():
    for folder in ("modules", "pages"):
        for path in (SEED_FOLDER / folder).glob("*.toml"):
            content = path.read_text(encoding="utf-8")
            assert not re.search(r"https?://|www\.|\]\(//", content), path.name


def test_pages_exist_in_both_languages():
    pages = read_seed_files(SEED_FOLDER / "pages")
    assert set(pages) >= {"about", "privacy", "confidentiality"}
    for versions in pages.values():
        assert set(versions) >= set(LOCALES)


def test_a_translation_with_a_different_skeleton_is_refused():
    english = {"title": "T", "summary": "S", "position": 1,
               "steps": [{"slug": "a", "title": "A", "body": "x"}, {"slug": "b", "title": "B", "body": "y"}]}
    french = {"title": "T", "summary": "S", "position": 1, "steps": [{"slug": "a", "title": "A", "body": "x"}]}
    problems = check_module_translations("demo", {"en": english, "fr": french})
    assert problems == ["demo.fr: steps or exercises differ from demo.en"]


def test_a_broken_seed_file_is_reported_with_its_name(tmp_path):
    (tmp_path / "broken.en.toml").write_text('slug = "broken"\ntitle = "unterminated\n')
    with pytest.raises(SeedError) as error:
        read_seed_files(tmp_path)
    assert error.value.problems[0].startswith("broken.en.toml:")


def test_the_demo_therapist_is_added_once_and_has_free_times(app, runner):
    assert "added a demo therapist" in runner.invoke(args=["seed", "--demo"]).output
    assert "there already" in runner.invoke(args=["seed", "--demo"]).output
    page = app.test_client().get("/booking/?language=en").get_data(as_text=True)
    assert "Alex (demo)" in page and "/booking/book?therapist=" in page


def test_the_confidentiality_page_is_flagged_to_staff_for_the_lawyer_and_not_to_visitors(seeded):
    from content.models import ContentVersion

    with seeded.app_context():
        note = db.session.scalar(select(ContentVersion.note).where(ContentVersion.kind == "page",
                                                                   ContentVersion.slug == "confidentiality"))
    assert note.startswith("To be reviewed by the programme's lawyer")
    public = seeded.test_client().get("/confidentiality").get_data(as_text=True)
    assert "programme's lawyer" not in public and "programme&#39;s lawyer" not in public


@pytest.mark.parametrize("locale", LOCALES)
def test_the_confidentiality_page_gives_our_rule_and_the_law_for_each_case(locale):
    body = read_seed_files(SEED_FOLDER / "pages")["confidentiality"][locale]["body"]
    assert len(re.findall(r"^### [1-5]\. ", body, flags=re.MULTILINE)) == 5
    for article in ("458bis", "422bis", "226-14", "227-23"):
        assert article in body
    united_kingdom = {"fr": "Royaume-Uni", "nl": "Verenigd Koninkrijk"}.get(locale, "United Kingdom")
    assert body.count("Belgi") >= 5 and body.count(united_kingdom) >= 5


def test_no_shipped_text_claims_we_never_take_a_phone_number_or_cannot_identify_anyone():
    for folder in ("modules", "pages"):
        for path in (SEED_FOLDER / folder).glob("*.en.toml"):
            content = path.read_text(encoding="utf-8")
            assert "cannot identify you" not in content, path.name
            assert not re.search(r"(do not|never) ask for[^.]*phone number", content), path.name
            assert not re.search(r"without giving your name, email address or phone number", content), path.name
