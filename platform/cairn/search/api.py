"""/api/v1/search."""

from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields, validate

from cairn import search
from cairn.api import actor, api_blueprint, load_args

bp = api_blueprint("api_search")


class SearchArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=500))
    kind = fields.String(load_default=None, validate=validate.OneOf(("post", "article")))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


@bp.get("/search")
def search_all():
    args = load_args(SearchArgs())
    result = search.query(actor(), args["q"], args["kind"], args["limit"], args["cursor"])
    return jsonify(total=result.total, items=result.items, next=result.next, facets=result.facets,
                   suggestion=result.suggestion)
