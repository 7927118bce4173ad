"""Content-gap pages: the curators' unanswered-questions dashboard, and the search page's result
links, which mark the search as answered on the way to the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, redirect, render_template, request
from flask_login import login_required

from cairn.api import load
from cairn.auth.current import signed_in
from cairn.search import gaps
from cairn.search.gaps_schemas import GapArgs, OpenResultArgs

bp = Blueprint("gaps", __name__)

CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM, CHART_LEFT, CHART_RIGHT = 640, 200, 12, 24, 36, 24


@bp.get("/search/open")
@login_required
def open_result():
    args = load(OpenResultArgs(), request.args.to_dict())
    # the URL comes from the object the user may read, never from the request: no open redirect
    url = gaps.record_click(signed_in(), args["log"], args["kind"], args["id"])
    return redirect(url)


@bp.get("/content-gaps")
@login_required
def content_gaps():
    args = load(GapArgs(), request.args.to_dict())
    report = gaps.gap_report(signed_in(), args["days"], args["limit"])
    return render_template("search/gaps.html", report=report, chart=daily_chart(report.daily))


@dataclass
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: int
    baseline: float
    top_value: int
    bars: list[Bar]
    ticks: list[tuple[int, float]]      # (value, y) of the horizontal grid lines
    labels: list[tuple[str, float]]     # (text, x) of the day labels under the bars
    total: int


def daily_chart(daily: list[tuple[date, int]]) -> Chart:
    """Geometry of a bar chart drawn as inline SVG by the template (no script, CSP-safe)."""
    top_value = max([n for _, n in daily] + [1])
    plot_h = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    baseline = CHART_TOP + plot_h
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / max(len(daily), 1)
    bars = []
    for i, (day, n) in enumerate(daily):
        h = plot_h * n / top_value
        bars.append(Bar(day=day, count=n, x=round(CHART_LEFT + i * slot + slot * 0.15, 1), y=round(baseline - h, 1),
                        width=round(slot * 0.7, 1), height=round(h, 1)))
    ticks = sorted({0, top_value // 2, top_value})
    step = max(len(daily) // 6, 1)  # about six day labels, the last day always among them
    labelled = [i for i in range(len(daily)) if (len(daily) - 1 - i) % step == 0]
    return Chart(width=CHART_WIDTH, height=CHART_HEIGHT, left=CHART_LEFT, right=CHART_WIDTH - CHART_RIGHT, baseline=baseline, top_value=top_value,
                 bars=bars, ticks=[(v, round(baseline - plot_h * v / top_value, 1)) for v in ticks],
                 labels=[(daily[i][0].strftime("%b %d"), round(CHART_LEFT + (i + 0.5) * slot, 1)) for i in labelled],
                 total=sum(n for _, n in daily))
