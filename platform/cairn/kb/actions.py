"""Knowledge-base actions: spaces, articles, revisions, lifecycle and verification."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import NamedTuple

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import defaultload

from cairn import audit, outbox
from cairn.auth import permissions as perm
from cairn.auth.models import Group, User
from cairn.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation
from cairn.extensions import db
from cairn.kb.models import Article, ArticleRevision, ArticleSource, Space, space_groups
from cairn.kb.verification import policy_interval_days, verification_state, verify_article  # noqa: F401  (re-exported)
from cairn.models_base import utcnow
from cairn.pagination import decode_cursor, encode_cursor
from cairn.stream.actions import notify
from cairn.stream.models import Post
from cairn.text import render_markdown, slugify

# --- spaces -----------------------------------------------------------------------------------

def _groups(s, group_ids: list[int] | None) -> list[Group]:
    ids = set(group_ids or [])
    groups = list(s.scalars(select(Group).where(Group.id.in_(ids)))) if ids else []
    if len(groups) != len(ids):
        raise Invalid("Unknown group.", {"groups": ["unknown group id"]})
    return groups


def create_space(actor: User, name: str, description: str = "", group_ids: list[int] | None = None) -> Space:
    if not perm.can_manage_spaces(actor):
        raise Forbidden("Only curators can create spaces.")
    name = name.strip()
    if not name:
        raise Invalid("A space needs a name.", {"name": ["must not be empty"]})
    with db.transaction() as s:
        if s.scalar(select(Space.id).where(func.lower(Space.name) == name.lower())):
            raise Conflict("A space with this name exists.", {"name": ["already taken"]})
        space = Space(name=name, description=description, owner_id=actor.id, groups=_groups(s, group_ids))
        s.add(space)
        s.flush()
        audit.record(s, actor.id, "space.create", f"space:{space.id}", groups=sorted(group_ids or []))
    return space


UNSET = object()  # "leave as is", where None means "clear the override"


def update_space(actor: User, space_id: int, *, description: str | None = None,
                 group_ids: list[int] | None = None, owner_id: int | None = None,
                 verify_interval_days: int | None | object = UNSET) -> Space:
    """Change a space's settings (curators); every change is audited."""
    with db.transaction() as s:
        space = perm.access_space(actor, space_id)
        if not perm.can_manage_space(actor, space):
            raise Forbidden("Only curators can change spaces.")
        changed: dict[str, object] = {}
        reindex = False
        if description is not None and description != space.description:
            space.description = changed["description"] = description
        if owner_id is not None and owner_id != space.owner_id:
            owner = s.get(User, owner_id)
            if owner is None or not owner.active:
                raise Invalid("Unknown owner.", {"owner_id": ["no active user with this id"]})
            space.owner_id = changed["owner_id"] = owner.id
            space.owner = owner
        if verify_interval_days is not UNSET and verify_interval_days != space.verify_interval_days:
            space.verify_interval_days = changed["verify_interval_days"] = verify_interval_days
            reindex = True  # badges depend on the interval
        if changed:
            audit.record(s, actor.id, "space.update", f"space:{space.id}", **changed)
        if group_ids is not None and set(group_ids) != space.group_ids:
            groups = _groups(s, group_ids)
            _check_narrowing_kept(s, space, {g.id for g in groups})
            space.groups = groups
            audit.record(s, actor.id, "space.groups", f"space:{space.id}", groups=sorted(group_ids))
            reindex = True  # every article's ACL depends on its space's groups
        if reindex:
            _reindex_space(s, space)
    return space


def _reindex_space(s, space: Space) -> None:
    for article_id in s.scalars(select(Article.id).where(Article.space_id == space.id)):
        outbox.emit(s, "index", doc="article", id=article_id)


def _check_narrowing_kept(s, space: Space, group_ids: set[int]) -> None:
    """Article groups only narrow their space's: a group an article is restricted to cannot leave
    the space, or its members would read that article without being allowed into the space."""
    if not group_ids:
        return  # an open space: every article restriction still narrows it
    restricted = s.scalars(select(Article).where(Article.space_id == space.id, Article.groups.any()))
    stranded = [a for a in restricted if a.group_ids - group_ids]
    if stranded:
        raise RuleViolation(
            "Some articles are restricted to groups the space would lose: change them first.",
            {"groups": [f"article {a.id} ({a.title}) is restricted to a group not in the list"
                        for a in stranded]},
        )


def space_setting_choices(actor: User) -> tuple[list[User], list[Group]]:
    """Who may own a space and which groups may read it: the choices on the settings page."""
    if not perm.can_manage_spaces(actor):
        raise Forbidden("Only curators can change spaces.")
    users = list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)))
    return users, list(db.session.scalars(select(Group).order_by(Group.name)))


