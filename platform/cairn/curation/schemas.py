"""Promotion input schemas and output shape."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cairn.api.schemas import Id, ListArgs
from cairn.curation.models import STATUSES, Promotion


class PromotionCreate(Schema):
    post_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=50))
    mode = fields.String(load_default="new", validate=validate.OneOf(("new", "append")))
    article_id = Id(load_default=None, allow_none=True)
    space_id = Id(load_default=None, allow_none=True)


class AppendInstead(Schema):
    article_id = Id(required=True)


class TrayItem(Schema):
    post_id = Id(required=True)


class PromoteThreadArgs(Schema):
    thread = Id(load_default=None)


class PromotionArgs(ListArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class PromotionReject(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


def promotion_out(p: Promotion, duplicates: list[dict]) -> dict:
    """``duplicates``: the ones the caller may read (curation.actions.visible_duplicates)."""
    return {
        "id": p.id, "status": p.status, "step": p.step, "post_ids": p.post_ids, "mode": p.mode,
        "article_id": p.article_id, "target_article_id": p.target_article_id, "space_id": p.space_id,
        "findings": p.findings or [], "duplicates": duplicates, "error": p.error,
        "requester_id": p.requester_id, "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }
