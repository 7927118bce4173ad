"""Every search document of the database, read for a rebuild (`cairn reindex`) with a few
set-based queries per batch of posts instead of ORM rows: the post columns, reaction counts by
GROUP BY, accepted answers, and authors and channels read once as dicts. Documents are built by
``documents.post_fields`` and ``documents.article_document``, the same functions that index one row,
so a rebuild and the index worker agree (tests compare this reader with the row-by-row one).

Articles are few and their ACL needs the row (``perm.article_acl``: groups, sources): they are
read as ORM rows, a batch at a time.

A large rebuild runs in one process per core (``_write_in_processes``): Whoosh spends 0.3-0.6 ms
of CPU on each post (bench/reindex.py), so one process alone cannot write 5,000 documents a second.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload
from whoosh.writing import SegmentWriter

from cairn.auth import permissions as perm
from cairn.auth.actions import handle_for
from cairn.auth.models import User
from cairn.extensions import db
from cairn.kb.models import Article
from cairn.search import documents
from cairn.search.adding import DocumentAdder
from cairn.search.engine import Index
from cairn.stream.models import Channel, Post, Reaction, ThreadAnswer

POST_COLUMNS = (Post.id, Post.parent_id, Post.channel_id, Post.author_id, Post.body, Post.html, Post.created_at)
LIVE_POST = (Post.deleted_at.is_(None), Post.hidden_at.is_(None))
# Megabytes of postings (by Whoosh's estimate) the rebuild's writer keeps in memory before it sorts
# them into a run file (Whoosh's ``limitmb``, 128 by default: a run every ~20,000 posts). Once there
# is a run, every posting is pickled to one and merged back at commit: at 100,000 posts the rebuild
# took 90 s of CPU with the default and 55 s without a run (bench/reindex.py; 770 MB resident).
# 1024 (the default of the `reindex_memory_mb` setting) is a run every ~170,000 posts, about 1.3 GB
# resident at the most; a small server sets less and pays for it in CPU. Processes share it.
REBUILD_POOL_MB = 1024
# Posts per job of a rebuild (articles: a tenth). Processes take jobs in turn, so a small job lets
# them finish together; each job costs three queries.
JOB_POSTS = 2000
# Fewer rows than this are rebuilt in this process: starting the others would cost more.
PARALLEL_MIN_ROWS = 20000

Job = tuple[str, int, int | None]  # kind, first id, last id (None: to the end)


def rebuild(index: Index, progress: Callable[[int], None] | None = None, processes: int | None = None,
            batch: int = JOB_POSTS) -> int:
    """Replace the whole index with ``all_documents()`` in one commit; returns the number of
    documents. With more than one process (``reindex_processes``, 0: one per core) each writes
    its own segment from the jobs it takes. Python's cyclic garbage collector is off meanwhile:
    the writer holds millions of objects that each full collection walks again (a tenth to a fifth
    of the CPU time at 100,000 posts), and the rebuild makes almost no reference cycles."""
    settings = current_app.config["CAIRN"]
    limit_mb = max(int(settings.get("reindex_memory_mb", REBUILD_POOL_MB)), 16)
    jobs = _jobs(batch)
    if processes is None:
        processes = int(settings.get("reindex_processes", 0)) or os.cpu_count() or 1
        processes = processes if documents.count_rows() >= PARALLEL_MIN_ROWS else 1
    processes = max(1, min(processes, len(jobs)))
    count = 0

    def in_this_process(writer) -> None:
        nonlocal count
        writer.pool.limit = limit_mb * 1024 * 1024  # its limitmb: no document added yet
        adder = DocumentAdder(writer)
        for doc in _Reader().documents(jobs):
            adder.add(doc)
            count += 1
            if progress:
                progress(count)

    def in_processes(writer) -> list:
        nonlocal count
        segments, count = _write_in_processes(writer, jobs, processes, limit_mb // processes, progress)
        return segments

    collecting = gc.isenabled()
    gc.disable()
    try:
        index.write(in_processes if processes > 1 else in_this_process, timeout=300, clear=True)
    finally:
        if collecting:
            gc.enable()
    return count


def all_documents(batch: int = JOB_POSTS) -> Iterator[dict[str, Any]]:
    """Every document, posts then articles, each in id order (deleted and hidden posts have none)."""
    return _Reader().documents(_jobs(batch))


def article_documents(batch: int = JOB_POSTS // 10) -> Iterator[dict[str, Any]]:
    return _Reader().documents(_id_ranges("article", Article.id, (), batch))


def _jobs(batch: int) -> list[Job]:
    """The rows to read as id ranges of ``batch`` posts, then of a tenth as many articles (longer,
    and read as ORM rows). The last range of each kind is open: a row added meanwhile is read too."""
    posts = _id_ranges("post", Post.id, LIVE_POST, batch)
    return posts + _id_ranges("article", Article.id, (), max(1, batch // 10))


def _id_ranges(kind: str, column, where: tuple, batch: int) -> list[Job]:
    starts = db.session.scalars(select(column).where(*where).order_by(column)).all()[::batch]
    ends = [nxt - 1 for nxt in starts[1:]] + [None]
    return list(zip([kind] * len(starts), starts, ends, strict=False))  # no rows: no job


class _Reader:
    """Documents of jobs: authors and channels read once for all of them."""

    def __init__(self) -> None:
        self.authors, self.channels = _Authors(), _Channels()

    def documents(self, jobs: Iterable[Job]) -> Iterator[dict[str, Any]]:
        for kind, first, last in jobs:
            yield from (self.posts if kind == "post" else self.articles)(first, last)

    def posts(self, first: int, last: int | None) -> Iterator[dict[str, Any]]:
        rows = db.session.execute(select(*POST_COLUMNS).where(*_between(Post.id, first, last), *LIVE_POST)
                                  .order_by(Post.id)).all()
        reactions = dict(db.session.execute(
            select(Reaction.post_id, func.count()).where(*_between(Reaction.post_id, first, last))
            .group_by(Reaction.post_id)).all())
        accepted = set(db.session.scalars(select(ThreadAnswer.answer_id).where(
            *_between(ThreadAnswer.answer_id, first, last))))
        for row in rows:
            handle, name = self.authors[row.author_id]
            channel, acl = self.channels[row.channel_id]
            yield documents.post_fields(row.id, row.parent_id, row.body, row.html, row.created_at, handle, name,
                                        channel, acl, reactions.get(row.id, 0), row.id in accepted)

    @staticmethod
    def articles(first: int, last: int | None) -> Iterator[dict[str, Any]]:
        rows = db.session.scalars(select(Article).where(*_between(Article.id, first, last))
                                  .order_by(Article.id)).all()
        for row in rows:
            yield documents.article_document(row)
            db.session.expunge(row)  # not expunge_all(): the caller's objects stay usable


def _between(column, first: int, last: int | None) -> tuple:
    return (column >= first,) if last is None else (column.between(first, last),)


def _write_in_processes(writer, jobs: list[Job], processes: int, limit_mb: int,
                        progress: Callable[[int], None] | None) -> tuple[list, int]:
    """Forked processes take ``jobs`` in turn, each reading its rows from the database itself and
    writing its own Whoosh segment; returns the segments (for ``writer``, which holds the index
    lock, to commit: Index.write) and the number of documents. As Whoosh's MpWriter with
    ``multisegment``, without its pickling every document to the children through files, which
    made it slower than one process on 2 cores."""
    ctx = multiprocessing.get_context("fork")
    todo, reports = ctx.Queue(), ctx.Queue()
    children = [ctx.Process(target=_child, args=(n, writer, todo, reports, limit_mb), daemon=True)
                for n in range(processes)]
    for child in children:
        child.start()
    for job in [*jobs, *[None] * processes]:  # after the forks: no feeder thread is copied
        todo.put(job)
    try:
        return _collect(children, reports, progress)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join()


def _collect(children, reports, progress) -> tuple[list, int]:
    counts, segments, pending = [0] * len(children), [], set(range(len(children)))
    while pending:
        try:
            n, what, value = reports.get(timeout=1.0)
        except queue.Empty:
            if any(child.exitcode for child in children):
                raise RuntimeError(f"a reindex process died: exit codes {[c.exitcode for c in children]}") from None
            continue
        if what == "error":
            raise RuntimeError(f"a reindex process failed:\n{value}")
        if what == "count":
            counts[n] = value
            if progress:
                progress(sum(counts))
        else:
            pending.discard(n)
            segments += [value] if value is not None else []
    return segments, sum(counts)


_inherited: list = []  # a forked child's copy of the parent's session (see _own_connections)


def _child(n: int, writer, todo, reports, limit_mb: int) -> None:
    try:
        _own_connections()
        segment = SegmentWriter(writer.storage.open_index(writer.indexname), _lk=False, limitmb=limit_mb)
        segment.schema = writer.schema
        reader, adder, count = _Reader(), DocumentAdder(segment), 0
        for job in iter(todo.get, None):
            for doc in reader.documents([job]):
                adder.add(doc)
                count += 1
            reports.put((n, "count", count))
        # the segment's files only: the temporary folder is shared, the parent's writer removes it
        reports.put((n, "segment", segment._finalize_segment() if count else None))
    except BaseException:  # noqa: BLE001 - the parent re-raises it
        reports.put((n, "error", traceback.format_exc()))


def _own_connections() -> None:
    """In a forked child: new database connections, the parent's left untouched. The inherited
    session (which may hold a connection) is kept referenced until the child exits without
    cleanup (os._exit), as a collected one would roll back or close the parent's connection."""
    _inherited.append(db.session())
    db.session.registry.clear()
    db.engine.dispose(close=False)


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
