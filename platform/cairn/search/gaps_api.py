"""/api/v1/gaps (curators) and /api/v1/search/clicks: content-gap analytics over the API."""

from __future__ import annotations

from flask import jsonify

from cairn.api import actor, api_blueprint, load, load_args
from cairn.search import gaps
from cairn.search.gaps_schemas import ClickCreate, ClickOut, GapArgs, GapsOut

bp = api_blueprint("api_gaps")


@bp.post("/search/clicks")
def record_click():
    """Record that a search result was opened (marks the caller's own search as answered)."""
    data = load(ClickCreate())
    url = gaps.record_click(actor(), data["log_id"], data["kind"], data["id"])
    return jsonify(ClickOut().dump({"log_id": data["log_id"], "clicked": True, "url": url}))


@bp.get("/gaps")
def list_gaps():
    """The most often unanswered search questions and unanswered searches per day (curators)."""
    args = load_args(GapArgs())
    report = gaps.gap_report(actor(), args["days"], args["limit"])
    return jsonify(GapsOut().dump({
        "days": report.days,
        "items": report.gaps,
        "daily": [{"day": day, "unanswered": n} for day, n in report.daily],
        "next": None,
    }))
