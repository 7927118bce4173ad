"""Reader feedback (KCS "flag it"): any reader reports an article as outdated, wrong, unclear or
a duplicate; the flag lands in the queue of the article's owner and the curators, who resolve it
with a note. The owner is notified of a new flag, the reporter of its resolution.
"""

from __future__ import annotations

from sqlalchemy import func, select

from cairn import audit
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.errors import Conflict, Forbidden, Invalid
from cairn.extensions import db
from cairn.kb.models import FLAG_KINDS, ArticleFlag
from cairn.kb.verification import responsible_owner
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream.actions import notify

FLAG_STATES = ("open", "resolved", "all")
MAX_COMMENT = 1000


def flag_article(actor: User, article_id: int, kind: str, comment: str = "") -> ArticleFlag:
    if kind not in FLAG_KINDS:
        raise Invalid("Unknown kind of flag.", {"kind": [f"one of {', '.join(FLAG_KINDS)}"]})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("The comment is too long.", {"comment": [f"at most {MAX_COMMENT} characters"]})
    with db.transaction() as s:
        article = perm.access_article(actor, article_id)
        if not perm.can_flag_article(actor, article):
            raise Forbidden("You cannot flag this article.")
        flag = ArticleFlag(article_id=article.id, kind=kind, comment=comment, reporter_id=actor.id)
        flag.article = article
        s.add(flag)
        s.flush()
        audit.record(s, actor.id, "article.flag", f"article:{article.id}", flag=flag.id, kind=kind)
        owner = responsible_owner(article)
        if owner is not None and owner.id != actor.id:
            notify(s, owner.id, "flag", f"{actor.display_name} flagged “{article.title}” as {kind}.",
                   article_id=article.id)
    return flag


def resolve_flag(actor: User, flag_id: int, note: str = "") -> ArticleFlag:
    note = note.strip()
    if len(note) > MAX_COMMENT:
        raise Invalid("The note is too long.", {"note": [f"at most {MAX_COMMENT} characters"]})
    with db.transaction() as s:
        flag = perm.access_flag(actor, flag_id)
        if not perm.can_resolve_flag(actor, flag):
            raise Forbidden("Only the article's owner or a curator can resolve its flags.")
        if flag.resolved_at is not None:
            raise Conflict("This flag is already resolved.", {"flag": ["already resolved"]})
        flag.resolved_at, flag.resolver_id, flag.resolution = utcnow(), actor.id, note
        flag.resolver = actor
        audit.record(s, actor.id, "flag.resolve", f"article:{flag.article_id}", flag=flag.id, note=note)
        if flag.reporter_id is not None and flag.reporter_id != actor.id:
            notify(s, flag.reporter_id, "flag",
                   f"Your flag on “{flag.article.title}” was resolved by {actor.display_name}"
                   + (f": {note}" if note else "."), article_id=flag.article_id)
    return flag


def list_flags(actor: User, state: str = "open", article_id: int | None = None, cursor: str | None = None,
               limit: int = 50) -> tuple[list[ArticleFlag], str | None]:
    """Flags the actor may see (their queue, and flags they raised), newest first."""
    q = select(ArticleFlag).where(perm.visible_flags_clause(actor)).order_by(ArticleFlag.id.desc()).limit(limit + 1)
    if article_id is not None:
        perm.access_article(actor, article_id)
        q = q.where(ArticleFlag.article_id == article_id)
    if state == "open":
        q = q.where(ArticleFlag.resolved_at.is_(None))
    elif state == "resolved":
        q = q.where(ArticleFlag.resolved_at.is_not(None))
    after = decode_cursor(cursor)
    if after:
        q = q.where(ArticleFlag.id < after[0])
    items = list(db.session.scalars(q))
    return items[:limit], (encode_cursor(items[limit - 1].id) if len(items) > limit else None)


def open_flag_count(actor: User) -> int:
    """Open flags waiting for the actor (owner or curator) to resolve: the sidebar's count."""
    return db.session.scalar(select(func.count()).select_from(ArticleFlag).where(
        perm.resolvable_flags_clause(actor), ArticleFlag.resolved_at.is_(None))) or 0
