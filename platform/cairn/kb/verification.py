"""Ownership and verification (after Guru): published articles stay verified for an interval,
then need their owner to check them again.

The interval is the article's own override, else its space's, else the policy's
``verification.interval_days``. A periodic task calls ``mark_overdue_articles``: it marks each
expired article ``needs_verification_since`` and notifies its owner once per expiry (the space
owner when the article owner was deactivated). Verifying clears the mark.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from cairn import audit, outbox
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Forbidden, RuleViolation
from cairn.extensions import db
from cairn.kb.models import Article, Space
from cairn.models_base import utcnow
from cairn.stream.actions import notify

BATCH = 500


def policy_interval_days() -> int:
    return int(current_app.config["POLICY"]["verification"]["interval_days"])


def interval_days(article: Article) -> int:
    return article.verify_interval_days or article.space.verify_interval_days or policy_interval_days()


def _verified_since(article: Article) -> datetime:
    # imported or legacy rows may lack verified_at: their clock starts at publication
    return article.verified_at or article.published_at or article.created_at


def is_overdue(article: Article, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return now - _verified_since(article) >= timedelta(days=interval_days(article))


def verification_state(article: Article, now: datetime | None = None) -> str:
    """verified | needs_verification | unverified (not published, or never verified)."""
    if article.status != "published":
        return "unverified"
    if article.needs_verification_since is not None:
        return "needs_verification"
    if article.verified_at is None:
        return "unverified"
    return "needs_verification" if is_overdue(article, now) else "verified"


def verification_due(article: Article) -> datetime | None:
    if article.status != "published":
        return None
    return _verified_since(article) + timedelta(days=interval_days(article))


def verify_article(actor: User, article_id: int, now: datetime | None = None) -> Article:
    """The owner (or a curator) confirms the article is still accurate: one click."""
    with db.transaction() as s:
        article = perm.access_article(actor, article_id)
        if article.status != "published":
            raise RuleViolation("Only published articles can be verified.", {"status": ["not published"]})
        if not perm.can_verify_article(actor, article):
            raise Forbidden("Only the owner or a curator can verify.")
        article.verified_at = now or utcnow()
        article.needs_verification_since = None
        audit.record(s, actor.id, "article.verify", f"article:{article.id}")
        outbox.emit(s, "index", doc="article", id=article.id)
    return article


def responsible_owner(article: Article) -> User | None:
    """Who answers for the article: its owner, or its space's owner when the owner is deactivated."""
    if article.owner is not None and article.owner.active:
        return article.owner
    space_owner = article.space.owner
    return space_owner if space_owner is not None and space_owner.active else None


def mark_overdue_articles(now: datetime | None = None) -> dict[str, int]:
    """Mark every expired published article as needing verification and notify its owner once.

    Also clears marks that no longer hold (an interval was lengthened). Safe to run concurrently:
    an article is marked, and its owner notified, only by the run whose conditional UPDATE wins.
    Returns counts: ``marked``, ``notified``, ``cleared``.
    """
    now = now or utcnow()
    counts = {"marked": 0, "notified": 0, "cleared": 0}
    shortest = min(d for d in (policy_interval_days(), _min_override(Article), _min_override(Space)) if d)
    cutoff = now - timedelta(days=shortest)
    since = func.coalesce(Article.verified_at, Article.published_at, Article.created_at)
    candidates = select(Article.id).where(
        Article.status == "published", Article.needs_verification_since.is_(None), since <= cutoff
    ).order_by(Article.id)
    for ids in _batches(list(db.session.scalars(candidates))):
        with db.transaction() as s:
            for article in s.scalars(_fresh(ids)):
                if is_overdue(article, now) and _mark(s, article, now):
                    counts["marked"] += 1
                    counts["notified"] += _notify_owner(s, article)
    marked = select(Article.id).where(Article.needs_verification_since.is_not(None)).order_by(Article.id)
    for ids in _batches(list(db.session.scalars(marked))):
        with db.transaction() as s:
            for article in s.scalars(_fresh(ids)):
                if article.status != "published" or not is_overdue(article, now):
                    article.needs_verification_since = None
                    outbox.emit(s, "index", doc="article", id=article.id)
                    counts["cleared"] += 1
    db.session.rollback()  # end the read transaction the candidate queries opened
    return counts


def _fresh(ids: list[int]):
    return select(Article).where(Article.id.in_(ids)).execution_options(populate_existing=True)


def _min_override(model) -> int | None:
    return db.session.scalar(select(func.min(model.verify_interval_days)))


def _batches(ids: list[int]):
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def _mark(s, article: Article, now: datetime) -> bool:
    won = s.execute(update(Article).where(Article.id == article.id, Article.needs_verification_since.is_(None))
                    .values(needs_verification_since=now).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        return False
    article.needs_verification_since = now
    audit.record(s, None, "article.needs_verification", f"article:{article.id}",
                 interval_days=interval_days(article))
    outbox.emit(s, "index", doc="article", id=article.id)
    return True


def _notify_owner(s, article: Article) -> int:
    owner = responsible_owner(article)
    if owner is None:
        return 0
    notify(s, owner.id, "verification",
           f"“{article.title}” needs verification: check it is still accurate, then verify it.",
           article_id=article.id)
    return 1
