"""The self-assessment engine: checking a definition, scoring answers, finding bands.

A definition is a plain dict (the JSON of a content version, or a shipped TOML file):
scales, ordered questions with options that score on scales and may raise the crisis
flag, and bands mapping score ranges to a result. Pure functions, no database.

Safety rule: an answer flagged as crisis never ends in a reassuring band. Each scale
names the least band a flagged result shows (`crisis_minimum_band`, counted from 1, the
lowest); validation proves, over every total the answers can reach, that no crisis answer
lands in a reassuring band (the lowest band, and any band marked `reassuring`).

Size is bounded before anything is computed (questions, options, scales, bands, points
and the highest total), so checking a definition takes little time and memory whatever
an editor writes: reachable totals are a bitset no wider than MAX_TOTAL bits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask_babel import gettext as _

QUESTION_KINDS = ("single", "yes_no", "frequency")
RECOMMENDATION = re.compile(r"^(module:[a-z0-9]+(?:-[a-z0-9]+)*|talk|book|help-now)$")
IDENTIFIER = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")

MAX_QUESTIONS = 60
MAX_OPTIONS = 8
MAX_SCALES = 4
MAX_BANDS = 8
MAX_POINTS = 20  # per option, per scale
MAX_TOTAL = 1000  # the highest total a scale may reach
MAX_DEFINITION_CHARS = 60_000  # the definition as stored (JSON), about three times the shipped ones


@dataclass(frozen=True)
class Band:
    scale: str
    index: int
    minimum: int
    maximum: int
    title: dict
    text: dict
    recommendations: tuple[str, ...]


def _points(option: dict, scale: str) -> int:
    return int(option.get("scores", {}).get(scale, 0))


def score_range(definition: dict, scale: str) -> tuple[int, int]:
    """The lowest and highest total a scale can reach."""
    low = high = 0
    for question in definition.get("questions", []):
        scores = [_points(option, scale) for option in question.get("options", [])] or [0]
        low, high = low + min(scores), high + max(scores)
    return low, high


def _reachable_bits(questions: list[dict], scale: str) -> int:
    """Bit t is set when some combination of answers to `questions` totals t. Bounded
    by MAX_TOTAL, which validation checks before calling this."""
    bits = 1
    for question in questions:
        following = 0
        for score in {_points(option, scale) for option in question.get("options", [])} or {0}:
            following |= bits << score
        bits = following
    return bits


def _totals_of(bits: int) -> list[int]:
    return [total for total in range(bits.bit_length()) if bits >> total & 1]


def reachable_totals(definition: dict, scale: str) -> set[int]:
    """Every total some combination of answers gives."""
    return set(_totals_of(_reachable_bits(definition.get("questions", []), scale)))


def crisis_paths(definition: dict, scale: str) -> list[tuple[int, dict, dict, set[int]]]:
    """For each crisis option: (question number, question, option, every total reachable
    when that option is chosen, whatever the other answers are)."""
    questions = definition.get("questions", [])
    paths = []
    for number, question in enumerate(questions, start=1):
        crisis_options = [option for option in question.get("options", []) if option.get("crisis")]
        if not crisis_options:
            continue
        others = _reachable_bits(questions[:number - 1] + questions[number:], scale)
        for option in crisis_options:
            paths.append((number, question, option, set(_totals_of(others << _points(option, scale)))))
    return paths


def _sorted_bands(definition: dict, scale: str) -> list[dict]:
    # A min typed as "x" is reported as not a whole number; it must not be compared with one.
    return sorted((band for band in definition.get("bands", []) if band.get("scale") == scale),
                  key=lambda band: band["min"] if isinstance(band.get("min"), int) else 0)


def crisis_minimum_index(definition: dict, scale: str) -> int:
    """The index (0 = lowest) of the least band a result with a crisis answer shows."""
    for entry in definition.get("scales", []):
        if entry.get("id") == scale:
            return max(int(entry.get("crisis_minimum_band", 1)) - 1, 0)
    return 0


def reassuring(bands: list[dict], index: int) -> bool:
    """The lowest band always reassures; others when they say so."""
    return index == 0 or bool(bands[index].get("reassuring"))


def _size_problems(definition: dict) -> list[str]:
    """Limits checked before anything is computed. A definition past them is refused
    without looking further, so an editor cannot make the server work hard."""
    try:
        size = len(json.dumps(definition, ensure_ascii=False))
    except (TypeError, ValueError):
        return [_("The definition holds values that are not text, numbers, lists or tables.")]
    if size > MAX_DEFINITION_CHARS:
        return [_("The definition is too long (%(size)s characters; at most %(most)s).", size=size,
                  most=MAX_DEFINITION_CHARS)]
    scales, questions, bands = (definition.get(key, []) for key in ("scales", "questions", "bands"))
    if not all(isinstance(value, list) and all(isinstance(item, dict) for item in value)
               for value in (scales, questions, bands)):
        return [_("scales, questions and bands are each a list of tables ([[scales]], [[questions]], [[bands]]).")]
    problems = []
    if len(scales) > MAX_SCALES:
        problems.append(_("At most %(most)s scales.", most=MAX_SCALES))
    if len(questions) > MAX_QUESTIONS:
        problems.append(_("At most %(most)s questions.", most=MAX_QUESTIONS))
    if len(bands) > MAX_BANDS * max(len(scales), 1):
        problems.append(_("At most %(most)s bands per scale.", most=MAX_BANDS))
    for number, question in enumerate(questions, start=1):
        options = question.get("options", [])
        if not isinstance(options, list) or not all(isinstance(option, dict) for option in options):
            problems.append(_("Question %(number)s: options are a list of tables ([[questions.options]]).", number=number))
            continue
        if len(options) > MAX_OPTIONS:
            problems.append(_("Question %(number)s: at most %(most)s options.", number=number, most=MAX_OPTIONS))
        for option in options:
            scores = option.get("scores", {})
            if not isinstance(scores, dict) or not all(
                    isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_POINTS
                    for value in scores.values()):
                problems.append(_("Question %(number)s, option %(option)s: scores are whole numbers from 0 to %(most)s.",
                                  number=number, option=option.get("id", "?"), most=MAX_POINTS))
    if problems:
        return problems
    for scale in scales:
        high = score_range(definition, str(scale.get("id")))[1]
        if high > MAX_TOTAL:
            problems.append(_("Scale %(scale)s: the highest total would be %(high)s; at most %(most)s.",
                              scale=scale.get("id"), high=high, most=MAX_TOTAL))
    return problems


def validate(definition: dict, locales: tuple[str, ...]) -> list[str]:
    """Every problem that stops a definition from being saved, in words staff can act on."""
    if not isinstance(definition, dict):
        return [_("The definition must be a table.")]
    problems: list[str] = _size_problems(definition)
    if problems:
        return problems

    def translated(texts, where: str) -> None:
        if not isinstance(texts, dict):
            problems.append(_("%(where)s: needs a text in each language (%(languages)s).", where=where,
                              languages=", ".join(locales)))
            return
        missing = [locale for locale in locales if not str(texts.get(locale, "")).strip()]
        if missing:
            problems.append(_("%(where)s: missing in %(languages)s.", where=where, languages=", ".join(missing)))

    if not IDENTIFIER.match(str(definition.get("slug", ""))):
        problems.append(_("The address (slug) may hold only lowercase letters, digits and hyphens."))
    position = definition.get("position", 99)
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 999:
        problems.append(_("The position on the list is a whole number from 0 to 999."))
    translated(definition.get("title"), _("Title"))
    translated(definition.get("intro"), _("Introduction"))
    scales = [scale.get("id") for scale in definition.get("scales", [])]
    if not scales:
        problems.append(_("Define at least one scale."))
    if len(set(scales)) != len(scales):
        problems.append(_("Two scales share an id."))
    for scale in definition.get("scales", []):
        translated(scale.get("name"), _("Scale %(scale)s", scale=scale.get("id")))

    questions = definition.get("questions", [])
    if not questions:
        problems.append(_("Add at least one question."))
    seen_questions = set()
    for number, question in enumerate(questions, start=1):
        where = _("Question %(number)s (%(id)s)", number=number, id=question.get("id", "?"))
        if not IDENTIFIER.match(str(question.get("id", ""))):
            problems.append(_("%(where)s: the id may hold only lowercase letters, digits, hyphens and underscores.",
                                  where=where))
        if question.get("id") in seen_questions:
            problems.append(_("%(where)s: another question has the same id.", where=where))
        seen_questions.add(question.get("id"))
        if question.get("kind") not in QUESTION_KINDS:
            problems.append(_("%(where)s: the kind must be one of %(kinds)s.", where=where, kinds=", ".join(QUESTION_KINDS)))
        translated(question.get("text"), where)
        options = question.get("options", [])
        if len(options) < 2:
            problems.append(_("%(where)s: needs at least two options.", where=where))
        if question.get("kind") == "yes_no" and sorted(str(option.get("id")) for option in options) != ["no", "yes"]:
            problems.append(_("%(where)s: a yes/no question has exactly the options yes and no.", where=where))
        option_ids = [option.get("id") for option in options]
        if len(set(map(str, option_ids))) != len(option_ids):
            problems.append(_("%(where)s: two options share an id.", where=where))
        for option in options:
            translated(option.get("label"), _("%(where)s, option %(option)s", where=where, option=option.get("id")))
            unknown = set(option.get("scores", {})) - set(scales)
            if unknown:
                problems.append(_("%(where)s, option %(option)s: scores on unknown scale %(scales)s.", where=where,
                                  option=option.get("id"), scales=", ".join(map(str, unknown))))

    any_crisis = any(option.get("crisis") for question in questions for option in question.get("options", []))
    for entry in definition.get("scales", []):
        scale = entry.get("id")
        bands = _sorted_bands(definition, scale)
        if not bands:
            problems.append(_("Scale %(scale)s: no bands.", scale=scale))
            continue
        if not all(isinstance(band.get(key), int) for band in bands for key in ("min", "max")):
            problems.append(_("Scale %(scale)s: every band needs a whole-number min and max.", scale=scale))
            continue
        low, high = score_range(definition, scale)
        reachable = reachable_totals(definition, scale)
        if bands[0].get("min") != low:
            problems.append(_("Scale %(scale)s: the lowest band must start at %(low)s, the lowest possible total.",
                              scale=scale, low=low))
        if bands[-1].get("max") != high:
            problems.append(_("Scale %(scale)s: the highest band must end at %(high)s, the highest possible total.",
                              scale=scale, high=high))
        for previous, following in zip(bands, bands[1:], strict=False):
            if following.get("min", 0) <= previous.get("max", 0):
                problems.append(_("Scale %(scale)s: bands %(first)s and %(second)s overlap.", scale=scale,
                                  first=f"{previous.get('min')}–{previous.get('max')}",
                                  second=f"{following.get('min')}–{following.get('max')}"))
            elif following.get("min", 0) > previous.get("max", 0) + 1:
                problems.append(_("Scale %(scale)s: no band covers %(range)s.", scale=scale,
                                  range=f"{previous.get('max') + 1}–{following.get('min') - 1}"))
        for band in bands:
            where = _("Scale %(scale)s, band %(range)s", scale=scale, range=f"{band.get('min')}–{band.get('max')}")
            if band.get("min", 0) > band.get("max", 0):
                problems.append(_("%(where)s: the minimum is above the maximum.", where=where))
            elif not any(band["min"] <= total <= band["max"] for total in reachable):
                problems.append(_("%(where)s: no combination of answers reaches it.", where=where))
            translated(band.get("title"), where)
            translated(band.get("text"), _("%(where)s text", where=where))
            for recommendation in band.get("recommendations", []):
                if not RECOMMENDATION.match(str(recommendation)):
                    problems.append(_("%(where)s: unknown recommendation %(value)s.", where=where,
                                      value=repr(recommendation)))
        if any_crisis:
            problems.extend(_crisis_problems(definition, entry, bands))
    for band in definition.get("bands", []):
        if band.get("scale") not in scales:
            problems.append(_("A band refers to an unknown scale %(scale)s.", scale=repr(band.get("scale"))))
    return problems


def _crisis_problems(definition: dict, entry: dict, bands: list[dict]) -> list[str]:
    """Proves, over every total reachable with each crisis answer, that the band shown is
    never a reassuring one."""
    scale = entry.get("id")
    minimum = entry.get("crisis_minimum_band", 1)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or not 1 <= minimum <= len(bands):
        return [_("Scale %(scale)s: crisis_minimum_band is the number of a band, from 1 (the lowest) to %(most)s.",
                  scale=scale, most=len(bands))]
    problems = []
    for number, question, option, totals in crisis_paths(definition, scale):
        shown = sorted({max(_index_of(bands, total), minimum - 1) for total in totals})
        for index in shown:
            if reassuring(bands, index):
                band = bands[index]
                problems.append(_(
                    "Scale %(scale)s: the crisis answer %(option)s to question %(number)s (%(id)s) can end in the "
                    "reassuring band %(range)s. Set crisis_minimum_band on the scale to a band above every "
                    "reassuring band (the lowest band, and any marked reassuring).",
                    scale=scale, option=repr(option.get("id")), number=number, id=question.get("id"),
                    range=f"{band.get('min')}–{band.get('max')}"))
    return problems


def _index_of(bands: list[dict], total: int) -> int:
    for index, band in enumerate(bands):
        if band["min"] <= total <= band["max"]:
            return index
    return 0  # a gap, reported on its own; treated as the lowest band, the unsafe side


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


def band_for(definition: dict, scale: str, total: int, crisis: bool = False) -> Band:
    """The band a total shows; with a crisis answer, never below the scale's
    crisis_minimum_band, whatever the total."""
    bands = _sorted_bands(definition, scale)
    for index, band in enumerate(bands):
        if band["min"] <= total <= band["max"]:
            if crisis:
                index = max(index, min(crisis_minimum_index(definition, scale), len(bands) - 1))
                band = bands[index]
            return Band(scale, index, band["min"], band["max"], band["title"], band["text"],
                        tuple(band.get("recommendations", ())))
    raise ValueError(f"no band for {scale}={total}")


def crisis_raised(definition: dict, answers: dict[str, str]) -> bool:
    return any((option_of(definition, question, option) or {}).get("crisis", False)
               for question, option in answers.items())
