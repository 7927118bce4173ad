"""What the main /api/v1 answers carry, as marshmallow schemas for the OpenAPI document.

The routes build their answers with the ``*_out`` functions of each domain; these schemas describe
the fields API.md promises (always present; extra fields are allowed), so that the document says
what a client gets and the schemathesis run (tests/fuzz) checks every answer against it.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

ARTICLE_STATUSES = ("draft", "in_review", "published", "archived")
PROMOTION_STATUSES = ("queued", "running", "needs_review", "done", "rejected", "failed")
CANDIDATE_STATUSES = ("open", "dismissed", "promoted")


class Out(Schema):
    class Meta:
        unknown = INCLUDE  # the document lists the promised fields; an answer may carry more


class UserRefOut(Out):
    id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    handle = fields.String(required=True)


class GroupRefOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class UserOut(UserRefOut):
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(("member", "curator", "admin")))
    active = fields.Boolean(required=True)
    groups = fields.List(fields.Nested(GroupRefOut), required=True)


class ChannelOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    topic = fields.String(required=True, allow_none=True)
    private = fields.Boolean(required=True)
    members = fields.Integer(required=True)


class PostOut(Out):
    id = fields.Integer(required=True)
    channel_id = fields.Integer(required=True)
    author = fields.Nested(UserRefOut, required=True)
    body = fields.String(required=True)
    html = fields.String(required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.String(required=True)
    edited_at = fields.String(required=True, allow_none=True)
    hidden = fields.Boolean(required=True)


class ArticleSummaryOut(Out):
    id = fields.Integer(required=True)
    space_id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ARTICLE_STATUSES))
    revision = fields.Integer(required=True)
    owner = fields.Nested(UserRefOut, required=True)
    verified_at = fields.String(required=True, allow_none=True)
    sources = fields.List(fields.Dict(), required=True)


class ArticleOut(ArticleSummaryOut):
    body = fields.String(required=True)
    html = fields.String(required=True)


class SpaceOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    groups = fields.List(fields.Integer(), required=True)


class PromotionOut(Out):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PROMOTION_STATUSES))
    step = fields.String(required=True, allow_none=True)
    post_ids = fields.List(fields.Integer(), required=True)
    mode = fields.String(required=True)
    article_id = fields.Integer(required=True, allow_none=True)
    findings = fields.List(fields.Raw(), required=True)
    error = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)


class CandidateOut(Out):
    id = fields.Integer(required=True)
    post_id = fields.Integer(required=True)
    channel_id = fields.Integer(required=True)
    excerpt = fields.String(required=True)
    url = fields.String(required=True)
    score = fields.Float(required=True)
    reasons = fields.List(fields.Dict(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(CANDIDATE_STATUSES))
    dismissed_at = fields.String(required=True, allow_none=True)
    dismissed_by_id = fields.Integer(required=True, allow_none=True)
    dismissed_reason = fields.String(required=True, allow_none=True)


class SearchHitOut(Out):
    kind = fields.String(required=True, validate=validate.OneOf(("post", "article")))
    id = fields.Integer(required=True)
    title = fields.String(required=True, allow_none=True)
    url = fields.String(required=True)


class SearchOut(Out):
    total = fields.Integer(required=True)
    items = fields.List(fields.Nested(SearchHitOut), required=True)
    next = fields.String(required=True, allow_none=True)
    facets = fields.Dict(required=True)


class TokenOut(Out):
    id = fields.Integer(required=True)
    token = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class GroupOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    members = fields.List(fields.Integer(), required=True)


class PostRevisionOut(Out):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    editor_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.String(required=True)


class ArticleRevisionOut(Out):
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    author = fields.Nested(UserRefOut, required=True)
    note = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)


class NotificationOut(Out):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)
    read = fields.Boolean(required=True)
    created_at = fields.String(required=True)


class BookmarkOut(Out):
    id = fields.Integer(required=True)
    created_at = fields.String(required=True)
    post = fields.Nested(PostOut, required=True)


class AuditEventOut(Out):
    id = fields.Integer(required=True)
    actor_id = fields.Integer(required=True, allow_none=True)
    action = fields.String(required=True)
    target = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)


class DiffOut(Out):
    # "from" is a Python keyword: the field is named by data_key
    from_ = fields.Integer(required=True, data_key="from")
    to = fields.Integer(required=True)
    diff = fields.String(required=True)
    title = fields.Dict(required=True)
    side_by_side = fields.List(fields.Dict(), required=True)


class PreviewOut(Out):
    html = fields.String(required=True)
