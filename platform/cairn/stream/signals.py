"""Knowledge signals the curation pipeline reads: accepted answers, bookmarks and thread views.

(Reaction counts live with the reactions in cairn.stream.actions.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from cairn import audit, live, outbox
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Conflict, Forbidden, NotFound, RuleViolation
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream.actions import notify
from cairn.stream.models import Bookmark, Post, ThreadAnswer

# --- accepted answers -------------------------------------------------------------------------

def _thread_of(actor: User, reply_id: int) -> tuple[Post, Post]:
    reply = perm.access_post(actor, reply_id)
    if reply.parent_id is None:
        raise RuleViolation("Only a reply can be a thread's answer.", {"post_id": ["this post starts a thread"]})
    root = perm.access_post(actor, reply.parent_id)
    if not perm.can_mark_answer(actor, root):
        raise Forbidden("Only the thread's author or a curator can accept an answer.")
    return root, reply


def mark_answer(actor: User, post_id: int) -> ThreadAnswer:
    """Accept a reply as its thread's answer; a thread has at most one (this replaces it)."""
    with db.transaction() as s:
        root, reply = _thread_of(actor, post_id)
        if reply.hidden_at is not None:
            raise RuleViolation("A post hidden by a moderator cannot be the answer.")
        current = s.get(ThreadAnswer, root.id)
        if current is not None and current.answer_id == reply.id:
            return current
        previous = current.answer_id if current else None
        if current is None:
            current = ThreadAnswer(root_id=root.id, answer_id=reply.id, marked_by_id=actor.id)
            s.add(current)
        else:
            current.answer_id, current.marked_by_id, current.created_at = reply.id, actor.id, utcnow()
        audit.record(s, actor.id, "post.answer", f"post:{reply.id}", root_id=root.id, previous=previous)
        if reply.author_id != actor.id:
            notify(s, reply.author_id, "answer",
                   f"{actor.display_name} accepted your reply as the answer in #{root.channel.name}", post_id=reply.id)
        for changed in filter(None, (reply.id, previous)):
            outbox.emit(s, "index", doc="post", id=changed)
        for changed in filter(None, (root.id, reply.id, previous)):  # badges on open pages
            live.publish(s, root.channel_id, "post.edited", post_id=changed,
                         parent_id=None if changed == root.id else root.id)
    return current


def unmark_answer(actor: User, post_id: int) -> None:
    with db.transaction() as s:
        root, reply = _thread_of(actor, post_id)
        gone = s.execute(delete(ThreadAnswer).where(ThreadAnswer.root_id == root.id,
                                                    ThreadAnswer.answer_id == reply.id))
        if gone.rowcount == 0:
            raise NotFound("This reply is not the accepted answer.")
        audit.record(s, actor.id, "post.unanswer", f"post:{reply.id}", root_id=root.id)
        outbox.emit(s, "index", doc="post", id=reply.id)
        for changed in (root.id, reply.id):
            live.publish(s, root.channel_id, "post.edited", post_id=changed,
                         parent_id=None if changed == root.id else root.id)


def is_accepted_answer(post: Post) -> bool:
    return db.session.scalar(select(ThreadAnswer.root_id).where(ThreadAnswer.answer_id == post.id)) is not None


# --- bookmarks --------------------------------------------------------------------------------

def add_bookmark(actor: User, post_id: int) -> Bookmark:
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        if s.scalar(select(Bookmark.id).where(Bookmark.user_id == actor.id, Bookmark.post_id == post.id)):
            raise Conflict("You already saved this post.", {"post_id": ["already saved"]})
        bookmark = Bookmark(user_id=actor.id, post_id=post.id)
        s.add(bookmark)
    return bookmark


def remove_bookmark(actor: User, post_id: int) -> None:
    with db.transaction() as s:
        post = perm.access_post(actor, post_id)
        gone = s.execute(delete(Bookmark).where(Bookmark.user_id == actor.id, Bookmark.post_id == post.id))
        if gone.rowcount == 0:
            raise NotFound("You have not saved this post.")


def bookmarks(actor: User, cursor: str | None = None, limit: int = 50) -> tuple[list[Bookmark], str | None]:
    """The actor's saved posts, newest saved first, minus those they can no longer read."""
    q = (select(Bookmark).join(Post, Post.id == Bookmark.post_id)
         .where(Bookmark.user_id == actor.id, perm.visible_posts_clause(actor))
         .order_by(Bookmark.id.desc()).limit(limit + 1))
    after = decode_cursor(cursor)
    if after:
        q = q.where(Bookmark.id < after[0])
    items = list(db.session.scalars(q))
    return items[:limit], (encode_cursor(items[limit - 1].id) if len(items) > limit else None)


# --- thread views -----------------------------------------------------------------------------

def record_thread_view(actor: User, root: Post) -> None:
    """One UPDATE per thread view (not per post); the author's own visits do not count."""
    if root.author_id == actor.id or root.parent_id is not None:
        return
    with db.transaction() as s:
        s.execute(update(Post).where(Post.id == root.id).values(view_count=Post.view_count + 1))


# --- what a reader sees next to a batch of posts ----------------------------------------------

@dataclass
class PostSignals:
    """Per-reader facts about a page of posts, fetched in two queries for the whole page."""

    answers: dict[int, int] = field(default_factory=dict)   # root id -> accepted answer id (visible)
    accepted: set[int] = field(default_factory=set)         # ids of posts that are accepted answers
    bookmarked: set[int] = field(default_factory=set)       # ids the reader saved

    def answer_of(self, post: Post) -> int | None:
        return self.answers.get(post.id)

    def is_answer(self, post: Post) -> bool:
        return post.id in self.accepted

    def is_saved(self, post: Post) -> bool:
        return post.id in self.bookmarked


def signals_for(user: User, posts: list[Post]) -> PostSignals:
    ids = [p.id for p in posts]
    if not ids:
        return PostSignals()
    answers = dict(db.session.execute(
        select(ThreadAnswer.root_id, ThreadAnswer.answer_id)
        .join(Post, Post.id == ThreadAnswer.answer_id)
        .where((ThreadAnswer.root_id.in_(ids)) | (ThreadAnswer.answer_id.in_(ids)),
               perm.visible_posts_clause(user))
    ).all())
    saved = set(db.session.scalars(select(Bookmark.post_id).where(Bookmark.user_id == user.id,
                                                                  Bookmark.post_id.in_(ids))))
    return PostSignals(answers={r: a for r, a in answers.items() if r in ids},
                       accepted=set(answers.values()) & set(ids), bookmarked=saved)
