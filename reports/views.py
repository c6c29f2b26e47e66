"""/staff/reports: monthly figures for the programme and its funders, as SVG charts
and CSV, from aggregate daily counters only."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, render_template, request

from reports import charts, services
from service.auth.access import requires_roles
from service.clock import clock
from service.db import db
from service.i18n import current_locale

blueprint = Blueprint("reports", __name__, url_prefix="/staff/reports", template_folder="templates")
READERS = ("admin",)
MAX_MONTHS = 24


def _chosen_period() -> tuple[dt.date, dt.date]:
    """?from=YYYY-MM&to=YYYY-MM; by default the last twelve months. Junk falls back."""
    today = clock.today()
    last = services.month_start(request.args.get("to", "")) or dt.date(today.year, today.month, 1)
    default_first = dt.date(last.year - (last.month <= 11), (last.month - 12) % 12 + 1, 1)
    first = services.month_start(request.args.get("from", "")) or default_first
    if first > last or len(services.months_between(first, last)) > MAX_MONTHS:
        first = default_first
    return first, last


@blueprint.get("/")
@requires_roles(*READERS)
def overview():
    first, last = _chosen_period()
    figures = services.figures(db.session, first, last, current_locale())
    return render_template("reports/overview.html", figures=figures, first=first, last=last,
                           charts=[charts.bar_chart(figure, figure.title) for figure in figures],
                           shown=services.shown)


@blueprint.get("/figures.csv")
@requires_roles(*READERS)
def export():
    first, last = _chosen_period()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "series", "month", "count"])
    for figure in services.figures(db.session, first, last, current_locale()):
        for key, label in figure.keys:
            for month in figure.months:
                writer.writerow([_cell(figure.title), _cell(label), month, services.shown(figure.value(month, key))])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="pause-figures-{first:%Y-%m}-{last:%Y-%m}.csv"'})


def _cell(text: str) -> str:
    """No cell starts like a formula when opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
