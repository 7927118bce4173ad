"""Notifications: a user's own, while they may still read what each one names (a post, an article)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User
from cairn.auth.permissions._common import reader_clause
from cairn.auth.permissions.kb import visible_articles_clause
from cairn.auth.permissions.stream import visible_posts_clause
from cairn.kb.models import Article
from cairn.stream.models import Notification, Post


@reader_clause
def visible_notifications_clause(user: User) -> ColumnElement[bool]:
    """The user's notifications, while they may still read the post and the article they name
    (a notification's text quotes a channel name or an article title)."""
    posts = select(Post.id).where(visible_posts_clause(user))
    articles = select(Article.id).where(visible_articles_clause(user))
    return and_(Notification.user_id == user.id,
                or_(Notification.post_id.is_(None), Notification.post_id.in_(posts)),
                or_(Notification.article_id.is_(None), Notification.article_id.in_(articles)))
