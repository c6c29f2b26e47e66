"""Self-assessments as visitors take them: published definitions, results kept by key
holders (sealed), aggregate counters, and the small chart of past results."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from html import escape

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from self_help import scoring
from self_help.models import Assessment, AssessmentCount, AssessmentResult
from service import crypto
from service.cache import cached
from service.clock import clock


def text_in(texts: dict | str, locale: str, default_locale: str) -> str:
    if isinstance(texts, str):
        return texts
    return texts.get(locale) or texts.get(default_locale) or next(iter(texts.values()), "")


def published(session: Session) -> list[tuple[Assessment, dict]]:
    rows = session.scalars(select(Assessment).order_by(Assessment.position, Assessment.slug))
    return [(row, json.loads(row.definition)) for row in rows]


@dataclass(frozen=True)
class LiveAssessment:
    """What a visitor's answers are checked against: the published version, shared by
    every request until the next publish (the definition is never changed in place)."""

    slug: str
    version: int


def by_slug(session: Session, slug: str) -> tuple[LiveAssessment, dict] | None:
    def build() -> tuple[LiveAssessment, dict] | None:
        row = session.scalar(select(Assessment).where(Assessment.slug == slug))
        return (LiveAssessment(row.slug, row.version), json.loads(row.definition)) if row else None

    return cached(session, ("assessment", slug), build)


def apply_definition(session: Session, document: dict, version: int) -> Assessment:
    """Makes a definition the live one (publishing calls this)."""
    row = session.scalar(select(Assessment).where(Assessment.slug == document["slug"]))
    if row is None:
        row = Assessment(slug=document["slug"], position=document.get("position", 99), version=version,
                         definition="{}")
        session.add(row)
    row.position, row.version = document.get("position", 99), version
    row.definition = json.dumps(document, ensure_ascii=False, sort_keys=True)
    session.flush()
    return row


@dataclass(frozen=True)
class Outcome:
    """What a completed assessment shows: per scale, the total and its band."""

    slug: str
    version: int
    totals: dict[str, int]
    bands: dict[str, int]
    crisis: bool

    def as_dict(self) -> dict:
        return {"slug": self.slug, "version": self.version, "totals": self.totals, "bands": self.bands,
                "crisis": self.crisis}


def outcome_of(definition: dict, version: int, answers: dict[str, str], crisis_seen: bool = False) -> Outcome:
    """`crisis_seen`: a crisis answer was given on the way, even if changed since; the
    result still leads with help and shows no reassuring band."""
    totals = scoring.totals(definition, answers)
    crisis = crisis_seen or scoring.crisis_raised(definition, answers)
    bands = {scale: scoring.band_for(definition, scale, total, crisis).index for scale, total in totals.items()}
    return Outcome(definition["slug"], version, totals, bands, crisis)


def count_outcome(session: Session, outcome: Outcome) -> None:
    """One more result in each band, for today. Safe under concurrent requests."""
    today = clock.today()
    for scale, band in outcome.bands.items():
        where = (AssessmentCount.day == today, AssessmentCount.assessment_slug == outcome.slug,
                 AssessmentCount.version == outcome.version, AssessmentCount.scale == scale,
                 AssessmentCount.band == band)
        updated = session.execute(update(AssessmentCount).where(*where).values(count=AssessmentCount.count + 1))
        if updated.rowcount:
            continue
        try:
            with session.begin_nested():
                session.add(AssessmentCount(day=today, assessment_slug=outcome.slug, version=outcome.version,
                                            scale=scale, band=band, count=1))
        except IntegrityError:
            session.execute(update(AssessmentCount).where(*where).values(count=AssessmentCount.count + 1))


def keep_result(session: Session, key_id: int, outcome: Outcome) -> None:
    session.add(AssessmentResult(key_id=key_id, assessment_slug=outcome.slug, taken_on=clock.today(),
                                 sealed_result=crypto.seal(json.dumps(outcome.as_dict()))))


@dataclass(frozen=True)
class KeptResult:
    id: int
    taken_on: dt.date
    slug: str
    totals: dict[str, int]
    bands: dict[str, int]


def kept_results(session: Session, key_id: int) -> list[KeptResult]:
    rows = session.scalars(select(AssessmentResult).where(AssessmentResult.key_id == key_id)
                           .order_by(AssessmentResult.taken_on, AssessmentResult.id))
    results = []
    for row in rows:
        data = json.loads(crypto.unseal(row.sealed_result))
        results.append(KeptResult(row.id, row.taken_on, row.assessment_slug, data["totals"], data["bands"]))
    return results


def delete_results(session: Session, key_id: int, result_id: int | None = None) -> int:
    statement = delete(AssessmentResult).where(AssessmentResult.key_id == key_id)
    if result_id is not None:
        statement = statement.where(AssessmentResult.id == result_id)
    return session.execute(statement).rowcount or 0


def chart_svg(points: list[tuple[dt.date, int]], highest: int, title: str, description: str) -> str:
    """A small line chart drawn here, as SVG with no script and no style attribute."""
    width, height, margin = 480, 180, 32
    if not points:
        return ""
    span = max(highest, 1)
    step = (width - 2 * margin) / max(len(points) - 1, 1)

    def position(index: int, value: int) -> tuple[float, float]:
        return margin + index * step, height - margin - (height - 2 * margin) * value / span

    coordinates = [position(index, value) for index, (_day, value) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f4e5f"><title>{escape(day.isoformat())}: {value}</title>'
        f"</circle>"
        for (x, y), (day, value) in zip(coordinates, points, strict=True))
    labels = "".join(f'<text x="{x:.1f}" y="{height - 10}" font-size="11" text-anchor="middle" fill="#1b1b1b">'
                     f"{escape(day.strftime('%d/%m'))}</text>"
                     for (x, _y), (day, _value) in zip(coordinates, points, strict=True))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title chart-desc" class="result-chart">'
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>'
        f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" y2="{height - margin}" stroke="#4a4a4a"/>'
        f'<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{height - margin}" stroke="#4a4a4a"/>'
        f'<text x="4" y="{margin + 4}" font-size="11" fill="#1b1b1b">{highest}</text>'
        f'<text x="12" y="{height - margin + 4}" font-size="11" fill="#1b1b1b">0</text>'
        f'<polyline points="{line}" fill="none" stroke="#1f4e5f" stroke-width="2"/>{dots}{labels}</svg>'
    )
