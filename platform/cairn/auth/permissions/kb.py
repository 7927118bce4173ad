"""Spaces and articles: who reads, writes, verifies and moves an article through its lifecycle."""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select, true
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User, group_members
from cairn.auth.permissions._common import fetch_readable, reader_clause
from cairn.auth.permissions.stream import can_read_channel
from cairn.errors import Forbidden, RuleViolation
from cairn.extensions import db
from cairn.kb.models import Article, ArticleSource, Space, article_groups, space_groups
from cairn.stream.models import Channel, Post, channel_members

READABLE_STATUSES = ("published", "archived")

# Article lifecycle (after KCS): (from, to) -> who may make the move.
#   "contributor": the article's author or owner, or a curator;  "curator": curators only.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "in_review"): "contributor",
    ("in_review", "draft"): "contributor",
    ("in_review", "published"): "curator",
    ("published", "draft"): "curator",
    ("published", "archived"): "curator",
    ("archived", "draft"): "curator",
}


def can_read_space(user: User, space: Space) -> bool:
    return user.is_admin or not space.groups or bool(user.group_ids & space.group_ids)


def can_manage_spaces(user: User) -> bool:
    return user.is_curator


def effective_groups(article: Article) -> set[int]:
    """Groups allowed to read an article: its own (a subset of its space's), else its space's."""
    return article.group_ids or article.space.group_ids


def private_source_channels(article: Article) -> list[Channel]:
    """The private channels an unpublished article was promoted from (none once it is readable:
    publishing is the disclosure decision, taken by a curator who reads those channels)."""
    if article.status in READABLE_STATUSES or article.id is None:
        return []
    return list(db.session.scalars(select(Channel).where(
        Channel.private.is_(True),
        Channel.id.in_(select(Post.channel_id).join(ArticleSource, ArticleSource.post_id == Post.id)
                       .where(ArticleSource.article_id == article.id)))))


def can_read_article(user: User, article: Article) -> bool:
    """Readers: its author and owner; else its groups' members once it is published or archived,
    curators (of those groups) before - and before publication, only those who also read every
    private channel it was promoted from (a draft holds the private thread's text)."""
    if user.id in (article.author_id, article.owner_id):
        return True
    if not all(can_read_channel(user, c) for c in private_source_channels(article)):
        return False
    if user.is_admin:
        return True
    groups = effective_groups(article)
    if groups and not (user.group_ids & groups):
        return False
    return article.status in READABLE_STATUSES or user.is_curator


def can_edit_article(user: User, article: Article) -> bool:
    return can_read_article(user, article) and (
        user.is_curator or user.id in (article.author_id, article.owner_id)
    )


def can_create_article(user: User, space: Space) -> bool:
    return can_read_space(user, space)


def check_transition(user: User, article: Article, to: str, *, second_approver: bool,
                     last_revision_author_id: int | None) -> None:
    """Raise unless ``user`` may move ``article`` to status ``to`` under the policy."""
    who = TRANSITIONS.get((article.status, to))
    if who is None:
        raise RuleViolation(
            f"An article cannot go from {article.status} to {to}.",
            {"to": [f"allowed from {article.status}: {', '.join(allowed_targets(article.status)) or 'none'}"]},
        )
    if who == "curator" and not user.is_curator:
        raise Forbidden("Only a curator can make this change.")
    if who == "contributor" and not can_edit_article(user, article):
        raise Forbidden("Only the author, the owner or a curator can make this change.")
    if to == "published" and second_approver and last_revision_author_id == user.id:
        raise RuleViolation("The policy requires a second curator: you wrote the latest revision.")


def allowed_targets(status: str) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == status]


def transition_options(user: User, article: Article, *, second_approver: bool,
                       last_revision_author_id: int | None) -> list[tuple[str, str | None]]:
    """The moves to offer ``user``: (to, None) when allowed, (to, why not) when a rule refuses it
    (shown as a disabled button with the reason); moves the user's role never allows are left out."""
    options: list[tuple[str, str | None]] = []
    for to in allowed_targets(article.status):
        try:
            check_transition(user, article, to, second_approver=second_approver,
                             last_revision_author_id=last_revision_author_id)
        except Forbidden:
            continue
        except RuleViolation as refused:
            options.append((to, refused.message))
            continue
        options.append((to, None))
    return options


def can_manage_space(user: User, space: Space) -> bool:
    return can_read_space(user, space) and can_manage_spaces(user)


def can_verify_article(user: User, article: Article) -> bool:
    return can_read_article(user, article) and (user.is_curator or user.id == article.owner_id)


def can_restore_revision(user: User, article: Article) -> bool:
    return can_edit_article(user, article)


@reader_clause
def visible_spaces_clause(user: User) -> ColumnElement[bool]:
    if user.is_admin:
        return true()
    no_groups = ~exists().where(space_groups.c.space_id == Space.id)
    mine = exists().where(
        space_groups.c.space_id == Space.id,
        space_groups.c.group_id.in_(select(group_members.c.group_id).where(group_members.c.user_id == user.id)),
    )
    return or_(no_groups, mine)


def _private_sources_unread_clause(user: User) -> ColumnElement[bool]:
    """An article drafted from a post in a private channel the user is not a member of."""
    mine = select(channel_members.c.channel_id).where(channel_members.c.user_id == user.id)
    return exists().where(ArticleSource.article_id == Article.id, ArticleSource.post_id == Post.id,
                          Post.channel_id == Channel.id, Channel.private.is_(True), Channel.id.not_in(mine))


@reader_clause
def visible_articles_clause(user: User) -> ColumnElement[bool]:
    """The SQL form of ``can_read_article``."""
    mine = or_(Article.author_id == user.id, Article.owner_id == user.id)
    sources_ok = or_(Article.status.in_(READABLE_STATUSES), ~_private_sources_unread_clause(user))
    if user.is_admin:
        return or_(mine, sources_ok)
    my_groups = select(group_members.c.group_id).where(group_members.c.user_id == user.id)
    has_own = exists().where(article_groups.c.article_id == Article.id)
    own_ok = exists().where(article_groups.c.article_id == Article.id, article_groups.c.group_id.in_(my_groups))
    space_open = ~exists().where(space_groups.c.space_id == Article.space_id)
    space_ok = exists().where(space_groups.c.space_id == Article.space_id, space_groups.c.group_id.in_(my_groups))
    groups_ok = or_(and_(has_own, own_ok), and_(~has_own, or_(space_open, space_ok)))
    status_ok = Article.status.in_(READABLE_STATUSES) if not user.is_curator else true()
    return or_(mine, and_(groups_ok, status_ok, sources_ok))


def access_space(user: User, space_id: int) -> Space:
    return fetch_readable(user, Space, space_id, can_read_space, "Space")


def access_article(user: User, article_id: int) -> Article:
    return fetch_readable(user, Article, article_id, can_read_article, "Article")
