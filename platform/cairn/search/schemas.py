"""Search input schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class SearchArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=500))
    kind = fields.String(load_default=None, validate=validate.OneOf(("post", "article")))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    exact = fields.Boolean(load_default=False, metadata={
        "description": "true: search the words as typed, with no spelling correction"})


class SuggestArgs(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200),
                      metadata={"description": "what the search box holds; its last word is completed"})
    limit = fields.Integer(load_default=8, validate=validate.Range(1, 20))
