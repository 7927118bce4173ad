"""Schemas shared by every list endpoint, and the audit log's filters."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields, validate

from cairn.models_base import MAX_ID
from cairn.pagination import DEFAULT_LIMIT, MAX_LIMIT


class Id(fields.Integer):
    """A row id (or revision number): a whole number a database key can hold. JSON sends a number;
    forms and query strings send digits, so those are accepted too, but never 1.5 or true."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Not a valid id (a whole number)."}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)

    def _validated(self, value):
        digits = isinstance(value, str) and value.isascii() and value.isdigit()
        if isinstance(value, float) or (isinstance(value, str) and not digits):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class ListArgs(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class AuditArgs(ListArgs):
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    target = fields.String(load_default=None, validate=validate.Length(max=64))
    actor_id = Id(load_default=None)
