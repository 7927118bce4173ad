"""THE permission layer: every read and write path asks here, and nowhere else.

Three kinds of answer:
- ``can_*(user, obj)`` for one object (also used by templates to show or hide buttons);
- ``access_*(user, id)`` fetch-and-authorise: missing and forbidden both raise ``NotFound``;
- ``*_clause(user)`` SQL filters for lists, and ``search_tokens``/``*_acl`` for the index,
  which encode the same rules as the ``can_*`` functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, has_app_context
from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql import ColumnElement

from cairn.auth.models import User, group_members
from cairn.curation.candidate_models import Candidate
from cairn.curation.models import Promotion
from cairn.errors import Forbidden, NotFound, RuleViolation
from cairn.extensions import db
from cairn.kb.models import Article, ArticleFlag, ArticleSource, Space, article_groups, space_groups
from cairn.stream import membership
from cairn.stream.models import Channel, Notification, Post, channel_members

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


def reader_clause(build: Callable[[User], ColumnElement[bool]]) -> Callable[[User], ColumnElement[bool]]:
    """Memoise a ``*_clause(user)`` that reads nothing of the user but their id and role, for
    the current request (or task: the app context's ``g``).

    Such a clause is an SQL expression holding those two values (no rows, nothing that goes
    stale), yet building one costs up to ~1.5 ms of Python, and a page asks for the same ones
    several times (a channel page built the articles clause 3 times: promoted articles, unread
    notifications, open flags). Keyed by (clause, id, role): a new role gives a new clause at
    once. Kept per context, not per process: nothing is shared between gunicorn's threads (the
    worker segfaults once seen under bench/rps.py came from a lazyload option on the user's
    load, reverted; a per-process memo was not measured again since).
    """
    @functools.wraps(build)
    def clause(user: User) -> ColumnElement[bool]:
        if user.id is None or not has_app_context():  # nothing to key on, or nowhere to keep it
            return build(user)
        memo = g.setdefault("_reader_clauses", {})
        key = (build, user.id, user.role)
        found = memo.get(key)
        if found is None:
            found = memo[key] = build(user)
        return found

    return clause


# --- stream ----------------------------------------------------------------------------------

def is_member(user: User, channel: Channel) -> bool:
    """One EXISTS on channel_members (kept for the session until it writes), never the member list."""
    return membership.is_member(user.id, channel)


def can_read_channel(user: User, channel: Channel) -> bool:
    return not channel.private or is_member(user, channel)


def can_post_in(user: User, channel: Channel) -> bool:
    return user.is_active and can_read_channel(user, channel)


def can_manage_channel(user: User, channel: Channel) -> bool:
    return can_read_channel(user, channel) and (user.is_admin or channel.created_by_id == user.id)


def can_read_post(user: User, post: Post) -> bool:
    return (post.deleted_at is None and can_read_channel(user, post.channel)
            and (post.hidden_at is None or can_see_hidden(user, post)))


def can_see_hidden(user: User, post: Post) -> bool:
    """A post hidden by a moderator stays visible to moderators and to its author (with a notice)."""
    return user.is_curator or post.author_id == user.id


def can_edit_post(user: User, post: Post) -> bool:
    return can_read_post(user, post) and post.author_id == user.id


def can_delete_post(user: User, post: Post) -> bool:
    return can_read_post(user, post) and (post.author_id == user.id or user.is_curator)


def can_promote(user: User, post: Post) -> bool:
    return user.is_curator and can_read_post(user, post) and post.hidden_at is None


def can_manage_members(user: User, channel: Channel) -> bool:
    """Only private channels have a member list to manage; public ones are joined freely."""
    return channel.private and can_manage_channel(user, channel)


def can_mark_answer(user: User, root: Post) -> bool:
    """Accepting an answer is the asker's call, or a curator's."""
    return root.parent_id is None and can_read_post(user, root) and (root.author_id == user.id or user.is_curator)


def can_flag_post(user: User, post: Post) -> bool:
    return user.is_active and can_read_post(user, post) and post.hidden_at is None


def can_moderate(user: User, post: Post) -> bool:
    """Moderators (curators) hide and restore posts they can read, and dismiss their flags."""
    return user.is_curator and can_read_post(user, post)


def can_see_moderation_queue(user: User) -> bool:
    return user.is_curator


@reader_clause
def visible_channels_clause(user: User) -> ColumnElement[bool]:
    return or_(Channel.private.is_(False), membership.member_clause(user.id, Channel.id))


@reader_clause
def member_channels_clause(user: User) -> ColumnElement[bool]:
    """The channels ``user`` is a member of: visible_channels_clause narrowed to membership, which
    alone already implies it (membership is what opens a private channel), so one EXISTS."""
    return membership.member_clause(user.id, Channel.id)


@reader_clause
def shown_posts_clause(user: User) -> ColumnElement[bool]:
    """Posts of an already readable channel that ``user`` sees: not deleted, and not hidden by a
    moderator unless ``user`` moderates or wrote it (the SQL side of can_read_post)."""
    if user.is_curator:
        return Post.deleted_at.is_(None)
    return and_(Post.deleted_at.is_(None), or_(Post.hidden_at.is_(None), Post.author_id == user.id))


@reader_clause
def visible_posts_clause(user: User) -> ColumnElement[bool]:
    readable = select(Channel.id).where(visible_channels_clause(user))
    return and_(shown_posts_clause(user), Post.channel_id.in_(readable))


def channel_readers_clause(channel: Channel) -> ColumnElement[bool]:
    """Users who can read ``channel`` (for mention autocomplete): everyone active, or its members."""
    if not channel.private:
        return User.active.is_(True)
    members = select(channel_members.c.user_id).where(channel_members.c.channel_id == channel.id)
    return and_(User.active.is_(True), User.id.in_(members))


def access_channel(user: User, channel_id: int) -> Channel:
    channel = db.session.get(Channel, channel_id)
    if channel is None or not can_read_channel(user, channel):
        raise NotFound("Channel not found.")
    return channel


def access_post(user: User, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or not can_read_post(user, post):
        raise NotFound("Post not found.")
    return post


# --- knowledge base ---------------------------------------------------------------------------

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


# --- reader flags -----------------------------------------------------------------------------

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
    flag = db.session.get(ArticleFlag, flag_id)
    if flag is None or not can_see_flag(user, flag):
        raise NotFound("Flag not found.")
    return flag


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
    space = db.session.get(Space, space_id)
    if space is None or not can_read_space(user, space):
        raise NotFound("Space not found.")
    return space


def access_article(user: User, article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None or not can_read_article(user, article):
        raise NotFound("Article not found.")
    return article


@reader_clause
def visible_notifications_clause(user: User) -> ColumnElement[bool]:
    """The user's notifications, while they may still read the post and the article they name
    (a notification's text quotes a channel name or an article title)."""
    posts = select(Post.id).where(visible_posts_clause(user))
    articles = select(Article.id).where(visible_articles_clause(user))
    return and_(Notification.user_id == user.id,
                or_(Notification.post_id.is_(None), Notification.post_id.in_(posts)),
                or_(Notification.article_id.is_(None), Notification.article_id.in_(articles)))


def can_see_promotion(user: User, promotion: Promotion) -> bool:
    """A promotion shows its posts' redactions and its draft: its requester sees it, and so do the
    curators who may read every channel its posts are in and the space it drafts into."""
    if promotion.requester_id == user.id:
        return True
    if not user.is_curator:
        return False
    channels = db.session.scalars(select(Channel).where(
        Channel.id.in_(select(Post.channel_id).where(Post.id.in_(promotion.post_ids))))).all()
    space = db.session.get(Space, promotion.space_id) if promotion.space_id else None
    return all(can_read_channel(user, c) for c in channels) and (space is None or can_read_space(user, space))


def can_see_candidate(user: User, candidate: Candidate) -> bool:
    """The candidate queue is the curators'; each sees the candidates of posts they may read."""
    post = candidate.post
    return user.is_curator and can_read_post(user, post) and post.hidden_at is None


@reader_clause
def visible_candidates_clause(user: User) -> ColumnElement[bool]:
    if not user.is_curator:
        return false()
    readable = select(Post.id).where(visible_posts_clause(user), Post.hidden_at.is_(None))
    return Candidate.post_id.in_(readable)


# --- administration ---------------------------------------------------------------------------

def can_view_audit(user: User) -> bool:
    return user.is_admin


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise NotFound()


def can_see_content_gaps(user: User) -> bool:
    """Unanswered searches, grouped and counted (never who asked), are for curators."""
    return user.is_curator


def require_curator(user: User) -> None:
    if not user.is_curator:
        raise Forbidden("Only curators can do this.")


def no_rows() -> ColumnElement[bool]:
    return false()


def __getattr__(name: str):
    """The index side of the same rules lives in cairn.auth.acl_tokens; callers ask ``perm.*``."""
    if name in ("search_tokens", "post_acl", "article_acl"):
        from cairn.auth import acl_tokens

        return getattr(acl_tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
