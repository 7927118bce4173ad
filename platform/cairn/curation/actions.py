"""Promotions, the curator's side: from posts in the stream to a reviewed draft article.

``request_promotion`` runs in the web request: it records a queued Promotion and an outbox
event in one transaction and returns at once; the event starts the Celery chain whose steps live
in ``cairn.curation.pipeline`` (``run_promotion`` there runs them all in one process).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cairn import audit, outbox
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.curation.candidates import requeue_uncovered
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
    """Queue a promotion of ``post_ids`` (one post, a thread's chosen posts, or posts of several
    threads) into a new article in a space, or appended to an article; idempotent per set of posts."""
    ids, target, space = check_promotion(actor, post_ids, mode, article_id, space_id)
    try:
        with db.transaction() as s:
            promotion = _add_promotion(s, actor, ids, mode, target, space)
    except IntegrityError:
        existing = db.session.scalar(select(Promotion).where(Promotion.active_key == _key(ids)))
        if existing is None:
            raise
        return existing  # idempotent: the active promotion for these posts
    return promotion


def check_promotion(actor: User, post_ids: list[int], mode: str, article_id: int | None,
                    space_id: int | None) -> tuple[list[int], Article | None, Space]:
    """Raise unless ``actor`` may promote these posts that way: (sorted ids, target article, space)."""
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
        if target.status == "archived":
            raise Invalid("That article is archived.", {"article_id": ["archived articles cannot grow"]})
        space_id = target.space_id
    space = perm.access_space(actor, space_id) if space_id else _default_space(actor)
    return ids, target, space


def _key(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def _add_promotion(s, actor: User, ids: list[int], mode: str, target: Article | None, space: Space) -> Promotion:
    promotion = Promotion(requester_id=actor.id, post_ids=ids, active_key=_key(ids), mode=mode,
                          target_article_id=target.id if target else None, space_id=space.id)
    s.add(promotion)
    s.flush()
    audit.record(s, actor.id, "promotion.request", f"promotion:{promotion.id}", post_ids=ids, mode=mode,
                 article_id=target.id if target else None)
    outbox.emit(s, "promotion", promotion_id=promotion.id)
    return promotion


def append_instead(actor: User, promotion_id: int, article_id: int) -> Promotion:
    """The draft duplicates an article: reject it and append the same posts to that article (a new
    promotion, queued in the same transaction)."""
    perm.require_curator(actor)
    old = access_promotion(actor, promotion_id)
    if old.status != "needs_review":
        raise Conflict(f"A {old.status} promotion has no draft to replace.")
    if article_id == old.article_id:
        raise Invalid("That is this promotion's own draft.", {"article_id": ["choose another article"]})
    ids, target, space = check_promotion(actor, old.post_ids, "append", article_id, None)
    reason = f"Appended to article {target.id} instead."
    with db.transaction() as s:
        # released first: the new promotion takes the same posts' active key
        if not s.execute(update(Promotion).where(Promotion.id == old.id, Promotion.status == "needs_review")
                         .values(status="rejected", step="rejected", error=reason, active_key=None,
                                 updated_at=utcnow())).rowcount:
            raise Conflict("The promotion changed meanwhile; reload it.")
        _archive_draft(s, old.article_id)
        audit.record(s, actor.id, "promotion.reject", f"promotion:{old.id}", reason=reason)
        return _add_promotion(s, actor, ids, "append", target, space)


def _archive_draft(s, article_id: int | None) -> None:
    article = s.get(Article, article_id) if article_id else None
    if article is not None and article.status == "in_review":
        article.status = "archived"
        outbox.emit(s, "index", doc="article", id=article.id)


def editable_articles(actor: User, limit: int = 200) -> list[Article]:
    """The articles ``actor`` may append to (not archived), most recently changed first."""
    rows = db.session.scalars(select(Article).where(perm.visible_articles_clause(actor), Article.status != "archived")
                              .order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit))
    return [a for a in rows if perm.can_edit_article(actor, a)]


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


def promotion_articles(actor: User, promotions: list[Promotion]) -> dict[int, Article]:
    """promotion id -> its article (the draft, or the one it appends to), for the promotions list
    to say what each one is about; an article ``actor`` may not read is left out, not named."""
    ids = {p.article_id for p in promotions if p.article_id}
    if not ids:
        return {}
    readable = {a.id: a for a in db.session.scalars(
        select(Article).where(Article.id.in_(ids), perm.visible_articles_clause(actor)))}
    return {p.id: readable[p.article_id] for p in promotions if p.article_id in readable}


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


class PromotedTo(NamedTuple):
    """An article a post was promoted into, as a post's card and its API form name it."""

    id: int
    title: str
    status: str


def promoted_articles(actor: User, post_ids: list[int]) -> dict[int, list[PromotedTo]]:
    """post id → the articles (that actor may read) it was promoted into: their id, title and
    status only (every page of posts asks; loading whole articles, with their space, people and
    groups, cost more than the query)."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(ArticleSource.post_id, Article.id, Article.title, Article.status)
        .join(Article, Article.id == ArticleSource.article_id)
        .where(ArticleSource.post_id.in_(post_ids), perm.visible_articles_clause(actor))
    ).all()
    found: dict[int, list[PromotedTo]] = {}
    for post_id, article_id, title, status in rows:
        found.setdefault(post_id, []).append(PromotedTo(article_id, title, status))
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
        promotion.updated_at = utcnow()
        _archive_draft(s, promotion.article_id)
        audit.record(s, actor.id, "promotion.reject", f"promotion:{promotion.id}", reason=reason)
        requeue_uncovered(s, actor, promotion, "its promotion was rejected")
    return promotion


def on_article_transition(s, actor: User, article: Article, to: str) -> None:
    """Publishing a promoted draft completes its promotion; source authors hear of every change."""
    if to == "published":
        s.execute(update(Promotion).where(Promotion.article_id == article.id, Promotion.status.in_(ACTIVE))
                  .values(status="done", step="done", active_key=None, updated_at=utcnow()))
    if to in ("published", "archived"):
        notify_source_threads(s, article, f"An article from your thread was {to}: {article.title}",
                              exclude=actor.id)


def on_article_revision(s, actor: User, article: Article) -> None:
    """A new revision of a published article from chat: the people of its threads hear of it."""
    if article.status == "published":
        notify_source_threads(s, article, f"An article from your thread was updated: {article.title}",
                              exclude=actor.id)


kb.transition_listeners.append(on_article_transition)
kb.revision_listeners.append(on_article_revision)
