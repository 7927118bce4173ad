"""Schemas shared by every list endpoint."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cairn.pagination import DEFAULT_LIMIT, MAX_LIMIT


class ListArgs(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
