"""The assessment engine: validation with a readable list, and every band boundary of
the shipped assessments scored right."""

from __future__ import annotations

import copy
import tomllib
import tracemalloc
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
    assert all(option in ("yes", "not-sure") for _question, option in crisis)


# Crisis answers never reassure ------------------------------------------------------------


def least_worried(question: dict, scale_ids: list[str]) -> dict:
    return min(question["options"], key=lambda option: sum(option.get("scores", {}).get(scale, 0)
                                                              for scale in scale_ids))


def every_crisis_answer(definition: dict):
    """(question, crisis option, answers): that option, every other question at its least worried."""
    scale_ids = [scale["id"] for scale in definition["scales"]]
    for question in definition["questions"]:
        for option in question["options"]:
            if option.get("crisis"):
                answers = {other["id"]: least_worried(other, scale_ids)["id"] for other in definition["questions"]}
                answers[question["id"]] = option["id"]
                yield question, option, answers


def crisis_cases() -> list:
    return [pytest.param(path, question["id"], option["id"], answers, id=f"{path.stem}-{question['id']}-{option['id']}")
            for path in SHIPPED for question, option, answers in every_crisis_answer(load(path))]


@pytest.mark.parametrize(("path", "question_id", "option_id", "answers"), crisis_cases())
def test_every_shipped_crisis_answer_with_calm_answers_elsewhere_is_not_the_lowest_band(path, question_id,
                                                                                       option_id, answers):
    from self_help.assessments import outcome_of

    definition = load(path)
    outcome = outcome_of(definition, 1, answers)
    assert outcome.crisis
    for scale in definition["scales"]:
        bands = sorted((band for band in definition["bands"] if band["scale"] == scale["id"]),
                       key=lambda band: band["min"])
        shown = outcome.bands[scale["id"]]
        assert shown > 0, f"{question_id}={option_id} shows the least-worried band"
        assert not scoring.reassuring(bands, shown)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_no_combination_of_answers_with_a_crisis_answer_reaches_a_reassuring_band(path):
    """By construction: every total reachable with each crisis answer, not sampled."""
    definition = load(path)
    for scale in definition["scales"]:
        bands = sorted((band for band in definition["bands"] if band["scale"] == scale["id"]),
                       key=lambda band: band["min"])
        paths = scoring.crisis_paths(definition, scale["id"])
        assert paths
        for _number, _question, _option, totals in paths:
            for total in totals:
                band = scoring.band_for(definition, scale["id"], total, crisis=True)
                assert not scoring.reassuring(bands, band.index)


def test_validation_refuses_a_crisis_answer_that_can_land_in_the_lowest_band():
    definition = small_definition()
    definition["questions"][1]["options"][0]["scores"] = {"worry": 0}  # crisis "yes" now scores nothing
    definition["bands"][1]["max"] = 2
    problems = scoring.validate(definition, LOCALES)
    assert ("Scale worry: the crisis answer 'yes' to question 2 (q2) can end in the reassuring band 0–1. Set "
            "crisis_minimum_band on the scale to a band above every reassuring band (the lowest band, and any "
            "marked reassuring).") in problems
    definition["scales"][0]["crisis_minimum_band"] = 2
    assert scoring.validate(definition, LOCALES) == []
    assert scoring.band_for(definition, "worry", 0, crisis=True).index == 1
    assert scoring.band_for(definition, "worry", 0).index == 0


def test_validation_refuses_a_crisis_answer_that_reaches_a_band_marked_reassuring():
    definition = small_definition()
    definition["bands"][1]["reassuring"] = True
    assert any("can end in the reassuring band 2–4" in problem for problem in scoring.validate(definition, LOCALES))


def test_a_crisis_minimum_band_must_name_a_band():
    definition = small_definition()
    definition["scales"][0]["crisis_minimum_band"] = 3
    assert ("Scale worry: crisis_minimum_band is the number of a band, from 1 (the lowest) to 2."
            in scoring.validate(definition, LOCALES))


# Bounded work, whatever an editor writes ------------------------------------------------


def doubling_definition(questions: int) -> dict:
    """The definition from the security review: each question's score doubles (5.6 KB)."""
    definition = small_definition()
    definition["questions"] = [
        {"id": f"q{number}", "kind": "yes_no", "text": texts(f"Q{number}?"),
         "options": [{"id": "yes", "label": texts("Yes"), "scores": {"worry": 2 ** number}},
                     {"id": "no", "label": texts("No"), "scores": {"worry": 0}}]}
        for number in range(questions)]
    definition["bands"] = [{**definition["bands"][0], "min": 0, "max": 2 ** questions - 1}]
    return definition


def peak_memory_of(work) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_scores_doubling_over_23_questions_are_refused_with_little_memory():
    problems, peak = peak_memory_of(lambda: scoring.validate(doubling_definition(23), LOCALES))
    assert any("scores are whole numbers from 0 to 20" in problem for problem in problems)
    assert peak < 2_000_000, f"validation used {peak} bytes"


def test_the_largest_definition_allowed_is_checked_with_little_memory():
    """60 questions of 8 options, scores chosen so every total up to the cap is reachable."""
    definition = small_definition()
    definition["questions"] = [
        {"id": f"q{number}", "kind": "single", "text": texts(f"Q{number}?"),
         "options": [{"id": f"o{index}", "label": texts(f"O{index}"), "scores": {"worry": index * 2},
                      "crisis": number == 0 and index == 0} for index in range(8)]}
        for number in range(60)]
    high = 60 * 14
    definition["scales"][0]["crisis_minimum_band"] = 2
    definition["bands"] = [{**definition["bands"][0], "min": 0, "max": 100},
                           {**definition["bands"][1], "min": 101, "max": high}]
    problems, peak = peak_memory_of(lambda: scoring.validate(definition, LOCALES))
    assert problems == []
    assert peak < 2_000_000, f"validation used {peak} bytes"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["questions"].extend(copy.deepcopy(d["questions"][0]) for _ in range(60)), "At most 60 questions."),
    (lambda d: d["questions"][0]["options"].extend({"id": f"x{n}", "label": texts("X")} for n in range(8)),
     "Question 1: at most 8 options."),
    (lambda d: d["questions"][0]["options"][0]["scores"].update(worry=10 ** 9),
     "Question 1, option yes: scores are whole numbers from 0 to 20."),
    (lambda d: d["questions"][0]["options"][0]["scores"].update(worry=-1),
     "Question 1, option yes: scores are whole numbers from 0 to 20."),
    (lambda d: d["intro"].update(en="x" * 130_000), "The definition is too long"),
    (lambda d: d.update(questions="many"), "scales, questions and bands are each a list of tables"),
])
def test_oversize_definitions_are_refused_before_anything_is_computed(change, expected):
    definition = small_definition()
    change(definition)
    assert any(problem.startswith(expected) for problem in scoring.validate(definition, LOCALES))


def test_a_highest_total_above_the_cap_is_refused():
    definition = small_definition()
    definition["questions"] = [
        {"id": f"q{number}", "kind": "yes_no", "text": texts(f"Q{number}?"),
         "options": [{"id": "yes", "label": texts("Yes"), "scores": {"worry": 20}},
                     {"id": "no", "label": texts("No"), "scores": {"worry": 0}}]} for number in range(51)]
    assert "Scale worry: the highest total would be 1020; at most 1000." in scoring.validate(definition, LOCALES)


# The shipped scoring, as reviewed ----------------------------------------------------------


def option_in(definition: dict, question_id: str, option_id: str) -> dict:
    return scoring.option_of(definition, question_id, option_id)


def test_thoughts_that_do_not_upset_are_not_scored_as_no_thoughts():
    definition = load(SHIPPED[0])
    not_come = option_in(definition, "thoughts-distress", "not-come-lately")
    not_upsetting = option_in(definition, "thoughts-distress", "not-upsetting")
    assert not_come["scores"]["concern"] == 0
    assert not_upsetting["scores"]["concern"] > not_come["scores"]["concern"]


def test_not_sure_about_acting_soon_counts_as_concern_and_leads_with_help():
    definition = load(SHIPPED[0])
    not_sure = option_in(definition, "might-act-soon", "not-sure")
    assert not_sure["scores"]["concern"] > 0 and not_sure["crisis"]


# Phrases of the PHQ-9 and GAD-7 items and their answer scale (English originals).
PUBLISHED_PHRASES = ("better off dead", "little interest or pleasure", "down, depressed", "several days",
                     "more than half the days", "nearly every day", "feeling tired or having little energy",
                     "feeling nervous, anxious", "not being able to stop or control worrying")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_assessments_copy_no_published_questionnaire(path):
    definition = load(path)
    words = " ".join(str(text.get("en", "")) for question in definition["questions"]
                     for text in [question["text"], *[option["label"] for option in question["options"]]]).lower()
    assert [phrase for phrase in PUBLISHED_PHRASES if phrase in words] == []
