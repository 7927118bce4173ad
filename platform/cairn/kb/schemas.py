"""Knowledge-base input schemas (one per operation) and output shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from cairn.api.schemas import Id, ListArgs
from cairn.auth.schemas import user_out
from cairn.kb.article_templates import ArticleTemplate
from cairn.kb.flags import FLAG_STATES
from cairn.kb.models import FLAG_KINDS, STATUSES, Article, ArticleFlag, ArticleRevision, Space
from cairn.kb.verification import interval_days, verification_due, verification_state

TAG = fields.String(validate=validate.Regexp(r"^[\w\-]{1,40}$", error="letters, digits, - and _"))


class SpaceCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    groups = fields.List(Id(), load_default=list, validate=validate.Length(max=100))


class SpaceUpdate(Schema):
    description = fields.String(validate=validate.Length(max=500))
    groups = fields.List(Id(), validate=validate.Length(max=100))
    owner_id = Id()
    verify_interval_days = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=3650),
        metadata={"description": "days a verification lasts in this space; null: the policy's default"})

    @pre_load
    def _blank_is_none(self, data, **kwargs):
        # an HTML form sends "" for "no override"
        if isinstance(data, dict) and data.get("verify_interval_days") == "":
            data = {**data, "verify_interval_days": None}
        return data


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
    view = fields.String(load_default="inline", validate=validate.OneOf(("inline", "side")))


class RevisionRestore(Schema):
    revision = Id(required=True, metadata={"description": "the article's current revision (409 when stale)"})
    note = fields.String(load_default="", validate=validate.Length(max=300))


class ArticleFlagCreate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(FLAG_KINDS))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class ArticleFlagArgs(ListArgs):
    state = fields.String(load_default="open", validate=validate.OneOf(FLAG_STATES))
    article_id = Id(load_default=None)


class ArticleFlagResolve(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))


def space_out(space: Space) -> dict:
    return {"id": space.id, "name": space.name, "description": space.description,
            "owner": user_out(space.owner) if space.owner else None,
            "groups": sorted(space.group_ids), "verify_interval_days": space.verify_interval_days}


def article_out(article: Article, full: bool = True) -> dict:
    out = {
        "id": article.id, "space_id": article.space_id, "slug": article.slug, "title": article.title,
        "status": article.status, "revision": article.revision, "tags": article.tag_list,
        "owner": user_out(article.owner), "author": user_out(article.author),
        "verified_at": article.verified_at.isoformat() if article.verified_at else None,
        "verification": verification_state(article),
        "verification_due": _iso(verification_due(article)),
        "needs_verification_since": _iso(article.needs_verification_since),
        "verify_interval_days": interval_days(article),
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


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def flag_out(flag: ArticleFlag) -> dict:
    return {"id": flag.id, "article_id": flag.article_id, "article_title": flag.article.title,
            "kind": flag.kind, "comment": flag.comment,
            "reporter": user_out(flag.reporter) if flag.reporter else None,
            "created_at": flag.created_at.isoformat(), "state": "resolved" if flag.resolved_at else "open",
            "resolved_at": _iso(flag.resolved_at), "resolver": user_out(flag.resolver) if flag.resolver else None,
            "resolution": flag.resolution}


def template_out(template: ArticleTemplate) -> dict:
    return template.as_dict()
