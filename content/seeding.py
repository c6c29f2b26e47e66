"""Loads the shipped content in content/seed/ into the database.

Each shipped module and page becomes version 1 of its item, published, the first time
the seed runs. After that the item belongs to staff, who edit it through the publishing
workflow, and the seed leaves it alone: running it twice leaves the same rows.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from content import documents, publishing
from service.config import shipped_locales

SEED_FOLDER = Path(__file__).parent / "seed"
_FILE_NAME = re.compile(r"^(?P<slug>[a-z0-9-]+)\.(?P<locale>[a-z]{2})\.toml$")


class SeedError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class SeedReport:
    created: int = 0
    unchanged: int = 0


@lru_cache(maxsize=256)
def _parsed(path: Path, _changed: int, _size: int) -> dict:
    # Keyed by the file's change time and size too: an edited file is read again.
    return tomllib.loads(path.read_text(encoding="utf-8"))


def read_toml(path: Path) -> dict:
    """A seed file, parsed once per version of the file (every new database of a test
    run, or of `flask seed` run again, reads the same files); a copy, free to change."""
    status = path.stat()
    return copy.deepcopy(_parsed(path, status.st_mtime_ns, status.st_size))


def read_seed_files(folder: Path) -> dict[str, dict[str, dict]]:
    """{slug: {locale: parsed file}} for every `<slug>.<locale>.toml` in the folder."""
    found: dict[str, dict[str, dict]] = defaultdict(dict)
    problems = []
    for path in sorted(folder.glob("*.toml")):
        match = _FILE_NAME.match(path.name)
        if not match:
            problems.append(f"{path.name}: name must be <slug>.<locale>.toml")
            continue
        try:
            data = read_toml(path)
        except tomllib.TOMLDecodeError as error:
            problems.append(f"{path.name}: {error}")
            continue
        if data.get("slug") != match["slug"]:
            problems.append(f"{path.name}: slug inside the file must be {match['slug']!r}")
        found[match["slug"]][match["locale"]] = data
    if problems:
        raise SeedError(problems)
    return dict(found)


def check_module_translations(slug: str, versions: dict[str, dict]) -> list[str]:
    """Every language of a module must have the same skeleton: steps, exercises, items."""
    problems = []

    def skeleton(data: dict) -> list:
        return [
            (step.get("slug"), (step.get("exercise") or {}).get("slug"), (step.get("exercise") or {}).get("kind"),
             len((step.get("exercise") or {}).get("items", [])))
            for step in data.get("steps", [])
        ]

    reference_locale, reference = next(iter(sorted(versions.items())))
    for locale, data in versions.items():
        for field_name in ("title", "summary", "position"):
            if field_name not in data:
                problems.append(f"{slug}.{locale}: missing {field_name}")
        for step in data.get("steps", []):
            if not step.get("slug") or not step.get("title") or not step.get("body"):
                problems.append(f"{slug}.{locale}: every step needs slug, title and body")
            exercise = step.get("exercise")
            if exercise and exercise.get("kind") not in ("reflection", "checklist"):
                problems.append(f"{slug}.{locale}: exercise kind must be reflection or checklist")
        if skeleton(data) != skeleton(reference):
            problems.append(f"{slug}.{locale}: steps or exercises differ from {slug}.{reference_locale}")
        if data.get("position") != reference.get("position"):
            problems.append(f"{slug}.{locale}: position differs from {slug}.{reference_locale}")
    return problems


def seed_modules(session: Session, folder: Path, report: SeedReport) -> None:
    modules = read_seed_files(folder)
    problems = [problem for slug, versions in modules.items() for problem in check_module_translations(slug, versions)]
    if problems:
        raise SeedError(problems)
    for versions in modules.values():
        _count(report, publishing.record_seed_version(session, documents.MODULE,
                                                      documents.module_document_from_seed(versions)))


def seed_pages(session: Session, folder: Path, report: SeedReport) -> None:
    for versions in read_seed_files(folder).values():
        note = next((data["staff_note"] for data in versions.values() if data.get("staff_note")), "")
        _count(report, publishing.record_seed_version(session, documents.PAGE,
                                                      documents.page_document_from_seed(versions), note))


def _count(report: SeedReport, applied: bool) -> None:
    if applied:
        report.created += 1
    else:
        report.unchanged += 1


def seed_assessments(session: Session, folder: Path, report: SeedReport) -> None:
    for path in sorted(folder.glob("*.toml")):
        document = documents.json_ready(read_toml(path))
        problems = documents.validate(documents.ASSESSMENT, document, "en", shipped_locales())
        if problems:
            raise SeedError([f"{path.name}: {problem}" for problem in problems])
        _count(report, publishing.record_seed_version(session, documents.ASSESSMENT, document))


def seed_resources(session: Session, path: Path, report: SeedReport) -> None:
    document = documents.json_ready(read_toml(path))
    problems = documents.validate(documents.RESOURCES, document, "en", shipped_locales())
    if problems:
        raise SeedError([f"{path.name}: {problem}" for problem in problems])
    _count(report, publishing.record_seed_version(session, documents.RESOURCES, document))


def seed_all(session: Session, folder: Path = SEED_FOLDER) -> SeedReport:
    """The caller owns the transaction."""
    report = SeedReport()
    seed_modules(session, folder / "modules", report)
    seed_pages(session, folder / "pages", report)
    seed_assessments(session, folder / "assessments", report)
    seed_resources(session, folder / "crisis-resources.toml", report)
    session.flush()
    return report
