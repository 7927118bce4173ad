"""/api/v1/search and /api/v1/search/suggest."""

from __future__ import annotations

from flask import jsonify

from cairn import search
from cairn.api import actor, api_blueprint, load_args
from cairn.search.schemas import SearchArgs, SuggestArgs

bp = api_blueprint("api_search")


@bp.get("/search")
def search_all():
    args = load_args(SearchArgs())
    result = search.query(actor(), args["q"], args["kind"], args["limit"], args["cursor"], exact=args["exact"])
    return jsonify(total=result.total, items=result.items, next=result.next, facets=result.facets,
                   suggestion=result.suggestion, corrected_query=result.corrected_query, log_id=result.log_id)


@bp.get("/search/suggest")
def suggest():
    """Autocomplete for the search box: completed queries and matching titles the caller may read."""
    args = load_args(SuggestArgs())
    return jsonify(search.suggest(actor(), args["q"], args["limit"]))
