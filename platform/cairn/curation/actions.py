"""Promotions, the curator's side: from posts in the stream to a reviewed draft article.

``request_promotion`` runs in the web request: it records a queued Promotion and an outbox
event in one transaction and returns at once; the event starts the Celery chain whose steps live
in ``cairn.curation.pipeline`` (``run_promotion`` there runs them all in one process).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cairn import audit, outbox
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.curation.models import ACTIVE, Promotion
from cairn.curation.pipeline import (
    PromotionBlocked,
    fail_promotion,
    notify_source_threads,
    run_promotion,
)
from cairn.errors import Conflict, Forbidden, Invalid, NotFound
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.kb.models import Article, ArticleSource, Space
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor

MAX_POSTS = 50

__all__ = ["PromotionBlocked", "fail_promotion", "run_promotion"]  # the worker side, for callers of actions


def request_promotion(actor: User, post_ids: list[int], mode: str = "new", article_id: int | None = None,
                      space_id: int | None = None) -> Promotion:
    if not actor.is_curator:
        raise Forbidden("Only curators can promote posts.")
    ids = sorted(set(post_ids))
    if not ids or len(ids) > MAX_POSTS:
        raise Invalid("Choose between 1 and 50 posts.", {"post_ids": [f"1 to {MAX_POSTS} post ids"]})
    if mode not in ("new", "append"):
        raise Invalid("Unknown mode.", {"mode": ["new or append"]})
    for pid in ids:
        post = perm.access_post(actor, pid)
        if not perm.can_promote(actor, post):
            raise Forbidden("You cannot promote this post.")
    target = None
    if mode == "append":
        if article_id is None:
            raise Invalid("Appending needs an article.", {"article_id": ["required when mode is append"]})
        target = perm.access_article(actor, article_id)
        if not perm.can_edit_article(actor, target):
            raise Forbidden("You cannot edit that article.")
        space_id = target.space_id
    space = perm.access_space(actor, space_id) if space_id else _default_space(actor)
    key = ",".join(map(str, ids))
    try:
        with db.transaction() as s:
            promotion = Promotion(requester_id=actor.id, post_ids=ids, active_key=key, mode=mode,
                                  target_article_id=target.id if target else None, space_id=space.id)
            s.add(promotion)
            s.flush()
            audit.record(s, actor.id, "promotion.request", f"promotion:{promotion.id}", post_ids=ids, mode=mode)
            outbox.emit(s, "promotion", promotion_id=promotion.id)
    except IntegrityError:
        existing = db.session.scalar(select(Promotion).where(Promotion.active_key == key))
        if existing is None:
            raise
        return existing  # idempotent: the active promotion for these posts
    return promotion


def _default_space(actor: User) -> Space:
    spaces = kb.list_spaces(actor)
    if not spaces:
        raise Invalid("Create a space first: a promoted article needs one.", {"space_id": ["no space"]})
    return spaces[0]


def access_promotion(actor: User, promotion_id: int) -> Promotion:
    promotion = db.session.get(Promotion, promotion_id)
    if promotion is None or not perm.can_see_promotion(actor, promotion):
        raise NotFound("Promotion not found.")
    return promotion


def visible_duplicates(actor: User, promotion: Promotion) -> list[dict]:
    """The possible duplicates found with the requester's access, minus those ``actor`` may not read."""
    found = promotion.duplicates or []
    articles = db.session.scalars(select(Article.id).where(
        Article.id.in_([d["id"] for d in found]), perm.visible_articles_clause(actor))) if found else []
    readable = set(articles)
    return [d for d in found if d["id"] in readable]


def list_promotions(actor: User, status: str | None = None, cursor: str | None = None,
                    limit: int = 50) -> tuple[list[Promotion], str | None]:
    perm.require_curator(actor)
    q = select(Promotion).order_by(Promotion.id.desc()).limit(limit + 1)
    if status:
        q = q.where(Promotion.status == status)
    after = decode_cursor(cursor)
    below = after[0] if after else None
    items: list[Promotion] = []
    while len(items) <= limit:  # skip the promotions hidden from the actor, keep the page full
        batch = list(db.session.scalars(q.where(Promotion.id < below) if below is not None else q))
        items += [p for p in batch if perm.can_see_promotion(actor, p)]
        if len(batch) <= limit:
            break
        below = batch[-1].id
    return items[:limit], (encode_cursor(items[limit - 1].id) if len(items) > limit else None)


def promoted_articles(actor: User, post_ids: list[int]) -> dict[int, list[Article]]:
    """post id → the articles (that actor may read) it was promoted into."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(ArticleSource.post_id, Article).join(Article, Article.id == ArticleSource.article_id)
        .where(ArticleSource.post_id.in_(post_ids), perm.visible_articles_clause(actor))
    ).all()
    found: dict[int, list[Article]] = {}
    for post_id, article in rows:
        found.setdefault(post_id, []).append(article)
    return found


def reject_promotion(actor: User, promotion_id: int, reason: str) -> Promotion:
    perm.require_curator(actor)
    if not reason.strip():
        raise Invalid("Say why the promotion is rejected.", {"reason": ["must not be empty"]})
    with db.transaction() as s:
        promotion = access_promotion(actor, promotion_id)
        if promotion.status != "needs_review":
            raise Conflict(f"A {promotion.status} promotion cannot be rejected.")
        promotion.status, promotion.step, promotion.error, promotion.active_key = "rejected", "rejected", reason, None
        if promotion.article_id:
            article = s.get(Article, promotion.article_id)
            if article is not None and article.status == "in_review":
                article.status = "archived"
                outbox.emit(s, "index", doc="article", id=article.id)
        audit.record(s, actor.id, "promotion.reject", f"promotion:{promotion.id}", reason=reason)
    return promotion


def on_article_transition(s, actor: User, article: Article, to: str) -> None:
    """Publishing a promoted draft completes its promotion; source authors hear of every change."""
    if to == "published":
        s.execute(update(Promotion).where(Promotion.article_id == article.id, Promotion.status.in_(ACTIVE))
                  .values(status="done", step="done", active_key=None, updated_at=utcnow()))
    if article.sources and to in ("published", "archived"):
        notify_source_threads(s, article, f"An article from your thread was {to}: {article.title}",
                              exclude=actor.id)


def on_article_revision(s, actor: User, article: Article) -> None:
    """A new revision of a published article from chat: the people of its threads hear of it."""
    if article.status == "published" and article.sources:
        notify_source_threads(s, article, f"An article from your thread was updated: {article.title}",
                              exclude=actor.id)


kb.transition_listeners.append(on_article_transition)
kb.revision_listeners.append(on_article_revision)
