"""The search page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from cairn import search
from cairn.api import load
from cairn.auth.current import signed_in
from cairn.errors import Invalid
from cairn.search.schemas import SearchArgs

bp = Blueprint("search", __name__)


@bp.get("/search")
@login_required
def search_page():
    # the form's "Everything" option sends kind="": an empty field is an absent one
    args = load(SearchArgs(), {k: v for k, v in request.args.to_dict().items() if v != ""})
    result, error = None, None
    if args["q"].strip():
        try:
            result = search.query(signed_in(), args["q"], args["kind"], args["limit"],
                                  args["cursor"], exact=args["exact"])
        except Invalid as err:  # a malformed query is explained on the page, not as an error page
            error = err.message
    return render_template("search/results.html", q=args["q"], kind=args["kind"], exact=args["exact"],
                           result=result, error=error, refine=refinement)


def refinement(q: str, facet: str, value: str) -> str:
    """The query narrowed to one facet value: the operator a click on a facet adds."""
    if facet == "kind":
        return f"{q} kind:{value}"
    op = {"channel": "in:#", "author": "from:@", "tag": "tag:", "space": "space:"}[facet]
    return f'{q} {op}"{value}"' if " " in value else f"{q} {op}{value}"
