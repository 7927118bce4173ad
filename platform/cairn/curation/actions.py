"""The promotion pipeline: from posts in the stream to a reviewed draft article.

``request_promotion`` runs in the web request: it records a queued Promotion and an outbox
event in one transaction and returns at once. ``run_promotion`` runs in a Celery worker: it
snapshots the posts, screens them against the policy, looks for duplicate articles and drafts
the article, all idempotently, so a re-delivered task never makes a second article.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cairn import audit, outbox, search
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.curation.models import ACTIVE, Promotion
from cairn.curation.policy import screen_for_policy
from cairn.errors import Conflict, Forbidden, Invalid, NotFound
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.kb.models import Article, ArticleRevision, ArticleSource, Space
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream.actions import notify
from cairn.stream.models import Post
from cairn.text import hashtags, plain_text, render_markdown

MAX_POSTS = 50


class PromotionBlocked(Exception):
    """The policy forbids this content: the promotion fails with a readable reason."""


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


# --- the worker side --------------------------------------------------------------------------

def _set(promotion_id: int, **values) -> bool:
    """Record progress while the promotion is queued or running; False once it has left them
    (another delivery of the task finished it), so a late delivery cannot set it running again."""
    moved = db.session.execute(update(Promotion).where(Promotion.id == promotion_id,
                                                       Promotion.status.in_(("queued", "running")))
                               .values(updated_at=utcnow(), **values)).rowcount
    db.session.commit()
    return bool(moved)


def _status(s, promotion_id: int) -> str:
    return s.scalar(select(Promotion.status).where(Promotion.id == promotion_id)) or "missing"


def run_promotion(promotion_id: int) -> str:
    """Do the pipeline for one promotion; safe to call again at any point (returns its status)."""
    promotion = db.session.get(Promotion, promotion_id)
    if promotion is None:
        return "missing"
    if promotion.status not in ("queued", "running"):
        return promotion.status
    if not _set(promotion_id, status="running", step="snapshot", attempts=Promotion.attempts + 1):
        return _status(db.session, promotion_id)
    requester = promotion.requester
    posts = _snapshot(requester, promotion.post_ids)
    if not posts:
        raise PromotionBlocked("None of the posts can be read any more.")

    _set(promotion_id, step="screen")
    policy = current_app.config["POLICY"]
    screened, findings, blocked = [], [], []
    for post in posts:
        result = screen_for_policy(post.body, policy, source=f"post:{post.id}")
        screened.append((post, result.text))
        findings += result.findings
        blocked += [f"{rule} (post {post.id})" for rule in result.blocked_by]
    if blocked:
        _set(promotion_id, findings=findings)
        raise PromotionBlocked("Blocked by policy: " + ", ".join(blocked) + ".")

    _set(promotion_id, step="duplicates", findings=findings)
    text = "\n".join(t for _, t in screened)
    duplicates = search.similar_articles(requester, text, limit=5)

    _set(promotion_id, step="draft", duplicates=duplicates)
    return _draft(promotion_id, requester, screened, findings)


def _snapshot(requester: User, post_ids: list[int]) -> list[Post]:
    """The selected posts the requester can still read; a lone thread root brings its replies."""
    posts = [p for p in db.session.scalars(select(Post).where(Post.id.in_(post_ids)).order_by(Post.id))
             if perm.can_read_post(requester, p)]
    if len(posts) == 1 and posts[0].parent_id is None:
        # a reply hidden by a moderator broke a rule: it is not knowledge
        posts += list(db.session.scalars(select(Post).where(
            Post.parent_id == posts[0].id, Post.deleted_at.is_(None), Post.hidden_at.is_(None)
        ).order_by(Post.id)))
    return posts


def _compose(screened: list[tuple[Post, str]]) -> str:
    parts = []
    root = screened[0][0]
    parts.append(screened[0][1])
    if len(screened) > 1:
        parts.append("\n## Answers from the discussion\n")
        for post, text in screened[1:]:
            parts.append(f"{text}\n\n*— {post.author.display_name}, [post {post.id}](/posts/{post.id})*\n")
    parts.append(f"\n---\n*Promoted from [#{root.channel.name}](/posts/{root.id}); "
                 f"originally asked by {root.author.display_name}.*")
    return "\n\n".join(parts)


def suggest_title(text: str) -> str:
    first = plain_text(text.strip().splitlines()[0] if text.strip() else "Untitled", 120)
    return first[:1].upper() + first[1:] if first else "Untitled"


def _draft(promotion_id: int, requester: User, screened: list[tuple[Post, str]],
           findings: list[dict]) -> str:
    """Create (or append to) the article and move the promotion on, in ONE transaction."""
    with db.transaction() as s:
        # Claim the promotion with a write before reading it: a concurrent delivery of the same
        # task waits here (row lock on PostgreSQL, write lock on SQLite) and then matches nothing.
        # A SELECT ... FOR UPDATE is not enough: SQLite ignores it, and the session's identity map
        # would answer with the Promotion loaded before the wait, still "running".
        claimed = s.execute(update(Promotion).where(Promotion.id == promotion_id, Promotion.status == "running")
                            .values(updated_at=utcnow())).rowcount
        if not claimed:
            return _status(s, promotion_id)
        promotion = s.scalars(select(Promotion).where(Promotion.id == promotion_id)
                              .execution_options(populate_existing=True)).one()
        body = _compose(screened)
        tags = sorted(set(sum((hashtags(p.body) for p, _ in screened), [])) | {screened[0][0].channel.name})
        if promotion.mode == "append" and promotion.target_article_id:
            article = s.get(Article, promotion.target_article_id)
            if article is None:
                raise PromotionBlocked("The article to append to no longer exists.")
            article.body = f"{article.body}\n\n{body}"
            article.html = render_markdown(article.body)
            article.revision += 1
            article.updated_at = utcnow()
            s.add(ArticleRevision(article_id=article.id, number=article.revision, title=article.title,
                                  body=article.body, tags=article.tags, author_id=requester.id,
                                  note=f"Appended from promotion {promotion.id}"))
            outbox.emit(s, "index", doc="article", id=article.id)
            status = "done"
        else:
            space = s.get(Space, promotion.space_id)
            if space is None:
                raise PromotionBlocked("The target space no longer exists.")
            article = kb.draft_article(s, requester, space, suggest_title(screened[0][1]), body, tags,
                                       status="in_review", note=f"Drafted from promotion {promotion.id}")
            status = "needs_review"
        for post, _ in screened:
            if not s.scalar(select(ArticleSource.id).where(ArticleSource.article_id == article.id,
                                                            ArticleSource.post_id == post.id)):
                s.add(ArticleSource(article_id=article.id, post_id=post.id, promotion_id=promotion.id))
        promotion.status, promotion.step, promotion.article_id = status, status, article.id
        promotion.updated_at = utcnow()
        if status == "done":
            promotion.active_key = None
        notify(s, requester.id, "promotion",
               f"Your promotion is ready for review: {article.title}"[:300] if status == "needs_review"
               else f"Posts appended to {article.title}"[:300],
               article_id=article.id, promotion_id=promotion.id)
        audit.record(s, requester.id, "promotion.draft", f"promotion:{promotion.id}",
                     article_id=article.id, redactions=len(findings))
        return status


def fail_promotion(promotion_id: int, error: str) -> None:
    db.session.rollback()  # the failed step may have left the session mid-transaction
    with db.transaction() as s:
        promotion = s.get(Promotion, promotion_id)
        if promotion is None or promotion.status not in ("queued", "running"):
            return
        promotion.status, promotion.error, promotion.active_key = "failed", error[:2000], None
        promotion.updated_at = utcnow()
        notify(s, promotion.requester_id, "promotion", f"Promotion {promotion.id} failed: {error}"[:300],
               promotion_id=promotion.id)
        audit.record(s, None, "promotion.fail", f"promotion:{promotion.id}", error=error[:500])


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
        kb.notify_source_authors(s, article, f"An article from your posts was {to}: {article.title}"[:300],
                                 exclude=actor.id)


kb.transition_listeners.append(on_article_transition)
