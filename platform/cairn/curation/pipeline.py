"""The promotion pipeline's steps, run by a Celery chain: snapshot → screen → duplicates → draft → notify.

``start_promotion`` claims a queued promotion (or takes over one whose chain went quiet) and says
which steps are left; the worker then chains one task per step. Each step takes the promotion id,
reads what the earlier steps stored on the Promotion, does its work and stores its result with an
audit event in ONE transaction guarded by a conditional UPDATE, so a step that runs twice (a
redelivery after SIGKILL, two chains after a redispatch) does its work at most once. A promotion
that is not ``running`` any more makes every later step a no-op: that is how a failure stops the
chain. The last step marks the outbox event that started the chain processed, in its transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import defaultload, joinedload, lazyload

from cairn import audit, outbox, search
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.curation.candidates import requeue_uncovered
from cairn.curation.models import Promotion
from cairn.curation.policy import screen_for_policy
from cairn.extensions import commit_without_flush_wait, db
from cairn.kb import actions as kb
from cairn.kb.models import Article, ArticleSource, Space
from cairn.models_base import utcnow
from cairn.stream.actions import notify
from cairn.stream.models import Channel, Post
from cairn.text import hashtags, plain_text

STEPS = ("snapshot", "screen", "duplicates", "draft", "notify")
MAX_RUNS = 5  # chains started for one promotion (the first + takeovers) before it is failed
# A step's UPDATE does not also update the Promotion objects in the session (SQLAlchemy's
# "evaluate" costs ~0.2 ms of CPU an UPDATE): every step reloads the row it works on (``_load``).
UNSYNCED = {"synchronize_session": False}


class PromotionBlocked(Exception):
    """The policy forbids this content (or its posts are gone): the promotion fails with a readable reason."""


def _target(promotion_id: int) -> str:
    return f"promotion:{promotion_id}"


def _load(promotion_id: int, fresh: bool = True) -> Promotion | None:
    if fresh:
        db.session.rollback()  # read what is committed now, not what this session saw before
    # the requester's groups load when a step reads them (snapshot, duplicates), not for every step
    return db.session.get(Promotion, promotion_id, populate_existing=True,
                          options=[defaultload(Promotion.requester).lazyload(User.groups)])


def _async_commit(s) -> None:
    """The claim and the first three steps commit without waiting for the WAL flush: a crash of
    the database server (not of a worker) may lose their last results, and a step that finds an
    earlier one undone leaves it to the takeover after the lease (``run_step``). The draft and
    the notification commit durably, and flush every earlier step's commit with them."""
    commit_without_flush_wait(s)


