"""Search input schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class SearchArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=500))
    kind = fields.String(load_default=None, validate=validate.OneOf(("post", "article")))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
