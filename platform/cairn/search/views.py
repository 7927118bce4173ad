"""The search page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from cairn import search
from cairn.api import load
from cairn.errors import Invalid
from cairn.search.schemas import SearchArgs

bp = Blueprint("search", __name__)


@bp.get("/search")
@login_required
def search_page():
    args = load(SearchArgs(), request.args.to_dict())
    result, error = None, None
    if args["q"].strip():
        try:
            result = search.query(current_user._get_current_object(), args["q"], args["kind"], args["limit"],
                                  args["cursor"])
        except Invalid as err:  # a malformed query is explained on the page, not as an error page
            error = err.message
    return render_template("search/results.html", q=args["q"], kind=args["kind"], result=result, error=error)
