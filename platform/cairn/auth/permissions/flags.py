"""Reader flags on articles: who raises them, who sees them, and whose queue they are in."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User
from cairn.auth.permissions._common import fetch_readable, reader_clause
from cairn.auth.permissions.kb import can_read_article, visible_articles_clause
from cairn.kb.models import Article, ArticleFlag


def can_flag_article(user: User, article: Article) -> bool:
    return user.is_active and can_read_article(user, article)


def can_resolve_flag(user: User, flag: ArticleFlag) -> bool:
    """The article's owner and curators (who can see it) work the flag queue."""
    return can_read_article(user, flag.article) and (user.is_curator or user.id == flag.article.owner_id)


def can_see_flag(user: User, flag: ArticleFlag) -> bool:
    return can_resolve_flag(user, flag) or (
        flag.reporter_id == user.id and can_read_article(user, flag.article))


@reader_clause
def visible_flags_clause(user: User) -> ColumnElement[bool]:
    """Flags on articles the user may read, and only those they resolve or raised themselves."""
    readable = ArticleFlag.article_id.in_(select(Article.id).where(visible_articles_clause(user)))
    if user.is_curator:
        return readable
    owned = ArticleFlag.article_id.in_(select(Article.id).where(Article.owner_id == user.id))
    return and_(readable, or_(owned, ArticleFlag.reporter_id == user.id))


@reader_clause
def resolvable_flags_clause(user: User) -> ColumnElement[bool]:
    """The user's queue: flags they may resolve (a subset of visible_flags_clause)."""
    readable = ArticleFlag.article_id.in_(select(Article.id).where(visible_articles_clause(user)))
    if user.is_curator:
        return readable
    return and_(readable, ArticleFlag.article_id.in_(select(Article.id).where(Article.owner_id == user.id)))


def access_flag(user: User, flag_id: int) -> ArticleFlag:
    return fetch_readable(user, ArticleFlag, flag_id, can_see_flag, "Flag")
