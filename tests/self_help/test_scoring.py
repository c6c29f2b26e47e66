"""The assessment engine: validation with a readable list, and every band boundary of
the shipped assessments scored right."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from content.documents import json_ready
from self_help import scoring

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "content" / "seed" / "assessments").glob("*.toml"))
LOCALES = ("en", "fr")


def load(path: Path) -> dict:
    return json_ready(tomllib.loads(path.read_text(encoding="utf-8")))


def texts(word: str) -> dict:
    return {"en": word, "fr": word + " (fr)"}


def small_definition() -> dict:
    yes_no = [{"id": "yes", "label": texts("Yes"), "scores": {"worry": 2}},
              {"id": "no", "label": texts("No"), "scores": {"worry": 0}}]
    return {
        "slug": "demo", "position": 1, "title": texts("Demo"), "intro": texts("Intro"),
        "scales": [{"id": "worry", "name": texts("Worry")}],
        "questions": [
            {"id": "q1", "kind": "yes_no", "text": texts("One?"), "options": copy.deepcopy(yes_no)},
            {"id": "q2", "kind": "yes_no", "text": texts("Two?"),
             "options": [{**yes_no[0], "crisis": True}, yes_no[1]]},
        ],
        "bands": [
            {"scale": "worry", "min": 0, "max": 1, "title": texts("Low"), "text": texts("Low text"),
             "recommendations": ["module:understanding-your-thoughts"]},
            {"scale": "worry", "min": 2, "max": 4, "title": texts("High"), "text": texts("High text"),
             "recommendations": ["talk", "book", "help-now"]},
        ],
    }


def test_a_sound_definition_has_no_problems():
    assert scoring.validate(small_definition(), LOCALES) == []


@pytest.mark.parametrize(("breakage", "expected"), [
    (lambda d: d["bands"][1].update(min=3), "Scale worry: no band covers 2–2."),
    (lambda d: d["bands"][1].update(min=1), "Scale worry: bands 0–1 and 1–4 overlap."),
    (lambda d: d["bands"][1].update(max=3), "Scale worry: the highest band must end at 4, the highest possible total."),
    (lambda d: d["questions"][0]["options"][0]["label"].pop("fr"), "Question 1 (q1), option yes: missing in fr."),
    (lambda d: d["questions"][0].update(kind="scale"), "Question 1 (q1): the kind must be one of single, yes_no, "
                                                       "frequency."),
    (lambda d: d["questions"][1]["options"][0]["scores"].update(mood=1), "Question 2 (q2), option yes: scores on "
                                                                         "unknown scale mood."),
    (lambda d: d["bands"][0].update(recommendations=["module:Bad Slug"]), "Scale worry, band 0–1: unknown "
                                                                          "recommendation 'module:Bad Slug'."),
])
def test_broken_definitions_are_refused_with_a_readable_list(breakage, expected):
    definition = small_definition()
    breakage(definition)
    assert expected in scoring.validate(definition, LOCALES)


def test_a_band_no_answers_can_reach_is_reported():
    definition = small_definition()
    # Totals can be 0, 2 or 4 only: a band 1-1 is unreachable.
    definition["bands"] = [
        {**definition["bands"][0], "min": 0, "max": 0},
        {**definition["bands"][0], "min": 1, "max": 1},
        {**definition["bands"][1], "min": 2, "max": 4},
    ]
    assert "Scale worry, band 1–1: no combination of answers reaches it." in scoring.validate(definition, LOCALES)


def test_crisis_options_are_found():
    definition = small_definition()
    assert scoring.crisis_raised(definition, {"q1": "yes", "q2": "yes"})
    assert not scoring.crisis_raised(definition, {"q1": "yes", "q2": "no"})


def answers_reaching(definition: dict, scale: str, target: int) -> dict[str, str] | None:
    """Answers whose total on `scale` is exactly `target` (dynamic programming)."""
    reachable = {0: {}}
    for question in definition["questions"]:
        following = {}
        for total, chosen in reachable.items():
            for option in question["options"]:
                new_total = total + int(option.get("scores", {}).get(scale, 0))
                following.setdefault(new_total, {**chosen, question["id"]: option["id"]})
        reachable = following
    return reachable.get(target)


def test_there_are_two_shipped_assessments():
    assert [path.stem for path in SHIPPED] == ["self-reflection", "wellbeing"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_assessment_is_valid_and_scores_every_band_boundary(path):
    definition = load(path)
    assert scoring.validate(definition, LOCALES) == []
    for scale in definition["scales"]:
        bands = sorted((band for band in definition["bands"] if band["scale"] == scale["id"]),
                       key=lambda band: band["min"])
        for index, band in enumerate(bands):
            for boundary in {band["min"], band["max"]}:
                answers = answers_reaching(definition, scale["id"], boundary)
                if answers is None:
                    continue  # a boundary no combination reaches; validation proved the band is reachable
                totals = scoring.totals(definition, answers)
                assert totals[scale["id"]] == boundary
                assert scoring.band_for(definition, scale["id"], boundary).index == index


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_assessment_has_crisis_options_on_the_right_questions(path):
    definition = load(path)
    crisis = [(question["id"], option["id"]) for question in definition["questions"]
              for option in question["options"] if option.get("crisis")]
    assert crisis, "a crisis answer leads straight to help"
    assert all(option == "yes" for _question, option in crisis)
