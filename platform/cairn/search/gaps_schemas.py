"""Content-gap inputs and outputs: a result click, the gap report's window."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cairn.api.schemas import Id

RESULT_KINDS = ("post", "article")


class ClickCreate(Schema):
    """A search result was opened: the search's ``log_id`` (from the search answer) and the result."""

    log_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(RESULT_KINDS))
    id = Id(required=True)


class OpenResultArgs(Schema):
    """``/search/open?log=&kind=&id=``: the search page's result links."""

    log = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(RESULT_KINDS))
    id = Id(required=True)


class GapArgs(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 365),
                          metadata={"description": "the window: searches of the last N days"})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 200))


class GapOut(Schema):
    question = fields.String(metadata={"description": "the normalised query the searches share"})
    example = fields.String(metadata={"description": "the most recent search asked this way, as typed but without "
                                                     "its operators (they can name private channels and people)"})
    unanswered = fields.Integer(metadata={"description": "searches with no hits, or hits and no click"})
    no_hits = fields.Integer()
    searches = fields.Integer()
    people = fields.Integer(metadata={"description": "distinct searchers among the unanswered (never who)"})
    last_asked = fields.DateTime()


class DayOut(Schema):
    day = fields.Date()
    unanswered = fields.Integer()


class GapsOut(Schema):
    days = fields.Integer()
    items = fields.List(fields.Nested(GapOut))
    daily = fields.List(fields.Nested(DayOut))
    next = fields.String(allow_none=True)


class ClickOut(Schema):
    log_id = fields.Integer()
    clicked = fields.Boolean()
    url = fields.String()
