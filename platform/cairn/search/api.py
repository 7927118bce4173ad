"""/api/v1/search."""

from __future__ import annotations

from flask import jsonify

from cairn import search
from cairn.api import actor, api_blueprint, load_args
from cairn.search.schemas import SearchArgs

bp = api_blueprint("api_search")


@bp.get("/search")
def search_all():
    args = load_args(SearchArgs())
    result = search.query(actor(), args["q"], args["kind"], args["limit"], args["cursor"])
    return jsonify(total=result.total, items=result.items, next=result.next, facets=result.facets,
                   suggestion=result.suggestion, log_id=result.log_id)
