"""Turning database rows into search documents (the only place that knows both sides)."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from typing import Any

import nh3
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload, load_only

from cairn.auth import permissions as perm
from cairn.auth.actions import handle_for
from cairn.extensions import db
from cairn.kb.actions import verification_state
from cairn.kb.models import Article, Space
from cairn.stream.models import Post, ThreadAnswer
from cairn.stream.signals import is_accepted_answer
from cairn.text import hashtags


def doc_key(kind: str, obj_id: int) -> str:
    return f"{kind}:{obj_id}"


# the end of a block (or a line break, a table cell): its text must not run into the next one's
_BLOCK_END_RE = re.compile(r"</(?:p|li|h[1-6]|pre|blockquote|td|th|tr|ul|ol|table)>|<(?:br|hr)\b[^>]*>")
_BLANK_LINES_RE = re.compile(r"\n\s*\n")


def reader_text(html: str, source: str = "") -> str:
    """The text a reader sees in rendered HTML (the row's ``html``, Markdown rendered and
    sanitised): no Markdown syntax (``## ``, ``**``, link targets) in the index or in snippets;
    words of code, link text and headings stay. ``source`` stands in for an empty ``html``."""
    if not html:
        return source
    spaced = _BLOCK_END_RE.sub(lambda m: m.group(0) + "\n", html)
    text = unescape(nh3.clean(spaced, tags=set()))  # the highlighter escapes it again
    return _BLANK_LINES_RE.sub("\n", text).strip()


def post_fields(post_id: int, parent_id: int | None, body: str, html: str, created: datetime,
                author: str, author_name: str, channel: str, acl: str, reactions: int,
                answer: bool) -> dict[str, Any]:
    """A post's document from its values (``post_document`` reads them from a row, the bulk
    reindex from a few set-based queries: both build it here, so they agree)."""
    return {
        "id": doc_key("post", post_id),
        "kind": "post",
        "obj_id": post_id,
        "title": "",
        "body": reader_text(html, body),
        "author": author,
        "author_name": author_name,
        "channel": channel,
        "container": f"#{channel}",
        "thread": str(parent_id or post_id),
        "tags": " ".join(hashtags(body)),
        "created": _naive(created),
        "status": "posted",
        "verified": False,
        "reactions": reactions,
        "answer": answer,
        "acl": acl,
    }


def post_document(post: Post, accepted: set[int] | None = None) -> dict[str, Any] | None:
    """``accepted``: the ids of accepted answers among a batch of posts, when the caller read them
    at once; otherwise the post's own state is read."""
    if post.deleted_at is not None or post.hidden_at is not None:  # hidden by a moderator: out
        return None
    if accepted is not None:
        answer = post.id in accepted
    else:
        answer = post.parent_id is not None and is_accepted_answer(post)
    return post_fields(post.id, post.parent_id, post.body, post.html, post.created_at,
                       handle_for(post.author), post.author.display_name, post.channel.name,
                       " ".join(perm.post_acl(post)), len(post.reactions), answer)


def article_document(article: Article) -> dict[str, Any]:
    return {
        "id": doc_key("article", article.id),
        "kind": "article",
        "obj_id": article.id,
        "title": article.title,
        "body": reader_text(article.html, article.body),
        "author": handle_for(article.owner),
        "author_name": article.owner.display_name,
        "space": article.space.name.lower(),
        "container": article.space.name,
        "thread": doc_key("article", article.id),
        "tags": " ".join(t.lower() for t in article.tag_list),
        "created": _naive(article.updated_at),
        "status": article.status,
        "verified": verification_state(article) == "verified",
        "reactions": 0,
        "acl": " ".join(perm.article_acl(article)),
    }


def verification_badges(article_ids: list[int]) -> dict[int, str]:
    """The current verification state of these articles, from the database: a badge in search
    results is as fresh as on the article page, even before the index catches up."""
    if not article_ids:
        return {}
    # only what verification_state reads: a whole article row brought its body, html, author,
    # owner and (a second query) groups, ~17 ms of a search on a loaded machine
    rows = db.session.scalars(select(Article).where(Article.id.in_(article_ids)).options(
        load_only(Article.status, Article.needs_verification_since, Article.verified_at, Article.published_at,
                  Article.created_at, Article.verify_interval_days),
        joinedload(Article.space).load_only(Space.verify_interval_days), lazyload("*")))
    return {a.id: verification_state(a) for a in rows}


def load_document(kind: str, obj_id: int) -> dict[str, Any] | None:
    """The current document for a row, or None when it must not be in the index."""
    if kind == "post":
        post = db.session.get(Post, obj_id)
        return post_document(post) if post else None
    if kind == "article":
        article = db.session.get(Article, obj_id)
        return article_document(article) if article else None
    raise ValueError(f"unknown document kind {kind!r}")


def load_documents(kind: str, ids: list[int]) -> dict[int, dict[str, Any] | None]:
    """``load_document`` for many rows of one kind, fetched in one query (bulk imports)."""
    model, build = {"post": (Post, post_document), "article": (Article, article_document)}[kind]
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
    return {i: build(rows[i]) if i in rows else None for i in ids}


def all_documents(batch: int = 1000):
    """Every document, streamed in id order, built from ORM rows: what the index must hold, row
    by row (tests check the bulk reader of `cairn reindex`, cairn.search.bulk, against it). Each
    batch of posts is read with its reactions and accepted answers in three queries."""
    last = 0
    while True:
        rows = db.session.scalars(select(Post).where(Post.id > last).order_by(Post.id).limit(batch)).all()
        if not rows:
            break
        accepted = set(db.session.scalars(select(ThreadAnswer.answer_id).where(
            ThreadAnswer.answer_id.in_([p.id for p in rows if p.parent_id is not None]))))
        for row in rows:
            doc = post_document(row, accepted)
            if doc is not None:
                yield doc
        last = rows[-1].id
        db.session.expunge_all()
    from cairn.search.bulk import article_documents  # articles: the same reader as the rebuild's

    yield from article_documents()


def count_rows() -> int:
    return sum(db.session.scalar(select(func.count()).select_from(m)) or 0 for m in (Post, Article))


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)
