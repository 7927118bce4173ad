"""Knowledge-base input schemas (one per operation) and output shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cairn.api.schemas import Id, ListArgs
from cairn.auth.schemas import user_out
from cairn.kb.actions import verification_state
from cairn.kb.models import STATUSES, Article, ArticleRevision, Space

TAG = fields.String(validate=validate.Regexp(r"^[\w\-]{1,40}$", error="letters, digits, - and _"))


class SpaceCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    groups = fields.List(Id(), load_default=list, validate=validate.Length(max=100))


class SpaceUpdate(Schema):
    description = fields.String(validate=validate.Length(max=500))
    groups = fields.List(Id(), validate=validate.Length(max=100))


class ArticleCreate(Schema):
    space_id = Id(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(load_default="", validate=validate.Length(max=200_000))
    tags = fields.List(TAG, load_default=list, validate=validate.Length(max=30))
    groups = fields.List(Id(), load_default=list, validate=validate.Length(max=100))


class ArticleUpdate(Schema):
    revision = Id(required=True, metadata={"description": "the revision the edit is based on"})
    title = fields.String(validate=validate.Length(min=1, max=200))
    body = fields.String(validate=validate.Length(max=200_000))
    tags = fields.List(TAG, validate=validate.Length(max=30))
    groups = fields.List(Id(), validate=validate.Length(max=100))
    note = fields.String(load_default="", validate=validate.Length(max=300))


class ArticleArgs(ListArgs):
    space_id = Id(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class Transition(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = fields.String(load_default="", validate=validate.Length(max=300))


class DiffArgs(Schema):
    from_ = Id(required=True, data_key="from")
    to = Id(required=True)


def space_out(space: Space) -> dict:
    return {"id": space.id, "name": space.name, "description": space.description,
            "owner": user_out(space.owner) if space.owner else None,
            "groups": sorted(space.group_ids)}


def article_out(article: Article, full: bool = True) -> dict:
    out = {
        "id": article.id, "space_id": article.space_id, "slug": article.slug, "title": article.title,
        "status": article.status, "revision": article.revision, "tags": article.tag_list,
        "owner": user_out(article.owner), "author": user_out(article.author),
        "verified_at": article.verified_at.isoformat() if article.verified_at else None,
        "verification": verification_state(article),
        "groups": sorted(article.group_ids),
        "updated_at": article.updated_at.isoformat(),
        "sources": [{"post_id": s.post_id, "promotion_id": s.promotion_id} for s in article.sources],
    }
    if full:
        out.update(body=article.body, html=article.html)
    return out


def article_revision_out(rev: ArticleRevision, full: bool = False) -> dict:
    out = {"number": rev.number, "title": rev.title, "author": user_out(rev.author), "note": rev.note,
           "created_at": rev.created_at.isoformat()}
    if full:
        out.update(body=rev.body, tags=rev.tags.split())
    return out
