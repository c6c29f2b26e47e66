"""The self-assessment engine: checking a definition, scoring answers, finding bands.

A definition is a plain dict (the JSON of a content version, or a shipped TOML file):
scales, ordered questions with options that score on scales and may raise the crisis
flag, and bands mapping score ranges to a result. Pure functions, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

QUESTION_KINDS = ("single", "yes_no", "frequency")
RECOMMENDATION = re.compile(r"^(module:[a-z0-9]+(?:-[a-z0-9]+)*|talk|book|help-now)$")
IDENTIFIER = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class Band:
    scale: str
    index: int
    minimum: int
    maximum: int
    title: dict
    text: dict
    recommendations: tuple[str, ...]


def score_range(definition: dict, scale: str) -> tuple[int, int]:
    """The lowest and highest total a scale can reach."""
    low = high = 0
    for question in definition.get("questions", []):
        scores = [int(option.get("scores", {}).get(scale, 0)) for option in question.get("options", [])] or [0]
        low, high = low + min(scores), high + max(scores)
    return low, high


def reachable_totals(definition: dict, scale: str) -> set[int]:
    """Every total some combination of answers gives (sums over the questions)."""
    totals = {0}
    for question in definition.get("questions", []):
        scores = {int(option.get("scores", {}).get(scale, 0)) for option in question.get("options", [])} or {0}
        totals = {total + score for total in totals for score in scores}
    return totals


def validate(definition: dict, locales: tuple[str, ...]) -> list[str]:
    """Every problem that stops a definition from being saved, in words staff can act on."""
    problems: list[str] = []

    def translated(texts, where: str) -> None:
        if not isinstance(texts, dict):
            problems.append(f"{where}: needs a text in each language ({', '.join(locales)}).")
            return
        missing = [locale for locale in locales if not str(texts.get(locale, "")).strip()]
        if missing:
            problems.append(f"{where}: missing in {', '.join(missing)}.")

    if not IDENTIFIER.match(str(definition.get("slug", ""))):
        problems.append("The address (slug) may hold only lowercase letters, digits and hyphens.")
    translated(definition.get("title"), "Title")
    translated(definition.get("intro"), "Introduction")
    scales = [scale.get("id") for scale in definition.get("scales", [])]
    if not scales:
        problems.append("Define at least one scale.")
    if len(set(scales)) != len(scales):
        problems.append("Two scales share an id.")
    for scale in definition.get("scales", []):
        translated(scale.get("name"), f"Scale {scale.get('id')}")

    questions = definition.get("questions", [])
    if not questions:
        problems.append("Add at least one question.")
    seen_questions = set()
    for number, question in enumerate(questions, start=1):
        where = f"Question {number} ({question.get('id', '?')})"
        if not IDENTIFIER.match(str(question.get("id", ""))):
            problems.append(f"{where}: the id may hold only lowercase letters, digits, hyphens and underscores.")
        if question.get("id") in seen_questions:
            problems.append(f"{where}: another question has the same id.")
        seen_questions.add(question.get("id"))
        if question.get("kind") not in QUESTION_KINDS:
            problems.append(f"{where}: the kind must be one of {', '.join(QUESTION_KINDS)}.")
        translated(question.get("text"), where)
        options = question.get("options", [])
        if len(options) < 2:
            problems.append(f"{where}: needs at least two options.")
        if question.get("kind") == "yes_no" and sorted(option.get("id") for option in options) != ["no", "yes"]:
            problems.append(f"{where}: a yes/no question has exactly the options yes and no.")
        option_ids = [option.get("id") for option in options]
        if len(set(option_ids)) != len(option_ids):
            problems.append(f"{where}: two options share an id.")
        for option in options:
            translated(option.get("label"), f"{where}, option {option.get('id')}")
            unknown = set(option.get("scores", {})) - set(scales)
            if unknown:
                problems.append(f"{where}, option {option.get('id')}: scores on unknown scale {', '.join(unknown)}.")
            if not all(isinstance(value, int) and value >= 0 for value in option.get("scores", {}).values()):
                problems.append(f"{where}, option {option.get('id')}: scores are whole numbers, 0 or more.")

    for scale in scales:
        bands = sorted((band for band in definition.get("bands", []) if band.get("scale") == scale),
                       key=lambda band: band.get("min", 0))
        if not bands:
            problems.append(f"Scale {scale}: no bands.")
            continue
        low, high = score_range(definition, scale)
        reachable = reachable_totals(definition, scale)
        if bands[0].get("min") != low:
            problems.append(f"Scale {scale}: the lowest band must start at {low}, the lowest possible total.")
        if bands[-1].get("max") != high:
            problems.append(f"Scale {scale}: the highest band must end at {high}, the highest possible total.")
        for previous, following in zip(bands, bands[1:], strict=False):
            if following.get("min", 0) <= previous.get("max", 0):
                problems.append(f"Scale {scale}: bands {previous.get('min')}–{previous.get('max')} and "
                                f"{following.get('min')}–{following.get('max')} overlap.")
            elif following.get("min", 0) > previous.get("max", 0) + 1:
                problems.append(f"Scale {scale}: no band covers {previous.get('max') + 1}–{following.get('min') - 1}.")
        for band in bands:
            where = f"Scale {scale}, band {band.get('min')}–{band.get('max')}"
            if band.get("min", 0) > band.get("max", 0):
                problems.append(f"{where}: the minimum is above the maximum.")
            elif not any(band["min"] <= total <= band["max"] for total in reachable):
                problems.append(f"{where}: no combination of answers reaches it.")
            translated(band.get("title"), where)
            translated(band.get("text"), f"{where} text")
            for recommendation in band.get("recommendations", []):
                if not RECOMMENDATION.match(str(recommendation)):
                    problems.append(f"{where}: unknown recommendation {recommendation!r}.")
    for band in definition.get("bands", []):
        if band.get("scale") not in scales:
            problems.append(f"A band refers to an unknown scale {band.get('scale')!r}.")
    return problems


def question_ids(definition: dict) -> list[str]:
    return [question["id"] for question in definition["questions"]]


def option_of(definition: dict, question_id: str, option_id: str) -> dict | None:
    for question in definition["questions"]:
        if question["id"] == question_id:
            return next((option for option in question["options"] if option["id"] == option_id), None)
    return None


def totals(definition: dict, answers: dict[str, str]) -> dict[str, int]:
    """Scale totals for complete answers; a missing or unknown answer is a KeyError."""
    result = {scale["id"]: 0 for scale in definition["scales"]}
    for question in definition["questions"]:
        option = option_of(definition, question["id"], answers[question["id"]])
        if option is None:
            raise KeyError(question["id"])
        for scale, points in option.get("scores", {}).items():
            result[scale] += int(points)
    return result


def band_for(definition: dict, scale: str, total: int) -> Band:
    bands = sorted((band for band in definition["bands"] if band["scale"] == scale), key=lambda band: band["min"])
    for index, band in enumerate(bands):
        if band["min"] <= total <= band["max"]:
            return Band(scale, index, band["min"], band["max"], band["title"], band["text"],
                        tuple(band.get("recommendations", ())))
    raise ValueError(f"no band for {scale}={total}")


def crisis_raised(definition: dict, answers: dict[str, str]) -> bool:
    return any((option_of(definition, question, option) or {}).get("crisis", False)
               for question, option in answers.items())
