"""Which threads a promotion or an article covers: their candidates are marked promoted (at once,
by the listeners below in the promotion's own transaction, and again at every scoring run), and
return to the queue when the promotion that covered them is rejected or fails."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, or_, select, update

from cairn import audit
from cairn.auth.models import User
from cairn.curation.candidate_models import Candidate
from cairn.curation.models import Promotion
from cairn.extensions import db
from cairn.kb.models import ArticleSource
from cairn.models_base import utcnow
from cairn.stream.models import Post

UNCOVERING = ("failed", "rejected")  # promotions that leave their posts' threads to the queue


def _covering_post_ids(among: set[int] | None = None) -> set[int]:
    """Posts (of ``among``, or all) that a promotion (any but a failed or rejected one) or an
    article source covers. A rejected promotion's draft is archived but keeps its sources: they
    cover nothing."""
    q = (select(ArticleSource.post_id).outerjoin(Promotion, Promotion.id == ArticleSource.promotion_id)
         .where(or_(Promotion.id.is_(None), Promotion.status != "rejected")))
    post_ids: set[int] = set()
    for chunk in ([None] if among is None else _chunks(sorted(among), 500)):
        post_ids.update(db.session.scalars(q if chunk is None else q.where(ArticleSource.post_id.in_(chunk))))
    for ids in db.session.scalars(select(Promotion.post_ids).where(Promotion.status.not_in(UNCOVERING))):
        post_ids.update(ids or [])
    return post_ids if among is None else post_ids & among


def _roots_of(post_ids: set[int]) -> set[int]:
    roots = set()
    for chunk in _chunks(sorted(post_ids), 500):
        for pid, parent_id in db.session.execute(select(Post.id, Post.parent_id).where(Post.id.in_(chunk))):
            roots.add(parent_id or pid)
    return roots


def covered_roots() -> set[int]:
    """Thread roots a promotion (any but a failed or rejected one) or an article source covers."""
    return _roots_of(_covering_post_ids())


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i: i + size]


def _mark_promoted(connection, post_ids: list[int]) -> None:
    if not post_ids:
        return
    parents = select(Post.parent_id).where(Post.id.in_(post_ids), Post.parent_id.is_not(None))
    connection.execute(update(Candidate)
                       .where(or_(Candidate.post_id.in_(post_ids), Candidate.post_id.in_(parents)),
                              Candidate.status != "promoted")
                       .values(status="promoted", promoted_at=utcnow()))


def requeue_uncovered(s, actor: User | None, promotion: Promotion, reason: str) -> list[int]:
    """A rejected or failed promotion no longer covers its threads: their promoted candidates go
    back to the queue (or to the dismissed list, if a curator had dismissed them before), unless
    another promotion or an article still covers the thread. In the rejection's (failure's)
    transaction; audited with ``reason``."""
    roots = _roots_of(set(promotion.post_ids or []))
    if not roots:
        return []
    thread_posts = set(s.scalars(select(Post.id).where(or_(Post.id.in_(roots), Post.parent_id.in_(roots)))))
    still_covered = _roots_of(_covering_post_ids(thread_posts)) if thread_posts else set()
    requeued = []
    for c in s.scalars(select(Candidate).where(Candidate.post_id.in_(roots - still_covered),
                                               Candidate.status == "promoted")
                       .execution_options(populate_existing=True)):
        c.status, c.promoted_at = ("dismissed" if c.dismissed_at else "open"), None
        audit.record(s, actor.id if actor else None, "candidate.requeue", f"candidate:{c.id}", post_id=c.post_id,
                     promotion_id=promotion.id, status=c.status, reason=reason)
        requeued.append(c.id)
    return requeued


@event.listens_for(Promotion, "after_insert")
def _promotion_requested(_mapper, connection, promotion: Promotion) -> None:
    _mark_promoted(connection, list(promotion.post_ids or []))


@event.listens_for(ArticleSource, "after_insert")
def _article_source_added(_mapper, connection, source: ArticleSource) -> None:
    _mark_promoted(connection, [source.post_id])
