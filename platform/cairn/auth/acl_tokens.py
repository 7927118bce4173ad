"""Search ACL tokens: the index side of cairn.auth.permissions' rules, also answered there.

A document holds the tokens of those who may read it (``*_acl``); a searcher holds
``search_tokens``; a document is visible when they share one. tests/unit/test_permissions.py
holds these against ``can_read_*`` for every user and object.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from cairn.auth.models import User
from cairn.auth.permissions import (
    READABLE_STATUSES,
    effective_groups,
    private_source_channels,
    visible_articles_clause,
)
from cairn.extensions import db
from cairn.kb.models import Article, ArticleSource
from cairn.stream.models import Channel, Post, channel_members


def search_tokens(user: User) -> list[str]:
    """Tokens a searcher holds; a document is visible when it shares at least one."""
    tokens = ["public", f"user:{user.id}"]
    tokens += [f"group:{g}" for g in sorted(user.group_ids)]
    if user.is_curator:
        tokens.append("curator")
        tokens += [f"curator-group:{g}" for g in sorted(user.group_ids)]
    if user.is_admin:
        tokens.append("admin")
    private = db.session.scalars(
        select(Channel.id)
        .join(channel_members, channel_members.c.channel_id == Channel.id)
        .where(channel_members.c.user_id == user.id, Channel.private.is_(True))
    ).all()
    tokens += [f"channel:{c}" for c in private]
    if user.is_curator:  # unpublished articles drafted from private channels: one token each
        drafts = select(Article.id).where(
            Article.status.not_in(READABLE_STATUSES),
            exists().where(ArticleSource.article_id == Article.id, ArticleSource.post_id == Post.id,
                           Post.channel_id == Channel.id, Channel.private.is_(True)),
            visible_articles_clause(user))
        tokens += [f"article:{a}" for a in db.session.scalars(drafts)]
    return tokens


def post_acl(post: Post) -> list[str]:
    return [f"channel:{post.channel_id}"] if post.channel.private else ["public"]


def article_acl(article: Article) -> list[str]:
    groups = sorted(effective_groups(article))
    tokens = [f"user:{article.author_id}", f"user:{article.owner_id}"]
    if private_source_channels(article):  # its readers beyond these two hold its own token
        return [*tokens, f"article:{article.id}"]
    tokens.append("admin")
    if article.status in READABLE_STATUSES:
        tokens += [f"group:{g}" for g in groups] if groups else ["public"]
    else:
        tokens += [f"curator-group:{g}" for g in groups] if groups else ["curator"]
    return tokens