def _status(promotion_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(select(Promotion.status).where(Promotion.id == promotion_id)) or "missing"


def remaining_steps(p: Promotion) -> list[str]:
    """The steps whose results are not stored yet (the order never changes)."""
    done = {"snapshot": p.snapshot is not None, "screen": p.screened is not None,
            "duplicates": p.duplicates_checked_at is not None, "draft": p.article_id is not None}
    return [name for name in STEPS if not done.get(name, False)]


def lease_seconds() -> int:
    """How long a running promotion's chain may stay silent before a redelivered start takes over."""
    return int(current_app.config["CAIRN"].get("promotion_lease_seconds", 120))


def start_promotion(promotion_id: int, event_id: int | None = None, fresh: bool = True) -> tuple[str, list[str]]:
    """Claim the promotion for a chain: ("start", steps left) or (its status, []) to do nothing.

    A queued promotion is claimed; a running one is taken over only when its last sign of life is
    older than the lease (its chain was lost: worker killed, broker down between two steps);
    otherwise a chain is on it and this delivery does nothing. ``fresh=False``: go on in the
    transaction that just read the event (``event_payload``) instead of starting another.
    """
    p = _load(promotion_id, fresh)
    if p is None:
        return "missing", []
    if p.status not in ("queued", "running"):
        return p.status, []
    if p.status == "running" and p.updated_at > utcnow() - timedelta(seconds=lease_seconds()):
        return "running", []
    if p.attempts >= MAX_RUNS:
        raise PromotionBlocked(f"The promotion was interrupted {p.attempts} times (last in the "
                               f"{p.step} step); giving up.")
    steps = remaining_steps(p)
    with db.transaction() as s:
        _async_commit(s)
        # attempts is the version: of two deliveries that read the same row, one claims it
        claimed = s.execute(update(Promotion).where(Promotion.id == promotion_id, Promotion.attempts == p.attempts,
                                                    Promotion.status.in_(("queued", "running")))
                            .values(status="running", step=steps[0], attempts=p.attempts + 1,
                                    updated_at=utcnow()), execution_options=UNSYNCED).rowcount
        if not claimed:
            return "running", []
        audit.record(s, None, "promotion.start", _target(promotion_id), attempt=p.attempts + 1, steps=steps)
        if event_id is not None:  # the chain is its delivery: no redispatch while it has a fair chance
            s.execute(update(outbox.OutboxEvent).where(outbox.OutboxEvent.id == event_id)
                      .values(dispatched_at=utcnow()), execution_options=UNSYNCED)
    return "start", steps


def run_step(name: str, promotion_id: int, event_id: int | None = None) -> str:
    """Run one step if the promotion still runs; returns the promotion's status afterwards."""
    p = _load(promotion_id)
    if p is None:
        return "missing"
    if p.status != "running":
        return p.status  # failed, rejected or finished by another delivery: the chain stops here
    left = remaining_steps(p)
    if name not in left:
        return p.status  # done by an earlier delivery
    if left[0] != name:
        # an earlier step's result is not there (lost with the database server's last commits):
        # this chain stops; the takeover after the lease starts again from that step
        return p.status
    # a step that stored its result knows the status it left; one that found its work done by
    # another delivery (None) reads it
    return _STEPS[name](p, event_id) or _status(promotion_id)


def run_promotion(promotion_id: int) -> str:
    """Every step in this process, in order (eager mode, scripts, tests); returns the status."""
    state, steps = start_promotion(promotion_id)
    if state != "start":
        return state
    try:
        for name in steps:
            run_step(name, promotion_id)
    except PromotionBlocked as blocked:
        fail_promotion(promotion_id, str(blocked))
    return _status(promotion_id)


def _store(s, promotion_id: int, guard, **values) -> bool:
    """Write a step's result unless another delivery stored it first (``guard``: its column is unset).

    The same write moves ``step`` on to the next step (what the page shows as running) and
    ``updated_at`` (the chain's sign of life): one commit per step."""
    return bool(s.execute(update(Promotion).where(Promotion.id == promotion_id, Promotion.status == "running", guard)
                          .values(updated_at=utcnow(), **values), execution_options=UNSYNCED).rowcount)


# --- the steps --------------------------------------------------------------------------------

# reactions, the authors' groups and a channel's members load when read (the members: only for a
# private channel), not with every snapshot
_SNAPSHOT_LOAD = (lazyload(Post.reactions), joinedload(Post.author).lazyload(User.groups),
                  joinedload(Post.channel).lazyload(Channel.members))


def snapshot_posts(requester: User, post_ids: list[int]) -> list[Post]:
    """The selected posts the requester can still read; a lone thread root brings its replies."""
    chosen = Post.id.in_(post_ids)
    if len(post_ids) == 1:
        # the replies come in the same query, kept only if the post is a readable thread root;
        # a reply hidden by a moderator broke a rule: it is not knowledge
        chosen |= (Post.parent_id == post_ids[0]) & Post.deleted_at.is_(None) & Post.hidden_at.is_(None)
    found = list(db.session.scalars(select(Post).options(*_SNAPSHOT_LOAD).where(chosen).order_by(Post.id)))
    posts = [p for p in found if p.id in post_ids and perm.can_read_post(requester, p)]
    if len(posts) == 1 and posts[0].parent_id is None:
        if len(post_ids) == 1:
            posts += [p for p in found if p.parent_id == posts[0].id]
        else:  # one readable root among several chosen posts: its replies were not asked for above
            posts += list(db.session.scalars(select(Post).options(*_SNAPSHOT_LOAD).where(
                Post.parent_id == posts[0].id, Post.deleted_at.is_(None), Post.hidden_at.is_(None)
            ).order_by(Post.id)))
    return posts


def _snapshot(p: Promotion, _event_id: int | None) -> str | None:
    posts = snapshot_posts(p.requester, p.post_ids)
    if not posts:
        raise PromotionBlocked("None of the posts can be read any more.")
    taken = [{"id": post.id, "parent_id": post.parent_id, "author_id": post.author_id,
              "author": post.author.display_name, "channel_id": post.channel_id, "channel": post.channel.name,
              "body": post.body, "created_at": post.created_at.isoformat()} for post in posts]
    with db.transaction() as s:
        _async_commit(s)
        if not _store(s, p.id, Promotion.snapshot.is_(None), snapshot=taken, step="screen"):
            return None
        audit.record(s, p.requester_id, "promotion.snapshot", _target(p.id), posts=[t["id"] for t in taken])
    return "running"


def _screen(p: Promotion, _event_id: int | None) -> str | None:
    policy = current_app.config["POLICY"]
    texts, findings, blocked = [], [], []
    for post in p.snapshot:
        result = screen_for_policy(post["body"], policy, source=f"post:{post['id']}")
        texts.append(result.text)
        findings += result.findings
        blocked += [f"{rule} (post {post['id']})" for rule in result.blocked_by]
    with db.transaction() as s:
        _async_commit(s)
        if blocked:
            # the findings stay for the curator to see; the text is not kept
            if _store(s, p.id, Promotion.screened.is_(None), findings=findings):
                audit.record(s, p.requester_id, "promotion.screen", _target(p.id),
                             redactions=len(findings), blocked=blocked)
        elif _store(s, p.id, Promotion.screened.is_(None), screened=texts, findings=findings, step="duplicates"):
            audit.record(s, p.requester_id, "promotion.screen", _target(p.id), redactions=len(findings),
                         kinds=sorted({f["kind"] for f in findings}))
        else:
            return None
    if blocked:
        raise PromotionBlocked("Blocked by policy: " + ", ".join(blocked) + ".")
    return "running"


def _duplicates(p: Promotion, _event_id: int | None) -> str | None:
    found = search.similar_articles(p.requester, "\n".join(p.screened), limit=5)
    with db.transaction() as s:
        _async_commit(s)
        if not _store(s, p.id, Promotion.duplicates_checked_at.is_(None), duplicates=found,
                      duplicates_checked_at=utcnow(), step="draft"):
            return None
        audit.record(s, p.requester_id, "promotion.duplicates", _target(p.id), articles=[d["id"] for d in found])
    return "running"


def compose(snapshot: list[dict], texts: list[str]) -> str:
    """The article body: the question, then the answers, each attributed and linked to its post."""
    root, parts = snapshot[0], [texts[0]]
    if len(snapshot) > 1:
        parts.append("\n## Answers from the discussion\n")
        for post, text in zip(snapshot[1:], texts[1:]):
            parts.append(f"{text}\n\n*— {post['author']}, [post {post['id']}](/posts/{post['id']})*\n")
    parts.append(f"\n---\n*Promoted from [#{root['channel']}](/posts/{root['id']}); "
                 f"originally asked by {root['author']}.*")
    return "\n\n".join(parts)


REDACTION_MARK_RE = re.compile(r"\[REDACTED:[a-z_]+\]")
QUESTION_RE = re.compile(r"^(.{12,}?[?])(\s|$)")


def suggest_title(text: str) -> str:
    """The question's first line without redaction markers, cut after its first question mark."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    first = " ".join(plain_text(REDACTION_MARK_RE.sub("", line), 200).split())
    asked = QUESTION_RE.match(first)
    first = (asked.group(1) if asked else first)[:120].rstrip()
    return first[:1].upper() + first[1:] if first else "Untitled"


def _draft(p: Promotion, _event_id: int | None) -> str | None:
    """Create (or append to) the article, in ONE transaction with the promotion's article_id."""
    requester = p.requester
    with db.transaction() as s:
        # Claim with a write before anything else: a concurrent delivery waits here (row lock on
        # PostgreSQL, the write lock on SQLite) and then matches nothing.
        if not _store(s, p.id, Promotion.article_id.is_(None)):
            return None
        body = compose(p.snapshot, p.screened)
        tags = sorted({t for text in p.screened for t in hashtags(text)} | {p.snapshot[0]["channel"]})
        if p.mode == "append" and p.target_article_id:
            article = s.get(Article, p.target_article_id)
            if article is None or article.status == "archived":
                raise PromotionBlocked("The article to append to no longer exists or is archived.")
            _add_sources(s, article.id, p)  # first: the revision's listeners tell the source threads
            kb.save_revision(s, requester, article, body=f"{article.body}\n\n{body}",
                             note=f"Appended from promotion {p.id}")
        else:
            # not its owner's groups (a query): the draft needs only the space's own groups
            space = s.get(Space, p.space_id, options=[defaultload(Space.owner).lazyload(User.groups)]) \
                if p.space_id else None
            if space is None:
                raise PromotionBlocked("The target space no longer exists.")
            article = kb.draft_article(s, requester, space, suggest_title(p.screened[0]), body, tags,
                                       status="in_review", note=f"Drafted from promotion {p.id}")
        _add_sources(s, article.id, p, new=p.mode != "append")
        s.execute(update(Promotion).where(Promotion.id == p.id).values(article_id=article.id, step="notify"),
                  execution_options=UNSYNCED)
        audit.record(s, p.requester_id, "promotion.draft", _target(p.id), article_id=article.id,
                     mode=p.mode, redactions=len(p.findings or []))
    return "running"


def _add_sources(s, article_id: int, p: Promotion, new: bool = False) -> None:
    """Link the article to the snapshot's posts it is not linked to yet (a new article: none)."""
    known = set() if new else set(s.scalars(select(ArticleSource.post_id)
                                            .where(ArticleSource.article_id == article_id)))
    for post in p.snapshot:
        if post["id"] not in known:
            s.add(ArticleSource(article_id=article_id, post_id=post["id"], promotion_id=p.id))
    s.flush()


def _notify(p: Promotion, event_id: int | None) -> str | None:
    """Hand the draft to the curator (or finish an append) and close the outbox event."""
    final = "done" if p.mode == "append" else "needs_review"
    with db.transaction() as s:
        values = {"status": final, "step": final, **({"active_key": None} if final == "done" else {})}
        if not s.execute(update(Promotion).where(Promotion.id == p.id, Promotion.status == "running",
                                                 Promotion.article_id.is_not(None))
                         .values(updated_at=utcnow(), **values), execution_options=UNSYNCED).rowcount:
            return None
        # the title only: loading the Article would bring its space, people, groups and sources
        title = s.scalar(select(Article.title).where(Article.id == p.article_id)) or f"article {p.article_id}"
        notify(s, p.requester_id, "promotion",
               f"Your promotion is ready for review: {title}" if final == "needs_review"
               else f"Posts appended to {title}", article_id=p.article_id, promotion_id=p.id)
        audit.record(s, p.requester_id, "promotion.notify", _target(p.id), status=final, article_id=p.article_id)
        if event_id is not None:
            mark_event_processed(s, event_id)
    return final


_STEPS: dict[str, Callable[[Promotion, int | None], str | None]] = {
    "snapshot": _snapshot, "screen": _screen, "duplicates": _duplicates, "draft": _draft, "notify": _notify}


def event_payload(event_id: int) -> dict | None:
    """The payload of an outbox event not processed yet (None once it is, or when it is gone).

    The read's transaction stays open: ``start_promotion(..., fresh=False)`` goes on in it."""
    db.session.rollback()
    row = db.session.execute(select(outbox.OutboxEvent.payload, outbox.OutboxEvent.processed_at)
                             .where(outbox.OutboxEvent.id == event_id)).first()
    return dict(row.payload) if row is not None and row.processed_at is None else None


def mark_event_processed(s, event_id: int) -> None:
    s.execute(update(outbox.OutboxEvent).where(outbox.OutboxEvent.id == event_id,
                                               outbox.OutboxEvent.processed_at.is_(None))
              .values(processed_at=utcnow()), execution_options=UNSYNCED)


def fail_promotion(promotion_id: int, error: str, event_id: int | None = None) -> None:
    """Leave the promotion ``failed`` with a readable error (no article was made: the draft step
    is one transaction); the requester hears of it, and its threads' candidates return to the queue."""
    db.session.rollback()  # the failed step may have left the session mid-transaction
    with db.transaction() as s:
        if event_id is not None:
            mark_event_processed(s, event_id)
        promotion = s.get(Promotion, promotion_id, populate_existing=True)
        if promotion is None or promotion.status not in ("queued", "running"):
            return
        promotion.status, promotion.error, promotion.active_key = "failed", error[:2000], None
        promotion.updated_at = utcnow()
        notify(s, promotion.requester_id, "promotion", f"Promotion {promotion.id} failed: {error}"[:300],
               promotion_id=promotion.id)
        audit.record(s, None, "promotion.fail", _target(promotion.id), step=promotion.step, error=error[:500])
        requeue_uncovered(s, None, promotion, "its promotion failed")


def finish_event(promotion_id: int, event_id: int) -> None:
    """A start delivery found the promotion finished: its event needs no more deliveries."""
    with db.transaction() as s:
        mark_event_processed(s, event_id)


# --- two-way links --------------------------------------------------------------------------

def thread_participants(s, article: Article) -> set[int]:
    """Everyone who posted in a thread the article came from (the root and every live reply)."""
    post_ids = list(s.scalars(select(ArticleSource.post_id).where(ArticleSource.article_id == article.id)))
    if not post_ids:
        return set()
    roots = {root or pid for pid, root in s.execute(select(Post.id, Post.parent_id).where(Post.id.in_(post_ids)))}
    return set(s.scalars(select(Post.author_id).where(
        (Post.id.in_(roots)) | (Post.parent_id.in_(roots)), Post.deleted_at.is_(None))))


def notify_source_threads(s, article: Article, text: str, exclude: int | None = None) -> int:
    """Tell the people of the source threads (who may read the article) that it changed."""
    told = 0
    for user in s.scalars(select(User).where(User.id.in_(thread_participants(s, article) - {exclude}))):
        if user.active and perm.can_read_article(user, article):
            notify(s, user.id, "promotion", text[:300], article_id=article.id)
            told += 1
    return told
