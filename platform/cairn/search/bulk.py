"""Every search document of the database, read for a rebuild (`cairn reindex`) with a few
set-based queries per batch of posts instead of ORM rows: the post columns, reaction counts by
GROUP BY, accepted answers, and authors and channels read once as dicts. Documents are built by
``documents.post_fields`` and ``documents.article_document``, the same functions that index one row,
so a rebuild and the index worker agree (tests compare this reader with the row-by-row one).

Articles are few and their ACL needs the row (``perm.article_acl``: groups, sources): they are
read as ORM rows, a batch at a time.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from cairn.auth import permissions as perm
from cairn.auth.actions import handle_for
from cairn.auth.models import User
from cairn.extensions import db
from cairn.kb.models import Article
from cairn.search import documents
from cairn.search.engine import Index
from cairn.stream.models import Channel, Post, Reaction, ThreadAnswer

POST_COLUMNS = (Post.id, Post.parent_id, Post.channel_id, Post.author_id, Post.body, Post.html, Post.created_at)
# Megabytes of postings (by Whoosh's estimate) the rebuild's writer keeps in memory before it sorts
# them into a run file (Whoosh's ``limitmb``, 128 by default: a run every ~20,000 posts). Once there
# is a run, every posting is pickled to one and merged back at commit: at 100,000 posts the rebuild
# took 90 s of CPU with the default and 55 s without a run (bench/reindex.py; 770 MB resident).
# 1024 (the default of the `reindex_memory_mb` setting) is a run every ~170,000 posts, about 1.3 GB
# resident at the most; a small server sets less and pays for it in CPU.
REBUILD_POOL_MB = 1024


def rebuild(index: Index, progress: Callable[[int], None] | None = None) -> int:
    """Replace the whole index with ``all_documents()`` in one writer; returns the number of
    documents. Python's cyclic garbage collector is off meanwhile: the writer holds millions of
    objects that each full collection walks again (a tenth to a fifth of the CPU time at 100,000
    posts), and the rebuild makes almost no reference cycles."""
    count = 0

    def apply(writer) -> None:
        nonlocal count
        limit_mb = int(current_app.config["CAIRN"].get("reindex_memory_mb", REBUILD_POOL_MB))
        writer.pool.limit = max(limit_mb, 16) * 1024 * 1024  # its limitmb: no document added yet
        for doc in all_documents():
            writer.add_document(**doc)
            count += 1
            if progress:
                progress(count)

    collecting = gc.isenabled()
    gc.disable()
    try:
        index.write(apply, timeout=300, clear=True)
    finally:
        if collecting:
            gc.enable()
    return count


def all_documents(batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every document, posts then articles, each in id order (deleted and hidden posts have none)."""
    yield from post_documents(batch)
    yield from article_documents(max(1, batch // 10))


def post_documents(batch: int = 2000) -> Iterator[dict[str, Any]]:
    authors, channels = _Authors(), _Channels()
    last = 0
    while True:
        rows = db.session.execute(
            select(*POST_COLUMNS)
            .where(Post.id > last, Post.deleted_at.is_(None), Post.hidden_at.is_(None))
            .order_by(Post.id).limit(batch)).all()
        if not rows:
            return
        first, last = rows[0].id, rows[-1].id
        reactions = dict(db.session.execute(
            select(Reaction.post_id, func.count()).where(Reaction.post_id.between(first, last))
            .group_by(Reaction.post_id)).all())
        accepted = set(db.session.scalars(select(ThreadAnswer.answer_id).where(
            ThreadAnswer.answer_id.between(first, last))))
        for row in rows:
            handle, name = authors[row.author_id]
            channel, acl = channels[row.channel_id]
            yield documents.post_fields(row.id, row.parent_id, row.body, row.html, row.created_at, handle, name,
                                        channel, acl, reactions.get(row.id, 0), row.id in accepted)


def article_documents(batch: int = 200) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        rows = db.session.scalars(select(Article).where(Article.id > last).order_by(Article.id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield documents.article_document(row)
            db.session.expunge(row)  # not expunge_all(): the caller's objects stay usable
        last = rows[-1].id


class _Authors(dict):
    """user id -> (handle, display name): every user read once, a newer one when first met."""

    def __init__(self) -> None:
        super().__init__((u.id, (handle_for(u), u.display_name))
                         for u in db.session.scalars(select(User).options(lazyload("*"))))

    def __missing__(self, user_id: int) -> tuple[str, str]:
        user = db.session.get(User, user_id)
        self[user_id] = value = (handle_for(user), user.display_name)
        return value


class _Channels(dict):
    """channel id -> (name, ACL tokens of its posts): a post's ACL depends on its channel only."""

    def __init__(self) -> None:
        super().__init__((c.id, self._entry(c)) for c in db.session.scalars(select(Channel).options(lazyload("*"))))

    def __missing__(self, channel_id: int) -> tuple[str, str]:
        self[channel_id] = value = self._entry(db.session.get(Channel, channel_id))
        return value

    @staticmethod
    def _entry(channel: Channel) -> tuple[str, str]:
        # a transient post of this channel: the ACL is computed by permissions, not restated here
        return channel.name, " ".join(perm.post_acl(Post(channel_id=channel.id, channel=channel)))