def list_spaces(actor: User) -> list[Space]:
    # the owners' groups are loaded only if something asks
    return list(db.session.scalars(select(Space).where(perm.visible_spaces_clause(actor)).order_by(Space.name)
                                   .options(defaultload(Space.owner).lazyload(User.groups))))


class SpaceLink(NamedTuple):
    """A space as every page's sidebar names it."""

    id: int
    name: str
    restricted: bool  # it has groups: only their members read it


def space_links(actor: User) -> list[SpaceLink]:
    """The spaces ``actor`` may read (as ``list_spaces``), by name, for the sidebar: one query of
    three columns instead of spaces with their owners and a second query for their groups."""
    restricted = exists().where(space_groups.c.space_id == Space.id)
    rows = db.session.execute(select(Space.id, Space.name, restricted)
                              .where(perm.visible_spaces_clause(actor)).order_by(Space.name))
    return [SpaceLink(*row) for row in rows]


# --- articles ---------------------------------------------------------------------------------

def check_article_fields(title: str | None, body: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if title is not None and not title.strip():
        errors["title"] = ["must not be empty"]
    if title is not None and len(title) > 200:
        errors["title"] = ["at most 200 characters"]
    if body is not None and len(body) > current_app.config["MAX_BODY_CHARS"]:
        errors["body"] = [f"at most {current_app.config['MAX_BODY_CHARS']} characters"]
    if errors:
        raise Invalid("The article is not valid.", errors)


def _restriction(s, space: Space, group_ids: list[int] | None) -> list[Group]:
    groups = _groups(s, group_ids)
    if space.groups and not {g.id for g in groups} <= space.group_ids:
        raise Invalid("An article can only narrow its space's groups.",
                      {"groups": ["must be a subset of the space's groups"]})
    return groups


def _unique_slug(s, space_id: int, title: str) -> str:
    base = slugify(title)
    # one query for the taken variants (a title asked many times would cost one query per copy)
    taken = set(s.scalars(select(Article.slug).where(Article.space_id == space_id,
                                                     Article.slug.startswith(base, autoescape=True))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def draft_article(s, actor: User, space: Space, title: str, body: str, tags: list[str] | None = None,
                  group_ids: list[int] | None = None, status: str = "draft",
                  note: str = "Created") -> Article:
    """Add a new article and its revision 1 to the caller's transaction."""
    article = Article(space_id=space.id, slug=_unique_slug(s, space.id, title), title=title.strip(),
                      body=body, html=render_markdown(body), tags=" ".join(tags or []), status=status,
                      author_id=actor.id, owner_id=actor.id, groups=_restriction(s, space, group_ids))
    article.space = space
    s.add(article)
    s.flush()
    s.add(ArticleRevision(article_id=article.id, number=1, title=article.title, body=body,
                          tags=article.tags, author_id=actor.id, note=note))
    audit.record(s, actor.id, "article.create", f"article:{article.id}", status=status)
    outbox.emit(s, "index", doc="article", id=article.id)
    return article


def create_article(actor: User, space_id: int, title: str, body: str, tags: list[str] | None = None,
                   group_ids: list[int] | None = None) -> Article:
    check_article_fields(title, body)
    with db.transaction() as s:
        space = perm.access_space(actor, space_id)
        if not perm.can_create_article(actor, space):
            raise Forbidden("You cannot write in this space.")
        return draft_article(s, actor, space, title, body, tags, group_ids)


def edit_article(actor: User, article_id: int, base_revision: int, *, title: str | None = None,
                 body: str | None = None, tags: list[str] | None = None,
                 group_ids: list[int] | None = None, note: str = "") -> Article:
    """Save a new numbered revision; ``base_revision`` must be the latest, else 409."""
    check_article_fields(title, body)
    with db.transaction() as s:
        article = perm.access_article(actor, article_id)
        if not perm.can_edit_article(actor, article):
            raise Forbidden("You cannot edit this article.")
        check_base_revision(article, base_revision)
        if group_ids is not None:
            article.groups = _restriction(s, article.space, group_ids)
            audit.record(s, actor.id, "article.groups", f"article:{article.id}", groups=sorted(group_ids))
        save_revision(s, actor, article, title=title, body=body, tags=tags, note=note)
    return article


def check_base_revision(article: Article, base_revision: int) -> None:
    if base_revision != article.revision:
        raise Conflict(
            f"The article changed since you opened it (now revision {article.revision}).",
            {"revision": [f"latest is {article.revision}"]},
        )


def save_revision(s, actor: User, article: Article, *, title: str | None = None, body: str | None = None,
                  tags: list[str] | None = None, note: str = "") -> ArticleRevision:
    """Apply the changes and add the next numbered, immutable revision (caller's transaction)."""
    if title is not None:
        article.title = title.strip()
    if body is not None:
        article.body, article.html = body, render_markdown(body)
    if tags is not None:
        article.tags = " ".join(sorted(set(tags)))
    article.revision += 1
    article.updated_at = utcnow()
    rev = ArticleRevision(article_id=article.id, number=article.revision, title=article.title,
                          body=article.body, tags=article.tags, author_id=actor.id, note=note)
    s.add(rev)
    outbox.emit(s, "index", doc="article", id=article.id)
    for listener in revision_listeners:
        listener(s, actor, article)
    return rev


# Called inside the revision's transaction as listener(session, actor, article) (curation tells
# the people of the source threads when a published article from chat changes).
revision_listeners: list[Callable[..., None]] = []


def transition_article(actor: User, article_id: int, to: str, note: str = "") -> Article:
    with db.transaction() as s:
        article = perm.access_article(actor, article_id)
        perm.check_transition(actor, article, to, second_approver=_policy_second_approver(),
                              last_revision_author_id=_last_author(article))
        old = article.status
        article.status = to
        article.updated_at = utcnow()
        if to == "published":
            article.published_at = article.verified_at = utcnow()
            article.needs_verification_since = None
        audit.record(s, actor.id, f"article.{to}", f"article:{article.id}", old=old, note=note)
        _finish_promotions(s, actor, article, to)
        outbox.emit(s, "index", doc="article", id=article.id)
    return article


# Called inside the transition's transaction as listener(session, actor, article, new_status).
# Curation registers one (kb must not import curation: curation builds on kb).
transition_listeners: list[Callable[..., None]] = []


def _finish_promotions(s, actor: User, article: Article, to: str) -> None:
    for listener in transition_listeners:
        listener(s, actor, article, to)


def _policy_second_approver() -> bool:
    return bool(current_app.config["POLICY"].get("publication", {}).get("require_second_approver"))


def _last_author(article: Article) -> int | None:
    return db.session.scalar(select(ArticleRevision.author_id).where(
        ArticleRevision.article_id == article.id, ArticleRevision.number == article.revision))


def transition_choices(actor: User, article: Article) -> list[tuple[str, str | None]]:
    """The lifecycle buttons for ``actor``: (to, None) to offer, (to, reason) to show refused."""
    return perm.transition_options(actor, article, second_approver=_policy_second_approver(),
                                   last_revision_author_id=_last_author(article))


def list_articles(actor: User, space_id: int | None = None, status: str | None = None,
                  cursor: str | None = None, limit: int = 50) -> tuple[list[Article], str | None]:
    q = select(Article).where(perm.visible_articles_clause(actor)).order_by(Article.id.desc()).limit(limit + 1)
    if space_id is not None:
        perm.access_space(actor, space_id)
        q = q.where(Article.space_id == space_id)
    if status:
        q = q.where(Article.status == status)
    after = decode_cursor(cursor)
    if after:
        q = q.where(Article.id < after[0])
    items = list(db.session.scalars(q))
    nxt = encode_cursor(items[limit - 1].id) if len(items) > limit else None
    return items[:limit], nxt


def revisions(actor: User, article_id: int) -> list[ArticleRevision]:
    article = perm.access_article(actor, article_id)
    return list(db.session.scalars(
        select(ArticleRevision).where(ArticleRevision.article_id == article.id).order_by(ArticleRevision.number)))


def revision(actor: User, article_id: int, number: int) -> ArticleRevision:
    article = perm.access_article(actor, article_id)
    rev = db.session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == article.id, ArticleRevision.number == number))
    if rev is None:
        raise NotFound("Revision not found.")
    return rev


def diff(actor: User, article_id: int, a: int, b: int) -> str:
    """The unified diff of two revisions' bodies (kb.revisions.compare also pairs them side by side)."""
    old, new = revision(actor, article_id, a), revision(actor, article_id, b)
    return "\n".join(difflib.unified_diff(
        old.body.splitlines(), new.body.splitlines(),
        fromfile=f"revision {a}", tofile=f"revision {b}", lineterm=""))


def sources(article: Article) -> list[ArticleSource]:
    return list(article.sources)


def notify_source_authors(s, article: Article, text: str, exclude: int | None = None) -> None:
    post_ids = [src.post_id for src in article.sources]
    authors = set(s.scalars(select(Post.author_id).where(Post.id.in_(post_ids)))) if post_ids else set()
    for uid in authors - {exclude}:
        notify(s, uid, "promotion", text, article_id=article.id)
